"""deploy/systemd/: every unit passes ``systemd-analyze verify``, and each runs the command and
settings the README's production section describes.

``systemd-analyze verify`` needs no running systemd (it loads the files offline) but checks
that each ``ExecStart`` binary exists and is executable: the units name the operator's
``/opt/oss-local-portal/bin/portal``, which this test points at a stub of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.deploy.nginx_site import DEPLOY

UNITS = DEPLOY / "systemd"
PORTAL = "/opt/oss-local-portal/bin/portal"
SERVICES = {
    "portal.service": "serve --host 127.0.0.1 --port 8000 --workers 2",
    "portal-sms-worker.service": "sms worker",
    "portal-purge.service": "purge",
    "portal-attachments-clean.service": "attachments clean",
}
TIMERS = {"portal-purge.timer": "*-*-* 03:15:00", "portal-attachments-clean.timer": "hourly"}


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    assert found, "systemd-analyze is missing: apt-get install systemd"
    return found


def _verify(folder: Path) -> subprocess.CompletedProcess[str]:
    units = sorted(str(path) for path in folder.iterdir() if path.suffix in {".service", ".timer"})
    return subprocess.run(  # noqa: S603
        [_systemd_analyze(), "verify", "--man=no", "--generators=no", *units],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_with_stub(tmp_path: Path) -> Path:
    stub = tmp_path / "bin" / "portal"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS.iterdir():
        (units / unit.name).write_text(unit.read_text().replace(PORTAL, str(stub)))
    return units


Unit = dict[str, dict[str, list[str]]]


def _unit(name: str) -> Unit:
    """section -> key -> every value (systemd allows a key more than once, e.g. Environment)."""
    sections: Unit = {}
    current: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key, []).append(value)
    return sections


def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    assert {path.name for path in UNITS.iterdir()} == set(SERVICES) | set(TIMERS)
    result = _verify(_copy_with_stub(tmp_path))
    assert result.returncode == 0, result.stderr
    # Unknown keys and unsafe settings are only warnings: any output is a finding.
    assert result.stdout == "" and result.stderr == "", result.stderr


def test_verify_catches_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and a missing binary are reported."""
    units = _copy_with_stub(tmp_path)
    service = units / "portal.service"
    service.write_text(service.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    assert "Unknown key 'NoNewPrivilege'" in _verify(units).stderr
    (tmp_path / "bin" / "portal").unlink()
    assert _verify(units).returncode != 0


def test_services_run_the_portal_as_its_own_user_with_the_env_file() -> None:
    for name, arguments in SERVICES.items():
        service = _unit(name)["Service"]
        assert service["ExecStart"] == [f"{PORTAL} {arguments}"], name
        assert service["User"] == ["portal"]
        assert service["Environment"] == [
            "PORTAL_ENV_FILE=/etc/oss-local-portal/portal.env",
            "PORTAL_DATA_DIR=/var/lib/oss-local-portal",
        ]
        # Hardened: nothing but the data dir is writable, no privilege gained.
        assert service["ProtectSystem"] == ["strict"]
        assert service["ReadWritePaths"] == ["/var/lib/oss-local-portal"]
        assert service["StateDirectory"] == ["oss-local-portal"]
        assert service["NoNewPrivileges"] == ["yes"]
        assert service["PrivateTmp"] == ["yes"]
        assert service["CapabilityBoundingSet"] == [""]


def test_long_running_services_restart_and_jobs_run_on_timers() -> None:
    for name in ("portal.service", "portal-sms-worker.service"):
        assert _unit(name)["Service"]["Restart"] == ["on-failure"]
        assert _unit(name)["Install"]["WantedBy"] == ["multi-user.target"]
    for name, calendar in TIMERS.items():
        timer = _unit(name)
        assert timer["Timer"]["OnCalendar"] == [calendar]
        assert timer["Timer"]["Persistent"] == ["true"]
        assert timer["Install"]["WantedBy"] == ["timers.target"]
        service = _unit(name.replace(".timer", ".service"))
        assert service["Service"]["Type"] == ["oneshot"]
        assert "Install" not in service  # started by its timer only
