"""deploy/nginx/oss-local-portal.conf: nginx accepts it, and in front of a real ``portal serve``
it does what the README promises (HTTPS with HTTP/2, a 5 MB phone photo goes through, a body
past the limits gets the Thai 413 page, /metrics stays local, the client address is nginx's to
say, never the client's).

Debian's nginx runs the shipped site from a throwaway prefix (tests/deploy/nginx_site.py); the
portal runs on the test database, development settings, behind it.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from portal.app import WORKER_HEADER
from portal.db import configure_database
from tests.conftest import _empty_tables, free_port, fresh
from tests.deploy.nginx_site import SITE, NginxPrefix, lay_out, running

PHONE, E164 = "0800000971", "+66800000971"
SERVICE = "complaint"
STARTUP_S = 60


def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    layout = lay_out(tmp_path, https_port=8443, http_port=8080, upstream_port=8000)
    result = subprocess.run(  # noqa: S603
        layout.command("-t"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[emerg]" not in result.stderr and "[warn]" not in result.stderr, result.stderr


def test_nginx_refuses_a_broken_site(tmp_path: Path) -> None:
    """The check above can fail: the same layout with a typo in the site is refused."""
    layout = lay_out(tmp_path, https_port=8443, http_port=8080, upstream_port=8000)
    site = tmp_path / "oss-local-portal.conf"
    site.write_text(site.read_text().replace("client_body_timeout", "client_body_timeot"))
    result = subprocess.run(  # noqa: S603
        layout.command("-t"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "client_body_timeot" in result.stderr


def test_the_413_limits_follow_the_portals_own() -> None:
    """nginx must let through what the portal's routes accept (else phones get refused before
    the portal can answer in Thai): the form with files, one file, everything else."""
    from portal.app import MAX_BODY_BYTES
    from portal.attachments.config import FORM_WITH_FILES_MAX_BODY, ONE_FILE_MAX_BODY

    text = SITE.read_text()
    assert FORM_WITH_FILES_MAX_BODY <= 51 * 1024 * 1024 and "client_max_body_size 51m;" in text
    assert ONE_FILE_MAX_BODY <= 21 * 1024 * 1024 and "client_max_body_size 21m;" in text
    assert MAX_BODY_BYTES <= 1024 * 1024 and "client_max_body_size 1m;" in text


@dataclass(frozen=True)
class Proxied:
    base_url: str
    http_url: str
    layout: NginxPrefix
    env: dict[str, str]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.layout.trust(), timeout=60)


@pytest.fixture(scope="module")
def proxied(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """``portal serve`` on the test database, and the shipped nginx site in front of it."""
    configure_database(migrated_database)
    fresh(_empty_tables)  # no codes left by other tests' addresses
    data_dir = tmp_path_factory.mktemp("portal-behind-nginx")
    port = free_port()
    layout = lay_out(
        tmp_path_factory.mktemp("nginx"),
        https_port=free_port(),
        http_port=free_port(),
        upstream_port=port,
    )
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DATABASE_URL": migrated_database,
        "PORTAL_BASE_URL": f"https://127.0.0.1:{layout.https_port}",
        "PORTAL_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "PORTAL_SMS_BACKEND": "outbox",
        # One phone per address and hour: which address the portal saw shows in its answers.
        "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT": "1",
    }
    env.pop("PORTAL_SECRET_KEY", None)
    log = data_dir / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_S
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text())
                time.sleep(0.2)
            with running(layout) as base_url:
                yield Proxied(base_url, f"http://127.0.0.1:{layout.http_port}", layout, env, log)
        finally:
            serve.terminate()
            serve.wait(timeout=30)


def _csrf(client: httpx.Client, path: str) -> str:
    field = BeautifulSoup(client.get(path).text, "html.parser").select_one(
        "input[name=_csrf_token]"
    )
    assert field is not None, path
    return str(field["value"])


def _from(proxied: Proxied, address: str) -> httpx.Client:
    """A client whose connections leave from ``address`` (another host, as nginx sees it)."""
    transport = httpx.HTTPTransport(local_address=address, verify=proxied.layout.trust())
    return httpx.Client(base_url=proxied.base_url, transport=transport, timeout=60)


def _ask_code(client: httpx.Client, phone: str, **headers: str) -> httpx.Response:
    token = _csrf(client, f"/e-service/{SERVICE}/phone")
    return client.post(
        f"/e-service/{SERVICE}/phone",
        data={"phone": phone, "_csrf_token": token},
        headers=headers,
    )


def _latest_code(proxied: Proxied) -> str:
    """The OTP as a developer reads it (README: ``portal sms outbox``)."""
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "portal.cli", "sms", "outbox", "--to", E164, "--json"],
        env=proxied.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for message in json.loads(output):
        if message["purpose"] == "otp":
            return next(w for w in message["text"].split() if w.isdigit() and len(w) == 6)
    raise AssertionError(f"no OTP SMS for {E164}")


def phone_photo(at_least: int) -> bytes:
    """A camera-sized JPEG that does not compress (noise), at least ``at_least`` bytes."""
    width, height = 2600, 2000
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    data = out.getvalue()
    assert at_least <= len(data) < 10 * 1024 * 1024
    return data


def _is_nginx_413_page(response: httpx.Response) -> bool:
    page = BeautifulSoup(response.content.decode("utf-8"), "html.parser")
    heading = page.select_one("h1")
    return (
        response.status_code == 413
        and WORKER_HEADER not in response.headers  # nginx answered, not the portal
        and page.html is not None
        and page.html.get("lang") == "th"
        and heading is not None
        and heading.get_text() == "ไฟล์หรือรูปภาพมีขนาดใหญ่เกินไป"
        and "10 MB" in page.get_text()
        and "The file or photo is too big" in page.get_text()
    )


def test_a_5_mb_phone_photo_goes_through_nginx(proxied: Proxied) -> None:
    photo = phone_photo(at_least=5 * 1024 * 1024)
    with proxied.client() as client:
        sent = _ask_code(client, PHONE)
        assert sent.status_code == 303, sent.text
        entered = client.post(
            f"/e-service/{SERVICE}/verify",
            data={
                "code": _latest_code(proxied),
                "_csrf_token": _csrf(client, f"/e-service/{SERVICE}/verify"),
            },
        )
        assert entered.status_code == 303, entered.text
        form = BeautifulSoup(client.get(f"/e-service/{SERVICE}/form").text, "html.parser")
        key = form.select_one("input[name=submission_key]")
        token = form.select_one("input[name=_csrf_token]")
        assert key is not None and token is not None
        uploaded = client.post(
            f"/e-service/{SERVICE}/form/attachments",
            data={"submission_key": str(key["value"])},
            files={"file": ("IMG_0001.jpg", photo, "image/jpeg")},
            headers={"x-csrftoken": str(token["value"])},
        )
    assert uploaded.status_code == 200, uploaded.text[:500]
    assert uploaded.headers[WORKER_HEADER]
    page = BeautifulSoup(uploaded.text, "html.parser")
    assert len(page.select("input[name=attachment]")) == 1
    assert page.select_one("img.upload__thumb") is not None


def test_a_body_past_the_limit_gets_the_thai_413_page(proxied: Proxied) -> None:
    with proxied.client() as client:
        too_big_file = client.post(
            f"/e-service/{SERVICE}/form/attachments",
            files={"file": ("huge.jpg", b"\xff" * (22 * 1024 * 1024), "image/jpeg")},
        )
        big_sign_in = client.post("/staff/login", content=b"x" * (2 * 1024 * 1024))
        # The same 2 MB on the form route is the portal's to judge, not nginx's.
        form_route = client.post(
            f"/e-service/{SERVICE}/form",
            files={"file": ("photo.jpg", b"\xff" * (2 * 1024 * 1024), "image/jpeg")},
        )
    assert _is_nginx_413_page(too_big_file)
    assert too_big_file.headers["content-type"].startswith("text/html")
    assert "charset=utf-8" in too_big_file.headers["content-type"]
    assert _is_nginx_413_page(big_sign_in)
    assert form_route.status_code != 413  # the portal's CSRF check answered


def test_plain_http_moves_to_https_but_certbot_still_gets_its_challenge(
    proxied: Proxied,
) -> None:
    challenge = proxied.layout.prefix / "acme" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "token-123").write_text("token-123.thumbprint")
    with httpx.Client(base_url=proxied.http_url, timeout=10) as client:
        moved = client.get("/e-service/complaint?lang=en")
        acme = client.get("/.well-known/acme-challenge/token-123")
    assert moved.status_code == 301
    assert moved.headers["location"] == "https://127.0.0.1/e-service/complaint?lang=en"
    assert acme.status_code == 200 and acme.text == "token-123.thumbprint"


def test_https_offers_http2(proxied: Proxied) -> None:
    context = proxied.layout.trust()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", proxied.layout.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}


def test_metrics_are_refused_to_other_hosts(proxied: Proxied) -> None:
    with _from(proxied, "127.0.0.2") as client:
        refused = client.get("/metrics")
        home = client.get("/")
    with proxied.client() as client:
        local = client.get("/metrics")
    assert refused.status_code == 403 and "<center>nginx</center>" in refused.text
    assert home.status_code == 200
    # This machine reaches the portal, whose own rules (PORTAL_METRICS_TOKEN) then apply.
    assert "<center>nginx</center>" not in local.text


def test_the_portal_counts_the_address_nginx_saw_never_a_forged_one(proxied: Proxied) -> None:
    """Each address may ask codes for one phone an hour (the fixture's limit): two hosts are
    two addresses to the portal, and a forged X-Forwarded-For does not make a third."""
    with _from(proxied, "127.0.0.2") as first, _from(proxied, "127.0.0.3") as second:
        assert _ask_code(first, "0800000972").status_code == 303
        assert _ask_code(second, "0800000973").status_code == 303
        forged = _ask_code(first, "0800000974", **{"X-Forwarded-For": "203.0.113.9"})
    assert forged.status_code == 429
    assert WORKER_HEADER in forged.headers or "<center>nginx</center>" not in forged.text
