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


LOOKUP_TARGET_MS = 0.1
"""Issue 16: finding the office of a request costs under 0.1 ms."""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f} %"


def _offices_targets(report: dict[str, Any]) -> list[str]:
    lines = ["| target | measured |", "| --- | --- |"]
    journeys = report["journeys"]
    limit = report["journey_target_percent"]
    base = journeys[report["journey_base"]]
    same = journeys.get(report.get("journey_same_data") or "")
    for name, figures in journeys.items():
        if name in (report["journey_base"], report.get("journey_same_data")):
            continue
        change = figures["vs_single_percent"] or 0.0
        context = (
            f"; {_percent(figures['vs_same_data_percent'])} against the single office holding "
            f"every request ({same['journeys_per_s']} journeys/s)"
            if same
            else ""
        )
        lines.append(
            _check(
                change >= -limit and not figures["errors"],
                f"{name}: {figures['journeys_per_s']} journeys/s against "
                f"{base['journeys_per_s']} on today's single office ({change:+.1f} %, target "
                f"within {limit:.0f} %; {figures['errors']} errors){context}; server CPU per "
                f"journey {figures['server_cpu_ms_per_journey']} ms against "
                f"{base['server_cpu_ms_per_journey']} ms",
            )
        )
    lookup = report["lookup"]
    found = lookup["for_host_ms"]
    lines.append(
        _check(
            found["p95"] < LOOKUP_TARGET_MS and lookup["found"] == lookup["lookups"],
            f"office lookup (`for_host`, {lookup['offices_in_memory']} offices in memory): "
            f"p50 {found['p50']} ms, p95 {found['p95']} ms, mean {found['mean']} ms "
            f"(target < {LOOKUP_TARGET_MS} ms)",
        )
    )
    wait = report["invalidation"]
    allowed = wait["check_every_s"] + lookup["cold_load_ms"] / 1000
    lines.append(
        _check(
            not wait["missed"] and wait["max_s"] <= allowed,
            f"a change made in another process seen by the server within {wait['max_s']} s at "
            f"most, {wait['mean_s']} s on average (check interval {wait['check_every_s']} s, "
            f"plus one reload {lookup['cold_load_ms']} ms; {wait['missed']} missed)",
        )
    )
    return lines


def offices_markdown(report: dict[str, Any]) -> str:
    """bench/offices.py's results (issue 16, "Speed and scale")."""
    machine, data, lookup = report["machine"], report["database"], report["lookup"]
    lines = [
        f"# Many offices benchmark {report['label']}".rstrip(),
        "",
        f"{report['started']}, {machine['cpus']} CPUs, Python {machine['python']}, SQLite "
        f"{machine['sqlite']}, load average at start "
        f"{' '.join(machine['load_average_at_start'])}. Settings: "
        + ", ".join(f"{k} {v}" for k, v in report["settings"].items())
        + ".",
        "",
        f"Database: {data['offices']} offices with {data['services_per_office']} services each, "
        f"{data['requests']} requests (largest office {data['largest']}, median "
        f"{data['median']}, smallest {data['smallest']}; {data['offices_under_100']} offices "
        f"under 100, {data['offices_over_1000']} over 1,000), each with its first event and "
        f"receipt SMS; built in {data['seconds']} s, {data['file_mb']} MB."
        + (
            f" The single office holding every request has the same {same['requests']} "
            "requests, events and SMS in office 1."
            if (same := report.get("same_data_database"))
            else ""
        ),
        "",
        "## Targets (issue 16)",
        "",
        *_offices_targets(report),
        "",
        "## Journeys (rounds alternate between the targets)",
        "",
        "| target | journeys/s | req/s | p50 / p95 ms | server CPU ms per journey | "
        "vs today's single office | vs single office with every request | errors | "
        "journeys/s by round |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in report["journeys"].items():
        lines.append(
            f"| {name} | {f['journeys_per_s']} | {f['requests_per_s']} | {f['p50_ms']} / "
            f"{f['p95_ms']} | {f['server_cpu_ms_per_journey']} | "
            f"{_percent(f['vs_single_percent'])} | {_percent(f['vs_same_data_percent'])} | "
            f"{f['errors']} | {', '.join(str(r) for r in f['rounds_journeys_per_s'])} |"
        )
    lines += ["", "Journey steps, p50 ms (mean of the rounds):", ""]
    for name, f in report["journeys"].items():
        steps = ", ".join(f"{step} {value}" for step, value in f["steps_p50_ms"].items())
        lines.append(f"- {name}: {steps}.")
    samples = [s for f in report["journeys"].values() for s in f["error_samples"]]
    if samples:
        lines += ["", "Errors, first ones: " + "; ".join(samples[:5]) + "."]
    lines += [
        "",
        "## Office lookup",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | max ms | mean ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, key in (
        ("`OfficeDirectory.for_host`, offices in memory", "for_host_ms"),
        ("resolver layer around a do-nothing app", "resolver_layer_ms"),
        ("the do-nothing app alone", "no_layer_ms"),
        ("change check (one query, at most once a second per worker)", "change_check_ms"),
    ):
        v = lookup[key]
        lines.append(
            f"| {label} | {v['p50']} | {v['p95']} | {v['p99']} | {v['max']} | {v['mean']} |"
        )
    lines += [
        "",
        f"The resolver layer adds {lookup['resolver_extra_p50_ms']} ms at p50 and "
        f"{lookup['resolver_extra_p95_ms']} ms at p95 per request; loading all "
        f"{lookup['offices_in_memory']} offices (first request, or after a change) takes "
        f"{lookup['cold_load_ms']} ms.",
        "",
        "Over HTTP (keep-alive browsers back to back; the bare route is inside the resolver, "
        "`/healthz` outside it):",
        "",
        "| route | req/s | p50 / p95 / p99 ms | errors | server CPU cores |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, c in report["bare_route"].items():
        lat = c["latency_ms"]
        lines.append(
            f"| {name} | {c['requests_per_s']:.0f} | {lat['p50']} / {lat['p95']} / {lat['p99']} "
            f"| {c['errors']} | {c['server_cpu_cores']} |"
        )
    wait = report["invalidation"]
    lines += [
        "",
        "## Invalidation",
        "",
        f"Seconds until the server ({wait['workers']} worker(s)) answered for a host added in "
        f"this process: {', '.join(str(d) for d in wait['host_added_s'])}; for an office "
        f"disabled here: {', '.join(str(d) for d in wait['office_disabled_s'])} (check "
        f"interval {wait['check_every_s']} s).",
        "",
        "Peak RSS per worker: "
        + ", ".join(f"{k} {v} MB" for k, v in report["peak_rss_mb"].items())
        + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    # Re-summarise the profiles and rewrite the Markdown of a results file: python -m
    # bench.report bench/results/latest.json (or offices.json: its Markdown only)
    import json
    import sys

    source = Path(sys.argv[1])
    report = json.loads(source.read_text())
    if "scenarios" not in report:  # bench/offices.py's results
        source.with_suffix(".md").write_text(offices_markdown(report))
        sys.exit(0)
    for name, scenario in report["scenarios"].items():
        for key, holder in (("journeys", scenario), ("submissions", scenario.get("submissions"))):
            raw = source.parent / f"profile-{name}-{key}.txt"
            if holder is not None and holder.get("profile") and raw.exists():
                holder["profile"] = summarise_profile(raw)
    source.write_text(json.dumps(report, indent=2) + "\n")
    source.with_suffix(".md").write_text(markdown(report))
