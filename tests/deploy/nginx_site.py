"""The shipped nginx site, laid out in a throwaway prefix so Debian's nginx can test and run it.

nginx checks a site only inside a whole configuration (``http {}``, pid, logs, temp paths), and
the site names the operator's certificate and ports. Here the certificate is a fresh self-signed
one, the placeholders become paths and ports under the test's own folder, and nothing else of
the site changes: what is tested is the file an operator copies.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "oss-local-portal.conf"
PAGE_413 = DEPLOY / "nginx" / "413.html"
CERT_DIR = "/etc/letsencrypt/live/portal.example.go.th/"
PAGE_413_PATH = "/var/www/oss-local-portal/413.html"
ACME_ROOT = "/var/www/letsencrypt"
UPSTREAM = "127.0.0.1:8000"
STARTUP_S = 20


def nginx_binary() -> str:
    """Debian's nginx (package ``nginx``); a clear failure, never a skip, when it is missing."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found, "nginx is not installed: apt-get install --no-install-recommends nginx"
    return found


def self_signed(directory: Path) -> None:
    """``fullchain.pem`` and ``privkey.pem`` for 127.0.0.1, as certbot names them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _replace_once(text: str, old: str, new: str) -> str:
    assert old in text, f"the shipped site no longer contains {old!r}"
    return text.replace(old, new)


def localised_site(prefix: Path, *, https_port: int, http_port: int, upstream_port: int) -> str:
    """The shipped site with its certificate, page and ports moved under ``prefix``."""
    text = SITE.read_text(encoding="utf-8")
    text = _replace_once(text, CERT_DIR, f"{prefix / 'cert'}/")
    text = _replace_once(text, PAGE_413_PATH, str(prefix / "www" / "413.html"))
    text = _replace_once(text, ACME_ROOT, str(prefix / "acme"))
    text = _replace_once(text, UPSTREAM, f"127.0.0.1:{upstream_port}")
    text = _replace_once(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = _replace_once(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace_once(text, "listen [::]:443 ssl http2;\n", "")
    return _replace_once(text, "listen [::]:80;\n", "")


@dataclass(frozen=True)
class NginxPrefix:
    prefix: Path
    conf: Path
    https_port: int
    http_port: int

    def trust(self) -> ssl.SSLContext:
        """TLS that trusts this prefix's own certificate, and only it (hostname checked)."""
        return ssl.create_default_context(cafile=self.prefix / "cert" / "fullchain.pem")

    @property
    def error_log(self) -> Path:
        return self.prefix / "logs" / "error.log"

    def command(self, *extra: str) -> list[str]:
        return [
            nginx_binary(),
            "-p",
            f"{self.prefix}/",
            "-c",
            str(self.conf),
            "-e",
            str(self.error_log),
            *extra,
        ]


def lay_out(prefix: Path, *, https_port: int, http_port: int, upstream_port: int) -> NginxPrefix:
    """A whole nginx configuration whose ``http {}`` includes the localised site."""
    for folder in ("logs", "temp", "www", "acme"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    self_signed(prefix / "cert")
    shutil.copy(PAGE_413, prefix / "www" / "413.html")
    site = prefix / "oss-local-portal.conf"
    site.write_text(
        localised_site(
            prefix, https_port=https_port, http_port=http_port, upstream_port=upstream_port
        ),
        encoding="utf-8",
    )
    temp = prefix / "temp"
    # One process that never changes user: it runs as whoever runs the tests (root in CI).
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix / "logs" / "access.log"};
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    include {site};
}}
""",
        encoding="utf-8",
    )
    return NginxPrefix(prefix, conf, https_port, http_port)


@contextmanager
def running(layout: NginxPrefix) -> Iterator[str]:
    """nginx in the foreground for the ``with`` block; yields its HTTPS base URL."""
    process = subprocess.Popen(  # noqa: S603
        layout.command(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    base_url = f"https://127.0.0.1:{layout.https_port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                httpx.get(base_url + "/", verify=layout.trust(), timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(layout.error_log.read_text()) from None
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=20)
