"""Lighthouse (mobile preset, Debian chromium) on the home page, the e-Service menu and a
tracking page: median of 3 runs each, written to bench/results/lighthouse.{json,md}.

Run: `.venv/bin/python -m bench.lighthouse` (after `npm ci`, which installs the pinned
lighthouse). It starts its own portal on 127.0.0.1 with a throwaway data directory.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
RUNS = 3
PHONE = "0800000095"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
TARGETS = {"performance": 0.98, "accessibility": 1.0, "best-practices": 1.0}
METRIC_TARGETS = {
    "largest-contentful-paint": 1500,
    "total-blocking-time": 50,
    "cumulative-layout-shift": 0.02,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _token(client: httpx.Client, path: str) -> str:
    page = BeautifulSoup(client.get(path).text, "html.parser")
    field = page.select_one("input[name=_csrf_token]")
    assert field is not None, path
    return str(field["value"])


def _outbox(env: dict[str, str]) -> list[dict[str, str]]:
    output = subprocess.run(
        [sys.executable, "-m", "portal.cli", "sms", "outbox", "--to", PHONE, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    messages: list[dict[str, str]] = json.loads(output)
    return messages


def _tracking_link(base: str, env: dict[str, str]) -> str:
    """File one request through the real routes and return the link from its receipt SMS."""
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as client:
        slug = "/e-service/general-request"
        client.post(
            f"{slug}/phone", data={"phone": PHONE, "_csrf_token": _token(client, f"{slug}/phone")}
        )
        code = re.search(r"\b\d{6}\b", _outbox(env)[0]["text"])
        assert code is not None
        client.post(
            f"{slug}/verify",
            data={"code": code.group(0), "_csrf_token": _token(client, f"{slug}/verify")},
        )
        form = BeautifulSoup(client.get(f"{slug}/form").text, "html.parser")
        data = {
            field["name"]: "" for field in form.select("input[name], textarea[name], select[name]")
        }
        data.update(
            {
                "_csrf_token": _token(client, f"{slug}/form"),
                "submission_key": str(form.select_one("input[name=submission_key]")["value"]),
                "title": "นาง",
                "first_name": "ทดสอบ",
                "last_name": "ระบบ",
                "address": "1 หมู่ 1",
                "subject": "ทดสอบ",
                "details": "ทดสอบความเร็วหน้าเว็บ",
            }
        )
        client.post(f"{slug}/form", data=data)
    receipt = next(m for m in _outbox(env) if m["purpose"] == "receipt")
    link = re.search(r"https?://\S+", receipt["text"])
    assert link is not None
    return link.group(0)


def _lighthouse(url: str, out: Path) -> dict[str, float]:
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={out}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        env={**os.environ, "CHROME_PATH": os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")},
        check=True,
        timeout=240,
    )
    report = json.loads(out.read_text())
    figures = {
        name: float(category["score"])
        for name, category in report["categories"].items()
        if name in TARGETS
    }
    for metric in METRIC_TARGETS:
        figures[metric] = float(report["audits"][metric]["numericValue"])
    return figures


def main() -> int:
    if not LIGHTHOUSE.exists():
        print("lighthouse is not installed: run `npm ci` first", file=sys.stderr)
        return 2
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "PORTAL_DATA_DIR": data_dir, "PORTAL_BASE_URL": base}
        server = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    if httpx.get(base + "/", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            pages = {
                "home": base + "/",
                "menu": base + "/e-service",
                "tracking": _tracking_link(base, env),
            }
            results: dict[str, dict[str, float]] = {}
            for name, url in pages.items():
                runs = [_lighthouse(url, Path(data_dir) / f"{name}-{i}.json") for i in range(RUNS)]
                results[name] = {
                    key: statistics.median(run[key] for run in runs) for key in runs[0]
                }
        finally:
            server.terminate()
            server.wait(timeout=30)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lighthouse.json").write_text(
        json.dumps(
            {"runs_per_page": RUNS, "targets": {**TARGETS, **METRIC_TARGETS}, "pages": results},
            indent=2,
        )
    )
    lines = [
        "# Lighthouse (mobile preset, median of 3)",
        "",
        "| page | performance | accessibility | best practices | LCP ms | TBT ms | CLS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, figures in results.items():
        lines.append(
            f"| {name} | {figures['performance']:.2f} | {figures['accessibility']:.2f} | "
            f"{figures['best-practices']:.2f} | {figures['largest-contentful-paint']:.0f} | "
            f"{figures['total-blocking-time']:.0f} | {figures['cumulative-layout-shift']:.3f} |"
        )
    misses = [
        f"{name}: {key} {value} (target {TARGETS.get(key, METRIC_TARGETS.get(key))})"
        for name, figures in results.items()
        for key, value in figures.items()
        if (key in TARGETS and value < TARGETS[key])
        or (key in METRIC_TARGETS and value > METRIC_TARGETS[key])
    ]
    lines += [
        "",
        "Targets: performance >= 0.98, accessibility 1.00, best practices 1.00, "
        "LCP <= 1500 ms, TBT <= 50 ms, CLS <= 0.02.",
        "",
        "Missed: " + ("; ".join(misses) if misses else "none"),
    ]
    (RESULTS / "lighthouse.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
