"""``portal check``: one OK/WARN/FAIL line per item, exit 1 on any FAIL, never a traceback."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import respx

from portal.cli import main
from portal.ops.checks import redact_url, secret_strength
from tests.cli.conftest import run_portal
from tests.conftest import free_port

STRONG_SECRET = secrets.token_urlsafe(48)
TWILIO_ACCOUNT_URL = "https://api.twilio.com/2010-04-01/Accounts/AC-test-account.json"
TBS_CREDIT_URL = "https://api-v2.thaibulksms.com/credit"
TBS_KEY, TBS_SECRET = "tbs-test-key", "tbs-test-secret-0123"
Check = Callable[..., tuple[int, dict[str, str], str]]


def _production_env(data_dir: Path, database: str) -> dict[str, str]:
    """A production configuration that passes every check (fake gateway credentials)."""
    return {
        "PORTAL_ENV": "production",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DATABASE_URL": database,
        "PORTAL_SECRET_KEY": STRONG_SECRET,
        "PORTAL_BASE_URL": "https://eservice.example.go.th",
        "PORTAL_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "PORTAL_SMS_BACKEND": "twilio",
        "PORTAL_SMS_TWILIO_ACCOUNT_SID": "AC-test-account",
        "PORTAL_SMS_TWILIO_AUTH_TOKEN": "test-auth-token",
        "PORTAL_SMS_LINK_BASE_URL": "https://oss.go.th",  # every SMS one part
        "PORTAL_OFFICE_PHONE": "0 2123 4567",  # the contact page's number to call
    }


@pytest.fixture(autouse=True)
def gateway() -> Iterator[respx.MockRouter]:
    """The SMS gateways, mocked: Twilio takes the test credentials; a request nobody set up a
    route for fails the test (nothing leaves the test process)."""
    with respx.mock(assert_all_called=False) as router:
        router.get(TWILIO_ACCOUNT_URL, name="twilio").respond(200, json={"status": "active"})
        yield router


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Check:
    """Run ``portal check OPTIONS`` with ``env`` set: (exit code, {item: status}, the output)."""

    def run(env: dict[str, str], *options: str) -> tuple[int, dict[str, str], str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = main(["check", *options])
        captured = capsys.readouterr()
        statuses = {}
        for line in captured.out.splitlines()[:-1]:
            status, rest = line.split(None, 1)
            statuses[rest.split(":", 1)[0]] = status
        return code, statuses, captured.out + captured.err

    return run


@pytest.fixture
def production_env(tmp_path: Path, database: str) -> dict[str, str]:
    """``_production_env`` for this test's folder and the test database (a dict of its own)."""
    return _production_env(tmp_path, database)


ALL_OK = {
    "configuration": "OK",
    "database": "OK",
    "migrations": "OK",
    "secret": "OK",
    "sms": "OK",
    "sms links": "OK",
    "sms credentials (twilio)": "OK",
    "office contact": "OK",
    "receipt font": "OK",
    "data dir": "OK",
    "base url": "OK",
}


def test_a_good_production_configuration_passes_every_check(
    check: Check, production_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    code, statuses, out = check(production_env)
    assert (code, statuses) == (0, ALL_OK), out
    assert out.splitlines()[-1] == "ready"
    assert "PORTAL_SMS_BACKEND=twilio, credentials present" in out
    assert "OK   sms credentials (twilio): accepted (account active)" in out
    assert gateway.routes["twilio"].call_count == 1
    assert STRONG_SECRET not in out


def test_development_defaults_pass_once_migrated(
    check: Check, tmp_path: Path, database: str
) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path / "var"), "PORTAL_DATABASE_URL": database}
    code, statuses, out = check(env)
    expected = {**ALL_OK, "sms credentials (outbox)": "SKIP"}
    del expected["sms credentials (twilio)"]
    assert (code, statuses) == (0, expected), out
    assert "SKIP sms credentials (outbox): outbox: nothing is sent, nothing to check" in out
    assert "secret: generated in PORTAL_DATA_DIR (development)" in out


def test_production_without_an_office_phone_is_a_warning(
    check: Check, production_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    env = production_env
    del env["PORTAL_OFFICE_PHONE"]
    code, statuses, out = check(env)
    assert (code, statuses) == (0, {**ALL_OK, "office contact": "WARN"}), out
    assert "PORTAL_OFFICE_PHONE is not set" in out


def test_https_without_trusted_proxy_addresses_is_a_warning_not_a_failure(
    check: Check, production_env: dict[str, str]
) -> None:
    env = production_env
    env["PORTAL_FORWARDED_ALLOW_IPS"] = ""
    code, statuses, out = check(env)
    assert (code, statuses) == (0, {**ALL_OK, "proxy": "WARN"}), out
    assert "WARN proxy: PORTAL_FORWARDED_ALLOW_IPS is empty" in out
    assert out.splitlines()[-1] == "ready (1 warning(s))"


@pytest.mark.parametrize(
    ("override", "failed", "says"),
    [
        (
            {"PORTAL_SECRET_KEY": "short-secret"},
            {"configuration", "secret"},
            "FAIL secret: PORTAL_SECRET_KEY is weak: only 12 characters",
        ),
        (
            {"PORTAL_SECRET_KEY": "ab" * 20},
            {"secret"},
            "only 2 different character(s)",
        ),
        (
            {"PORTAL_SECRET_KEY": "change-me-to-a-long-random-string-0123456789"},
            {"secret"},
            "looks like a placeholder",
        ),
        (
            {"PORTAL_BASE_URL": "http://eservice.example.go.th"},
            {"base url"},
            "FAIL base url: PORTAL_BASE_URL=http://eservice.example.go.th must start with https://",
        ),
    ],
)
def test_each_bad_setting_fails_its_own_check(
    check: Check,
    production_env: dict[str, str],
    override: dict[str, str],
    failed: set[str],
    says: str,
) -> None:
    env = {**production_env, **override}
    code, statuses, out = check(env)
    assert code == 1
    assert {name for name, status in statuses.items() if status == "FAIL"} == failed, out
    assert says in out
    assert out.splitlines()[-1].startswith(f"{len(failed)} check(s) failed")


def test_a_missing_receipt_font_fails(
    check: Check, production_env: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "fonts"
    empty.mkdir()
    env = {**production_env, "PORTAL_RECEIPT_FONT_DIR": str(empty)}
    code, statuses, out = check(env)
    assert (code, statuses) == (1, {**ALL_OK, "receipt font": "FAIL"}), out
    assert f"FAIL receipt font: receipt PDF: no Thai font in {empty}" in out
    assert "PORTAL_RECEIPT_FONT_DIR" in out


def test_a_data_dir_that_cannot_be_written_fails(
    check: Check, tmp_path: Path, database: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data_dir = blocker / "var"  # a file in the way stops any user, root too
    code, statuses, out = check(_production_env(data_dir, database))
    assert (code, statuses) == (1, {**ALL_OK, "data dir": "FAIL"}), out
    assert f"FAIL data dir: PORTAL_DATA_DIR {data_dir} is not writable: Not a directory" in out


def test_a_fresh_database_fails_the_migrations_check(check: Check, tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code, statuses, out = check(_production_env(tmp_path, fresh))
    assert (code, statuses) == (1, {**ALL_OK, "migrations": "FAIL"}), out
    assert "not applied" in out
    assert "run `portal migrate`" in out


def test_an_unreachable_database_fails_without_showing_its_password(
    check: Check, tmp_path: Path
) -> None:
    url = f"postgresql://portal:hunter2-password@127.0.0.1:{free_port()}/portal"
    code, statuses, out = check(_production_env(tmp_path, url))
    assert (code, statuses) == (1, {**ALL_OK, "database": "FAIL", "migrations": "SKIP"}), out
    assert "FAIL database: cannot reach postgresql://portal@127.0.0.1:" in out
    assert "hunter2" not in out


def test_a_bad_configuration_still_checks_the_rest(
    check: Check, production_env: dict[str, str]
) -> None:
    env = {**production_env, "PORTAL_SMS_TWILIO_AUTH_TOKEN": ""}
    code, statuses, out = check(env)
    assert code == 1
    expected = {
        **ALL_OK,
        "configuration": "FAIL",
        "sms": "SKIP",
        "sms links": "SKIP",
        "office contact": "SKIP",
    }
    del expected["sms credentials (twilio)"]  # nothing to ask without a configuration
    assert statuses == expected, out
    assert "PORTAL_SMS_BACKEND=twilio needs PORTAL_SMS_TWILIO_AUTH_TOKEN" in out


def test_unreachable_database_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    url = f"postgresql://portal:pw@127.0.0.1:{free_port()}/portal"
    done = run_portal("check", cwd=tmp_path, env={"PORTAL_DATABASE_URL": url})
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr == ""
    assert any(line.startswith("FAIL database: cannot reach") for line in done.stdout.splitlines())


def test_redact_url_keeps_everything_but_the_password() -> None:
    assert (
        redact_url("postgresql://portal:pw@db:5432/portal") == "postgresql://portal@db:5432/portal"
    )
    assert redact_url("sqlite:///var/portal.sqlite3") == "sqlite:///var/portal.sqlite3"


def test_a_generated_secret_is_strong() -> None:
    assert secret_strength(secrets.token_urlsafe(32)) is None
    assert secret_strength(secrets.token_hex(16)) is None


@pytest.fixture
def thaibulksms_env(production_env: dict[str, str]) -> dict[str, str]:
    return {
        **production_env,
        "PORTAL_SMS_BACKEND": "thaibulksms",
        "PORTAL_SMS_THAIBULKSMS_API_KEY": TBS_KEY,
        "PORTAL_SMS_THAIBULKSMS_API_SECRET": TBS_SECRET,
    }


def test_thaibulksms_credentials_are_checked_by_asking_for_the_credit(
    check: Check, thaibulksms_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    credit = gateway.get(TBS_CREDIT_URL).respond(200, json={"remaining_credit": 1234})
    code, statuses, out = check(thaibulksms_env)
    assert (code, statuses["sms credentials (thaibulksms)"]) == (0, "OK"), out
    assert "OK   sms credentials (thaibulksms): accepted (credit 1234)" in out
    request = credit.calls.last.request
    assert (request.method, str(request.url)) == ("GET", TBS_CREDIT_URL)
    assert request.headers["authorization"] == _basic(TBS_KEY, TBS_SECRET)
    assert credit.call_count == 1
    assert not gateway.routes["twilio"].called  # only the configured gateway is asked


def test_refused_credentials_fail_naming_the_variables_never_the_secret(
    check: Check, thaibulksms_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    body = {"error": {"code": 401, "name": "UNAUTHORIZED", "description": TBS_SECRET}}
    gateway.get(TBS_CREDIT_URL).respond(401, json=body)
    code, statuses, out = check(thaibulksms_env)
    assert code == 1
    assert [name for name, status in statuses.items() if status == "FAIL"] == [
        "sms credentials (thaibulksms)"
    ], out
    assert (
        "FAIL sms credentials (thaibulksms): the gateway refused PORTAL_SMS_THAIBULKSMS_API_KEY"
        " / PORTAL_SMS_THAIBULKSMS_API_SECRET (HTTP 401)\n"
    ) in out
    assert TBS_SECRET not in out
    assert "Traceback" not in out
    assert out.splitlines()[-1].startswith("1 check(s) failed")


def test_an_unreachable_gateway_is_one_fail_line(
    check: Check, production_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    gateway.routes["twilio"].side_effect = httpx.ConnectError("All connection attempts failed")
    code, statuses, out = check(production_env)
    assert (code, statuses) == (1, {**ALL_OK, "sms credentials (twilio)": "FAIL"}), out
    lines = [line for line in out.splitlines() if "sms credentials" in line]
    assert lines == [
        "FAIL sms credentials (twilio): could not reach the gateway: All connection attempts failed"
    ]
    assert "Traceback" not in out


def test_the_fallback_gateway_is_checked_too(
    check: Check, thaibulksms_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    credit = gateway.get(TBS_CREDIT_URL).respond(401, json={"error": "Unauthorized"})
    env = {**thaibulksms_env, "PORTAL_SMS_BACKEND": "twilio"}
    env["PORTAL_SMS_FALLBACK_BACKEND"] = "thaibulksms"
    code, statuses, out = check(env)
    assert code == 1
    assert statuses["sms credentials (twilio)"] == "OK", out
    assert statuses["sms credentials (thaibulksms)"] == "FAIL", out
    assert "the gateway refused PORTAL_SMS_THAIBULKSMS_API_KEY" in out
    assert (gateway.routes["twilio"].call_count, credit.call_count) == (1, 1)
    twilio_request = gateway.routes["twilio"].calls.last.request
    assert twilio_request.headers["authorization"] == _basic("AC-test-account", "test-auth-token")


def test_offline_asks_no_gateway(
    check: Check, thaibulksms_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    credit = gateway.get(TBS_CREDIT_URL).respond(401)
    env = {**thaibulksms_env, "PORTAL_SMS_FALLBACK_BACKEND": "twilio"}
    code, statuses, out = check(env, "--offline")
    skipped = {"sms credentials (thaibulksms)": "SKIP", "sms credentials (twilio)": "SKIP"}
    assert (code, statuses) == (0, {**ALL_OK, **skipped}), out
    assert not credit.called
    assert not gateway.routes["twilio"].called
    assert "SKIP sms credentials (thaibulksms): not asked (--offline)" in out
    assert "SKIP sms credentials (twilio): not asked (--offline)" in out


def test_a_webhook_gateway_is_skipped_not_called(
    check: Check, production_env: dict[str, str], gateway: respx.MockRouter
) -> None:
    webhook = gateway.route(url__startswith="https://sms.example.go.th/").respond(200)
    env = {**production_env, "PORTAL_SMS_BACKEND": "webhook"}
    env["PORTAL_SMS_WEBHOOK_URL"] = "https://sms.example.go.th/send"
    code, statuses, out = check(env)
    assert (code, statuses["sms credentials (webhook)"]) == (0, "SKIP"), out
    assert "SKIP sms credentials (webhook): webhook: not checked without sending" in out
    assert not webhook.called


def test_the_help_documents_offline(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--help"])
    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--offline do not call the SMS gateway to check its credentials" in help_text
