"""Health feed data for benchmarks (no app needed): valid ID numbers and feed rows.

    numbers = id_numbers(1_000_000, seed=1)
    rows = test_records(numbers, 1_000_000, days=14)          # list of dicts (SPEC §9 fields)
    body = as_json(rows[:100_000]) / as_csv(rows[:100_000])    # request bodies (bytes)
    vaccination_records(numbers[:200_000])

Deterministic for a seed. Sampling times are spread uniformly over the last ``days``
days (ending an hour before ``now``), written as district local time without offset,
as the provincial systems send them; ~97 % negative, 2 % pending, 1 % positive.
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, Optional, Sequence
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
AREAS = ("440115", "440113", "440106", "440104", "440111", "440112", "440103", "440105")
INSTITUTIONS = tuple(f"广州市南沙区第{n}采样点" for n in range(1, 41)) + ("南沙区人民医院", "广州金域医学检验中心")
_FACTORS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(body17: str) -> str:
    return _CHECK[sum(int(c) * f for c, f in zip(body17, _FACTORS)) % 11]


def id_numbers(n: int, seed: int = 1) -> list[str]:
    """``n`` distinct valid 18-digit 居民身份证 numbers (born 1950–2004)."""
    rng = random.Random(seed)
    start = date(1950, 1, 1).toordinal()
    span = date(2004, 12, 31).toordinal() - start
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        born = date.fromordinal(start + rng.randrange(span))
        body = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        if body in seen:
            continue
        seen.add(body)
        out.append(body + check_digit(body))
    return out


def _result(rng: random.Random) -> str:
    x = rng.random()
    return "positive" if x < 0.01 else "pending" if x < 0.03 else "negative"


def test_records(numbers: Sequence[str], n: int, days: int = 14, now: Optional[datetime] = None,
                 seed: int = 2, record_ids: bool = False) -> list[dict]:
    """``n`` test feed rows for people drawn from ``numbers``, sampled over ``days`` days."""
    rng = random.Random(seed)
    now = (now or datetime.now(TZ)).astimezone(TZ).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    seconds = int(days * 86400) - 3600
    rows = []
    for i in range(n):
        sampled = now - timedelta(seconds=rng.randrange(seconds))
        result = _result(rng)
        tested = min(sampled + timedelta(minutes=rng.randrange(60, 600)), now)
        row = {"id_number": numbers[rng.randrange(len(numbers))], "sampled_at": sampled.isoformat(),
               "tested_at": None if result == "pending" else tested.isoformat(),
               "result": result, "institution": INSTITUTIONS[rng.randrange(len(INSTITUTIONS))]}
        if record_ids:
            row["record_id"] = f"GZ{seed:02d}{i:010d}"
        rows.append(row)
    return rows


def records_for(numbers: Sequence[str], per_person: int = 14, days: int = 14,
                now: Optional[datetime] = None, seed: int = 3) -> Iterator[dict]:
    """About ``per_person`` records for each number over ``days`` days (for page benchmarks:
    e.g. 200,000 staff × ~14 days plus the city's other people)."""
    rng = random.Random(seed)
    now = (now or datetime.now(TZ)).astimezone(TZ).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    seconds = int(days * 86400) - 3600
    for number in numbers:
        for _ in range(max(0, per_person + rng.randrange(-2, 3))):
            sampled = now - timedelta(seconds=rng.randrange(seconds))
            result = _result(rng)
            yield {"id_number": number, "sampled_at": sampled.isoformat(),
                   "tested_at": None if result == "pending" else sampled.isoformat(),
                   "result": result, "institution": INSTITUTIONS[rng.randrange(len(INSTITUTIONS))]}


def vaccination_records(numbers: Sequence[str], seed: int = 4) -> list[dict]:
    """Doses 1–3 for most of ``numbers`` (10 % none, 10 % one, 30 % two, 50 % three)."""
    rng = random.Random(seed)
    products = ("新冠病毒灭活疫苗（Vero细胞）", "重组新冠病毒蛋白疫苗（CHO细胞）", "腺病毒载体疫苗")
    rows = []
    for number in numbers:
        x = rng.random()
        doses = 0 if x < 0.1 else 1 if x < 0.2 else 2 if x < 0.5 else 3
        day = date(2021, 3, 1) + timedelta(days=rng.randrange(200))
        product = rng.choice(products)
        for dose in range(1, doses + 1):
            rows.append({"id_number": number, "dose": dose, "vaccinated_at": day.isoformat(), "product": product,
                         "site": "南沙区疫苗接种点"})
            day += timedelta(days=28 + rng.randrange(60) if dose == 1 else 180 + rng.randrange(60))
    return rows


def as_json(rows: Sequence[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def as_csv(rows: Sequence[dict], fields: Sequence[str] = ("record_id", "id_number", "sampled_at", "tested_at",
                                                         "result", "institution")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = [f for f in fields if f in rows[0]] if rows else list(fields)
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else row[f] for f in fields])
    return out.getvalue().encode("utf-8")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
