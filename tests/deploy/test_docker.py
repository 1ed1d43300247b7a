"""deploy/Dockerfile and deploy/compose.yaml, read without a Docker daemon.

CI builds the image only where ``docker info`` answers (.ci/run says when it does not); these
checks run everywhere: the files name what exists in the repository and keep the promises of
the README (slim, non-root, locked dependencies with hashes, the wheel alone, Thai fonts,
``/readyz`` as the health check, two workers and an SMS worker on PostgreSQL).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.deploy.nginx_site import DEPLOY, ROOT

DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), " ".join(arguments.split())))
    return found


def stages(path: Path) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(path):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, arguments))
    return result


def test_the_image_is_slim_python_the_project_supports() -> None:
    build, final = stages(DOCKERFILE)
    image = final[0][1]
    assert re.fullmatch(r"python:3\.(\d+)-slim(-bookworm)?", image), image
    minor = int(image.split(".")[1].split("-")[0])
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Version(f"3.{minor}") in SpecifierSet(requires), requires
    assert build[0][1].endswith(" AS build")


def test_the_image_runs_as_a_user_of_its_own_with_the_thai_fonts() -> None:
    final = stages(DOCKERFILE)[-1]
    users = [arguments for keyword, arguments in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    keywords = [keyword for keyword, _ in final]
    assert keywords.index("USER") < keywords.index("CMD")
    runs = " ".join(arguments for keyword, arguments in final if keyword == "RUN")
    assert "fonts-thai-tlwg" in runs and "--no-install-recommends" in runs
    assert "useradd --system" in runs


def test_dependencies_come_from_the_hashed_lock_and_the_wheel_alone() -> None:
    final = stages(DOCKERFILE)[-1]
    runs = [arguments for keyword, arguments in final if keyword == "RUN"]
    assert any("--require-hashes -r /tmp/runtime.txt" in run for run in runs)
    assert any("--no-deps /tmp/dist/*.whl" in run for run in runs)
    copies = [arguments for keyword, arguments in final if keyword == "COPY"]
    assert "requirements/runtime.txt /tmp/runtime.txt" in copies
    assert "--from=build /src/dist/ /tmp/dist/" in copies
    for source in ("requirements/runtime.txt", "scripts/build", "package-lock.json"):
        assert (ROOT / source).is_file(), source


def test_the_build_stage_uses_the_uv_pinned_in_pyproject() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = next(d for d in extras["optional-dependencies"]["test"] if d.startswith("uv=="))
    build = stages(DOCKERFILE)[0]
    runs = " ".join(arguments for keyword, arguments in build if keyword == "RUN")
    assert pinned in runs and "scripts/build" in runs


def test_health_is_readyz_and_the_portal_serves_two_workers() -> None:
    final = dict(stages(DOCKERFILE)[-1])
    assert "http://127.0.0.1:8000/readyz" in final["HEALTHCHECK"]
    assert "curl" not in final["HEALTHCHECK"]  # not in the slim image
    assert final["CMD"] == (
        '["portal", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]'
    )


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for entry in (".env", ".venv", "var", ".git", "node_modules", "dist"):
        assert entry in ignored, entry


def test_compose_runs_postgres_the_portal_and_the_sms_worker() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"db", "portal", "sms-worker"}
    assert services["db"]["image"] == "postgres:15"
    portal, worker = services["portal"], services["sms-worker"]
    assert portal["command"][:2] == ["portal", "serve"]
    assert portal["command"][-2:] == ["--workers", "2"]
    assert worker["command"] == ["portal", "sms", "worker"]
    assert "/readyz" in " ".join(portal["healthcheck"]["test"])
    assert worker["healthcheck"] == {"disable": True}
    for service in (portal, worker):
        assert service["env_file"] == ".env"
        assert service["environment"]["PORTAL_SMS_DISPATCH"] == "worker"
        assert service["environment"]["PORTAL_DATABASE_URL"].endswith("@db:5432/portal")
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert "portal-data:/var/lib/oss-local-portal" in service["volumes"]
    assert portal["ports"] == ["127.0.0.1:8000:8000"]  # nginx on the host in front
    gateway = compose["networks"]["default"]["ipam"]["config"][0]["gateway"]
    assert portal["environment"]["PORTAL_FORWARDED_ALLOW_IPS"] == gateway
