from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portal.settings import Settings, SettingsError, load_settings

SECRET = "settings-test-secret-that-is-long-enough"


def env(data_dir: Path, **values: str) -> dict[str, str]:
    return {"PORTAL_DATA_DIR": str(data_dir), "PORTAL_SECRET_KEY": SECRET, **values}


def test_defaults_describe_a_development_portal(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.env == "development"
    assert settings.is_development
    assert settings.data_dir == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'portal.sqlite3'}"
    assert settings.secret_key == SECRET
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.sms_backend == "outbox"
    assert settings.sms_sender == "OSS-LOCAL"
    assert settings.sms_webhook_url is None
    assert settings.sms_daily_budget == 2000
    assert settings.otp_ip_hourly_limit == 300
    assert settings.otp_ip_phones_hourly_limit == 60
    assert settings.office_name == ""


def test_values_come_from_the_environment_given(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            tmp_path,
            PORTAL_DATABASE_URL="postgresql://portal@db/portal",
            PORTAL_BASE_URL="https://eservice.example.go.th/",
            PORTAL_SMS_SENDER="TESTOFFICE",
            PORTAL_SMS_DAILY_LIMIT="500",
            PORTAL_OTP_IP_HOURLY_LIMIT="40",
            PORTAL_OTP_IP_PHONES_HOURLY_LIMIT="25",
            PORTAL_OFFICE_NAME="เทศบาลตัวอย่าง",
        )
    )
    assert settings.database_url == "postgresql://portal@db/portal"
    assert settings.base_url == "https://eservice.example.go.th"
    assert settings.sms_sender == "TESTOFFICE"
    assert settings.sms_daily_budget == 500
    assert settings.otp_ip_hourly_limit == 40
    assert settings.otp_ip_phones_hourly_limit == 25
    assert settings.office_name == "เทศบาลตัวอย่าง"


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    with pytest.raises(AttributeError):
        settings.env = "production"  # type: ignore[misc]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SECRET_KEY"):
        load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_ENV": "production"})
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_the_outbox_backend(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="outbox"):
        load_settings(env(tmp_path, PORTAL_ENV="production", PORTAL_SMS_BACKEND="outbox"))


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_ENV"):
        load_settings(env(tmp_path, PORTAL_ENV="staging"))


def test_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings(env(tmp_path, PORTAL_SECRET_KEY="x" * 31))
    assert load_settings(env(tmp_path, PORTAL_SECRET_KEY="x" * 32)).secret_key == "x" * 32


@pytest.mark.parametrize("backend", ["twilio", "webhook", "OUTBOX", ""])
def test_unknown_sms_backend_is_refused(tmp_path: Path, backend: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_BACKEND"):
        load_settings(env(tmp_path, PORTAL_SMS_BACKEND=backend))


@pytest.mark.parametrize(
    "url", ["mysql://portal@db/portal", "sqlite://relative.db", "portal.sqlite3", "http://db"]
)
def test_database_url_with_another_scheme_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_DATABASE_URL"):
        load_settings(env(tmp_path, PORTAL_DATABASE_URL=url))


@pytest.mark.parametrize("url", ["sqlite:////srv/portal.db", "postgres://portal@db/portal"])
def test_sqlite_and_postgres_urls_are_accepted(tmp_path: Path, url: str) -> None:
    assert load_settings(env(tmp_path, PORTAL_DATABASE_URL=url)).database_url == url


@pytest.mark.parametrize(
    "name",
    ["PORTAL_SMS_DAILY_LIMIT", "PORTAL_OTP_IP_HOURLY_LIMIT", "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT"],
)
@pytest.mark.parametrize("value", ["0", "-5", "1.5", "many", ""])
def test_limits_must_be_whole_numbers_of_at_least_one(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings(env(tmp_path, **{name: value}))


def _without_secret(data_dir: Path) -> Settings:
    return load_settings({"PORTAL_DATA_DIR": str(data_dir)})


def test_development_secret_is_generated_into_the_data_dir_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"
    settings = _without_secret(data_dir)
    secret_file = data_dir / "secret_key"
    assert secret_file.read_text() == settings.secret_key
    assert len(settings.secret_key) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_development_secret_is_reused_on_the_next_start(tmp_path: Path) -> None:
    first = _without_secret(tmp_path)
    second = _without_secret(tmp_path)
    assert second.secret_key == first.secret_key
    assert _without_secret(tmp_path / "elsewhere").secret_key != first.secret_key


def test_empty_development_secret_file_never_becomes_the_key(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    try:
        settings = _without_secret(tmp_path)
    except SettingsError:
        return  # refusing to start is as good as generating a fresh secret
    assert len(settings.secret_key) >= 32


def test_given_secret_key_writes_no_secret_file(tmp_path: Path) -> None:
    load_settings(env(tmp_path))
    assert not (tmp_path / "secret_key").exists()


def test_derived_keys_differ_per_purpose_and_are_32_bytes(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    keys = {purpose: settings.derive_key(purpose) for purpose in ("otp-code", "csrf", "session")}
    assert all(len(key) == 32 for key in keys.values())
    assert len(set(keys.values())) == 3
    assert settings.derive_key("otp-code") == keys["otp-code"]
    assert SECRET.encode() not in keys["otp-code"]


def test_derived_keys_change_with_the_secret(tmp_path: Path) -> None:
    one = load_settings(env(tmp_path))
    other = load_settings(env(tmp_path, PORTAL_SECRET_KEY="another-secret-that-is-long-enough-too"))
    assert one.derive_key("csrf") != other.derive_key("csrf")


def test_processes_starting_together_share_one_development_secret(tmp_path: Path) -> None:
    """`portal serve --workers 2` and `portal sms worker` start at once in one data dir."""
    from concurrent.futures import ThreadPoolExecutor

    from portal.settings import _dev_secret

    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets_seen = set(pool.map(lambda _: _dev_secret(tmp_path), range(8)))
    assert len(secrets_seen) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_request_body_timeouts_default_and_come_from_the_environment(tmp_path: Path) -> None:
    defaults = load_settings(env(tmp_path))
    assert (defaults.body_idle_timeout_s, defaults.body_deadline_s) == (10, 30)
    given = load_settings(env(tmp_path, PORTAL_BODY_IDLE_TIMEOUT="3", PORTAL_BODY_DEADLINE="7"))
    assert (given.body_idle_timeout_s, given.body_deadline_s) == (3, 7)
    for name in ("PORTAL_BODY_IDLE_TIMEOUT", "PORTAL_BODY_DEADLINE"):
        with pytest.raises(SettingsError, match=name):
            load_settings(env(tmp_path, **{name: "0"}))
