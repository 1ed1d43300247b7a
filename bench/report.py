"""The benchmark's Markdown summary, its targets (issue 6) and py-spy profile summaries."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

SUBMISSIONS_TARGET = 1500
JOURNEY_SHARE_TARGET = 0.40
P95_TARGET_MS = 50
P99_TARGET_MS = 200
SCALING_TARGET = 1.6
_LINE = re.compile(r":\d+\)")


def _frame(raw: str) -> str:
    """``function (path/to/file.py:123)`` -> ``function (file.py)``."""
    name, _, where = raw.partition(" (")
    where = _LINE.sub(")", where)
    return f"{name} ({where.rsplit('/', 1)[-1]}" if where else name


def summarise_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Where a worker spent its time: by innermost frame (self) and by portal function (total).

    py-spy's ``raw`` format is one collapsed stack per line with its sample count.
    """
    if not path.exists():
        return {"error": "no profile written"}
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_area: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[_frame(frames[-1])] += samples
        seen = {_frame(f) for f in frames if _path(f).startswith("portal/")}
        for name in seen:
            inclusive[name] += samples
        by_area[_area(frames)] += samples
    share = lambda n: round(100 * n / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "self_percent": {name: share(n) for name, n in own.most_common(top)},
        "portal_total_percent": {name: share(n) for name, n in inclusive.most_common(top)},
        "area_percent": {name: share(n) for name, n in by_area.most_common()},
    }


_AREAS = (
    (("sqlite3/", "sqlite_engine.py"), "database driver (sqlite3)"),
    (("asyncpg/",), "database driver (asyncpg)"),
    (("piccolo/",), "Piccolo (building queries, reading rows)"),
    (("jinja2/", "markupsafe/", ".html"), "Jinja templates"),
    (("gzip.py", "zlib"), "gzip compression"),
    (("cryptography/", "hmac.py", "hashlib", "argon2/", "secrets.py"), "cryptography"),
    (("litestar/", "msgspec/", "litestar_htmx/"), "Litestar (routing, middleware, sessions)"),
    (("logging/",), "logging (the access log)"),
    (("uvicorn/", "httptools"), "uvicorn (HTTP, proxy headers)"),
    (("portal/",), "portal code"),
    (("concurrent/", "threading.py", "asyncio/futures.py"), "handing work to threads"),
)


def _path(frame: str) -> str:
    return frame.rpartition(" (")[2].rstrip(")")


def _area(frames: list[str]) -> str:
    """A coarse bucket for one sample: the innermost frame that belongs to a known part."""
    for frame in reversed(frames):
        path = _path(frame)
        for needles, area in _AREAS:
            if any(path.startswith(n) or f"/{n}" in path or n in path for n in needles):
                return area
    return "event loop and Python runtime"


def _ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.0%}" if ceiling else "n/a"


def _check(met: bool, text: str) -> str:
    return f"| {'met' if met else '**not met**'} | {text} |"


def targets(report: dict[str, Any]) -> list[str]:
    scenarios = {k: v for k, v in report["scenarios"].items() if "skipped" not in v}
    lines = ["| target | measured |", "| --- | --- |"]
    errors = {
        name: sum(
            s[phase]["errors"] for phase in ("journeys_max", "journeys_half_rate", "submissions")
        )
        + s["ceiling_bare"]["errors"]
        + s["ceiling_jinja"]["errors"]
        for name, s in scenarios.items()
    }
    lines.append(_check(not any(errors.values()), f"0 errors: {errors}"))
    lost = {name: s["filed_answers"] - s["requests_in_database"] for name, s in scenarios.items()}
    lines.append(
        _check(
            not any(lost.values()),
            "every form answered with success is a request in the database "
            f"(answers minus rows: {lost})",
        )
    )
    if "sqlite-1" in scenarios:
        rate = scenarios["sqlite-1"]["submissions"]["submissions_per_s"]
        lines.append(
            _check(
                rate >= SUBMISSIONS_TARGET,
                f"SQLite/1 worker submissions: {rate:.0f}/s against {SUBMISSIONS_TARGET}/s "
                f"({rate / SUBMISSIONS_TARGET:.0%} of the target)",
            )
        )
    for name, s in scenarios.items():
        share = s["journeys_max"]["requests_per_s"] / s["ceiling_jinja"]["requests_per_s"]
        lines.append(
            _check(
                share >= JOURNEY_SHARE_TARGET,
                f"{name}: journeys {s['journeys_max']['requests_per_s']:.0f} req/s = "
                f"{share:.0%} of the Jinja ceiling (target {JOURNEY_SHARE_TARGET:.0%})",
            )
        )
        half = s["journeys_half_rate"]["latency_ms"]
        lines.append(
            _check(
                half["p95"] < P95_TARGET_MS and half["p99"] < P99_TARGET_MS,
                f"{name}: at half rate ({s['journeys_half_rate']['offered_journeys_per_s']}"
                f" journeys/s) p95 {half['p95']} ms (< {P95_TARGET_MS}), "
                f"p99 {half['p99']} ms (< {P99_TARGET_MS})",
            )
        )
    if "pg-1" in scenarios and "pg-2" in scenarios:
        one = scenarios["pg-1"]["journeys_max"]["journeys_per_s"]
        two = scenarios["pg-2"]["journeys_max"]["journeys_per_s"]
        factor = two / one if one else 0
        lines.append(
            _check(
                factor >= SCALING_TARGET,
                f"PostgreSQL 2 workers / 1 worker: {two} / {one} journeys/s = {factor:.2f}x "
                f"(target {SCALING_TARGET}x)",
            )
        )
    return lines


def _scenario(name: str, s: dict[str, Any]) -> list[str]:
    bare = s["ceiling_bare"]["requests_per_s"]
    jinja = s["ceiling_jinja"]["requests_per_s"]
    rows = [
        f"### {name} ({s['workers']} worker(s), {s['users']} concurrent browsers)",
        "",
        "| measure | rate | p50 / p95 / p99 ms | errors | vs bare | vs Jinja | "
        "server CPU cores | driver CPU cores |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def row(label: str, rate: str, figures: dict[str, Any], value: float) -> None:
        lat = figures["latency_ms"]
        rows.append(
            f"| {label} | {rate} | {lat['p50']} / {lat['p95']} / {lat['p99']} | "
            f"{figures['errors']} | {_ratio(value, bare)} | {_ratio(value, jinja)} | "
            f"{figures['server_cpu_cores']} | {figures['driver_cpu_cores']} |"
        )

    row("bare Litestar route (ceiling)", f"{bare:.0f} req/s", s["ceiling_bare"], bare)
    row("Jinja page, no database (ceiling)", f"{jinja:.0f} req/s", s["ceiling_jinja"], jinja)
    full = s["journeys_max"]
    row(
        "journeys, highest rate",
        f"{full['journeys_per_s']} journeys/s, {full['requests_per_s']:.0f} req/s",
        full,
        full["requests_per_s"],
    )
    half = s["journeys_half_rate"]
    row(
        "journeys, half that rate",
        f"{half['journeys_per_s']} journeys/s, {half['requests_per_s']:.0f} req/s",
        half,
        half["requests_per_s"],
    )
    sub = s["submissions"]
    row(
        "form submissions (burst)",
        f"{sub['submissions_per_s']:.0f} submissions/s",
        sub,
        sub["submissions_per_s"],
    )
    rows.append("")
    rows.append(
        f"Peak RSS per worker: {', '.join(f'{v:.0f} MB' for v in s['peak_rss_mb_per_worker'])}. "
        f"Requests filed: {s['requests_in_database']} in the database, "
        f"{s['filed_answers']} success answers."
    )
    steps = full["latency_ms_by_step"]
    rows.append("")
    rows.append(
        "Journey steps at the highest rate, p50 / p95 ms: "
        + ", ".join(f"{step} {v['p50']} / {v['p95']}" for step, v in steps.items())
        + "."
    )
    for label, profile in (("journeys", s.get("profile")), ("submissions", sub.get("profile"))):
        if profile and "area_percent" in profile:
            rows.append("")
            rows.append(
                f"Where worker 1's Python CPU went during the {label} (py-spy --gil): "
                + ", ".join(f"{area} {pct}%" for area, pct in profile["area_percent"].items())
                + "."
            )
    rows.append("")
    return rows


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# Load benchmark {report['label']}".rstrip(),
        "",
        f"{report['started']}, {machine['cpus']} CPUs, Python {machine['python']}, "
        f"SQLite {machine['sqlite']}, load average at start "
        f"{' '.join(machine.get('load_average_at_start', []))} (anything else running on the "
        "machine makes every figure lower). The load driver runs on the same machine and its "
        "CPU use is shown beside the server's. Settings: "
        + ", ".join(f"{k} {v}" for k, v in report["settings"].items())
        + ".",
        "",
        "## Targets (issue 6)",
        "",
        *targets(report),
        "",
        "## Scenarios",
        "",
    ]
    for name, s in report["scenarios"].items():
        if "skipped" in s:
            lines += [f"### {name}", "", f"Skipped: {s['skipped']}.", ""]
        else:
            lines += _scenario(name, s)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # Re-summarise the profiles and rewrite the Markdown of a results file: python -m
    # bench.report bench/results/latest.json
    import json
    import sys

    source = Path(sys.argv[1])
    report = json.loads(source.read_text())
    for name, scenario in report["scenarios"].items():
        for key, holder in (("journeys", scenario), ("submissions", scenario.get("submissions"))):
            raw = source.parent / f"profile-{name}-{key}.txt"
            if holder is not None and holder.get("profile") and raw.exists():
                holder["profile"] = summarise_profile(raw)
    source.write_text(json.dumps(report, indent=2) + "\n")
    source.with_suffix(".md").write_text(markdown(report))
