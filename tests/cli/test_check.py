"""``portal check``: one OK/WARN/FAIL line per item, exit 1 on any FAIL, never a traceback."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import pytest

from portal.cli import main
from portal.ops.checks import redact_url, secret_strength
from tests.cli.conftest import run_portal

STRONG_SECRET = secrets.token_urlsafe(48)


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
    }


def _check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, dict[str, str], str]:
    """Run ``portal check``; (exit code, {item: status}, the whole output)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["check"])
    captured = capsys.readouterr()
    statuses = {}
    for line in captured.out.splitlines()[:-1]:
        status, rest = line.split(None, 1)
        statuses[rest.split(":", 1)[0]] = status
    return code, statuses, captured.out + captured.err


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


ALL_OK = {
    "configuration": "OK",
    "database": "OK",
    "migrations": "OK",
    "secret": "OK",
    "sms": "OK",
    "receipt font": "OK",
    "data dir": "OK",
    "base url": "OK",
}


def test_a_good_production_configuration_passes_every_check(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    code, statuses, out = _check(monkeypatch, capsys, _production_env(tmp_path, database))
    assert (code, statuses) == (0, ALL_OK), out
    assert out.splitlines()[-1] == "ready"
    assert "PORTAL_SMS_BACKEND=twilio, credentials present" in out
    assert STRONG_SECRET not in out


def test_development_defaults_pass_once_migrated(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path / "var"), "PORTAL_DATABASE_URL": database}
    code, statuses, out = _check(monkeypatch, capsys, env)
    assert (code, statuses) == (0, ALL_OK), out
    assert "secret: generated in PORTAL_DATA_DIR (development)" in out


def test_https_without_trusted_proxy_addresses_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    env = _production_env(tmp_path, database)
    env["PORTAL_FORWARDED_ALLOW_IPS"] = ""
    code, statuses, out = _check(monkeypatch, capsys, env)
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
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
    override: dict[str, str],
    failed: set[str],
    says: str,
) -> None:
    env = {**_production_env(tmp_path, database), **override}
    code, statuses, out = _check(monkeypatch, capsys, env)
    assert code == 1
    assert {name for name, status in statuses.items() if status == "FAIL"} == failed, out
    assert says in out
    assert out.splitlines()[-1].startswith(f"{len(failed)} check(s) failed")


def test_a_missing_receipt_font_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    empty = tmp_path / "fonts"
    empty.mkdir()
    env = {**_production_env(tmp_path, database), "PORTAL_RECEIPT_FONT_DIR": str(empty)}
    code, statuses, out = _check(monkeypatch, capsys, env)
    assert (code, statuses) == (1, {**ALL_OK, "receipt font": "FAIL"}), out
    assert f"FAIL receipt font: receipt PDF: no Thai font in {empty}" in out
    assert "PORTAL_RECEIPT_FONT_DIR" in out


def test_a_data_dir_that_cannot_be_written_fails(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data_dir = blocker / "var"  # a file in the way stops any user, root too
    code, statuses, out = _check(monkeypatch, capsys, _production_env(data_dir, database))
    assert (code, statuses) == (1, {**ALL_OK, "data dir": "FAIL"}), out
    assert f"FAIL data dir: PORTAL_DATA_DIR {data_dir} is not writable: Not a directory" in out


def test_a_fresh_database_fails_the_migrations_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    code, statuses, out = _check(monkeypatch, capsys, _production_env(tmp_path, fresh))
    assert (code, statuses) == (1, {**ALL_OK, "migrations": "FAIL"}), out
    assert "not applied" in out
    assert "run `portal migrate`" in out


def test_an_unreachable_database_fails_without_showing_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"postgresql://portal:hunter2-password@127.0.0.1:{_closed_port()}/portal"
    code, statuses, out = _check(monkeypatch, capsys, _production_env(tmp_path, url))
    assert (code, statuses) == (1, {**ALL_OK, "database": "FAIL", "migrations": "SKIP"}), out
    assert "FAIL database: cannot reach postgresql://portal@127.0.0.1:" in out
    assert "hunter2" not in out


def test_a_bad_configuration_still_checks_the_rest(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    env = {**_production_env(tmp_path, database), "PORTAL_SMS_TWILIO_AUTH_TOKEN": ""}
    code, statuses, out = _check(monkeypatch, capsys, env)
    assert code == 1
    assert statuses == {**ALL_OK, "configuration": "FAIL", "sms": "SKIP"}, out
    assert "PORTAL_SMS_BACKEND=twilio needs PORTAL_SMS_TWILIO_AUTH_TOKEN" in out


def test_unreachable_database_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    url = f"postgresql://portal:pw@127.0.0.1:{_closed_port()}/portal"
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
