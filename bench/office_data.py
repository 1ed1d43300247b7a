"""The many-office database of bench/offices.py, written straight into the portal's schema.

Going through the portal's services would take an hour for 100,000 requests on two cores; rows
inserted with ``executemany`` in one transaction take seconds. What is written is what the
portal itself writes: each office (``o<k>``, answering on ``o<k>.bench.test``) gets the default
office's own seeded services (``portal/catalogue/default_services.json``) and reply templates,
copied column for column, padded with numbered copies up to ``services`` per office; each
request gets its first event and its receipt SMS, with dates spread over the last year.

Request counts follow a Zipf-like law: office of rank ``k`` gets about ``largest / k**s``,
with ``s`` chosen so that the counts add up to ``total`` (1,000 offices, 100,000 requests and
20,000 at the largest give ``s`` near 1.1: two offices above 9,000, most with tens).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

BENCH_DOMAIN = "bench.test"
"""A reserved top-level name (RFC 2606): these hosts exist only in the Host header."""
REQUEST_PHONE_BASE = 66810000000
"""The filed requests' phones, +66810000000 on: apart from the journeys' +668001xxxxx."""
ANSWERS = {
    "title": "นาย",
    "first_name": "ทดสอบ",
    "last_name": "ข้อมูลจำลอง",
    "address": "1 หมู่ 2 ตำบลตัวอย่าง",
    "subject": "ขอให้ตรวจสอบไฟฟ้าส่องสว่าง",
    "details": "ไฟถนนดับหลายดวงตั้งแต่สัปดาห์ก่อน",
}
STATUSES = ("completed", "completed", "completed", "in_progress", "received", "rejected")


def host_of(rank: int) -> str:
    return f"o{rank}.{BENCH_DOMAIN}"


def zipf_sizes(offices: int, total: int, largest: int) -> list[int]:
    """Requests per office, largest first, about ``total`` in all (at least one each)."""
    if offices <= 0:
        return []
    largest = max(1, min(largest, total))
    low, high = 0.0, 8.0
    for _ in range(60):  # bisection on the exponent: a larger one means a smaller sum
        s = (low + high) / 2
        if sum(max(1, round(largest / k**s)) for k in range(1, offices + 1)) > total:
            low = s
        else:
            high = s
    return [max(1, round(largest / k**high)) for k in range(1, offices + 1)]


def _stamp(moment: datetime) -> str:
    """A Timestamptz as Piccolo writes it to SQLite (UTC, ``str(datetime)``)."""
    return str(moment.astimezone(UTC))


def _insert(connection: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    connection.executemany(
        f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 (our own names)
        [tuple(row[c] for c in columns) for row in rows],
    )


def _template_rows(connection: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    """The default office's rows of ``table``, every column but ``id`` and ``office``."""
    query = f'SELECT * FROM "{table}" WHERE office = 1 ORDER BY id'  # noqa: S608 (a constant)
    cursor = connection.execute(query)
    columns = [d[0] for d in cursor.description]
    return [
        {c: v for c, v in zip(columns, row, strict=True) if c not in ("id", "office")}
        for row in cursor.fetchall()
    ]


def _office_row(office_id: int, rank: int, now: str) -> dict[str, Any]:
    return {
        "id": office_id,
        "slug": f"o{rank}",
        "name": f"เทศบาลตำบลทดสอบที่ {rank}",
        "name_en": f"Bench Town {rank}",
        "active": True,
        "env_managed": False,
        "sms_sender": "OSS-LOCAL",
        "phone": f"080-000-0{rank % 1000:03d}",
        "email": f"contact@o{rank}.{BENCH_DOMAIN}",
        "address": f"{rank} ถนนทดสอบ ตำบลตัวอย่าง",
        "hours": "จันทร์-ศุกร์ 08:30-16:30",
        "updated_at": now,
    }


def _service_rows(
    template: list[dict[str, Any]], office_id: int, services: int, first_id: int
) -> list[dict[str, Any]]:
    rows = []
    for j in range(services):
        base = template[j % len(template)]
        copy = j // len(template)
        suffix = f"-{copy + 1}" if copy else ""
        name_suffix = f" ({copy + 1})" if copy else ""
        rows.append(
            {
                **base,
                "id": first_id + j,
                "office": office_id,
                "slug": base["slug"] + suffix,
                "name": base["name"] + name_suffix,
                "sort_order": j,
            }
        )
    return rows


def _request_rows(
    office_id: int,
    numbers: list[int],
    service_ids: list[int],
    first_id: int,
    phone_start: int,
    rng: random.Random,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """One request per number (distinct: unique per office) of one office, each with its first
    event and its receipt SMS."""
    now = datetime.now(UTC)
    answers = json.dumps(ANSWERS, ensure_ascii=False)
    requests, events, sms = [], [], []
    for i in range(len(numbers)):
        request_id = first_id + i
        created = now - timedelta(seconds=rng.uniform(60, 365 * 86400))
        stamp = _stamp(created)
        token = secrets.token_urlsafe(24)
        phone = f"+{REQUEST_PHONE_BASE + phone_start + i}"
        status = rng.choice(STATUSES)
        number = f"{(created.year + 543) % 100:02d}-{numbers[i]:06d}"
        requests.append(
            {
                "id": request_id,
                "office": office_id,
                "number": number,
                "service": rng.choice(service_ids),
                "phone": phone,
                "answers": answers,
                "status": status,
                "tracking_token": token,
                "tracking_token_hash": sha256(token.encode()).hexdigest(),
                "submission_key": secrets.token_urlsafe(24),
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        events.append(
            {
                "office": office_id,
                "request": request_id,
                "status": "received",
                "actor": "citizen",
                "public_note": "",
                "created_at": stamp,
            }
        )
        sms.append(
            {
                "office": office_id,
                "to_phone": phone,
                "sender": "OSS-LOCAL",
                "text": f"รับคำร้อง {number} แล้ว ติดตามที่ https://o.{BENCH_DOMAIN}/t/{token}",
                "purpose": "receipt",
                "state": "sent",
                "request": request_id,
                "backend": "outbox",
                "attempts": 1,
                "created_at": stamp,
                "sent_at": stamp,
            }
        )
    return requests, events, sms


def _next_id(connection: sqlite3.Connection, table: str) -> int:
    query = f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"'  # noqa: S608 (a constant)
    return int(connection.execute(query).fetchone()[0])


def populate_sqlite(path: str, sizes: list[int], services: int, seed: int = 16) -> dict[str, Any]:
    """Add ``len(sizes)`` offices to the prepared database at ``path`` (office of rank ``k``
    has ``sizes[k - 1]`` requests); the default office answers on 127.0.0.1, so the benchmark
    still reaches it. Returns what was written and how long it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    connection = sqlite3.connect(path, timeout=60)
    try:
        with connection:
            service_template = _template_rows(connection, "service")
            reply_template = _template_rows(connection, "reply_template")
            now = _stamp(datetime.now(UTC))
            office_id = _next_id(connection, "office")
            service_id = _next_id(connection, "service")
            request_id = _next_id(connection, "citizen_request")
            _insert(connection, "office_host", [{"host": "127.0.0.1", "office": 1}])
            phone_start = 0
            for rank, count in enumerate(sizes, start=1):
                _insert(connection, "office", [_office_row(office_id, rank, now)])
                _insert(connection, "office_host", [{"host": host_of(rank), "office": office_id}])
                rows = _service_rows(service_template, office_id, services, service_id)
                _insert(connection, "service", rows)
                _insert(
                    connection,
                    "reply_template",
                    [{**row, "office": office_id} for row in reply_template],
                )
                numbers = rng.sample(range(10**6), count)
                requests, events, sms = _request_rows(
                    office_id, numbers, [r["id"] for r in rows], request_id, phone_start, rng
                )
                _insert(connection, "citizen_request", requests)
                _insert(connection, "request_event", events)
                _insert(connection, "sms_message", sms)
                office_id += 1
                service_id += services
                request_id += count
                phone_start += count
    finally:
        connection.close()
    return {
        "offices": len(sizes),
        "services_per_office": services,
        "requests": sum(sizes),
        "largest": max(sizes, default=0),
        "median": sorted(sizes)[len(sizes) // 2] if sizes else 0,
        "smallest": min(sizes, default=0),
        "offices_under_100": sum(1 for s in sizes if s < 100),
        "offices_over_1000": sum(1 for s in sizes if s > 1000),
        "seconds": round(time.perf_counter() - started, 1),
        "file_mb": round(os.path.getsize(path) / 2**20, 1),
    }


def populate_one_office(path: str, count: int, seed: int = 61) -> dict[str, Any]:
    """``count`` requests (with events and receipt SMS) in the default office only: a
    single-office deployment holding as much as the 1,000 offices, to tell what the number of
    offices costs from what the amount of data costs."""
    started = time.perf_counter()
    rng = random.Random(seed)
    connection = sqlite3.connect(path, timeout=60)
    try:
        with connection:
            service_ids = [
                int(row[0]) for row in connection.execute("SELECT id FROM service WHERE office = 1")
            ]
            first_id = _next_id(connection, "citizen_request")
            numbers = rng.sample(range(10**6), count)
            for start in range(0, count, 20_000):  # rows in batches: memory stays small
                requests, events, sms = _request_rows(
                    1, numbers[start : start + 20_000], service_ids, first_id + start, start, rng
                )
                _insert(connection, "citizen_request", requests)
                _insert(connection, "request_event", events)
                _insert(connection, "sms_message", sms)
    finally:
        connection.close()
    return {"requests": count, "seconds": round(time.perf_counter() - started, 1)}
