"""Staff ID keys: the keyed hash (``app.domain.idkey``) staff carry so that health
records, which hold no ID numbers, can be matched to them — and the blind indexes
staff are found by: their ID numbers and phones are stored sealed (``models.sealed``),
so "this enterprise's person with ID number X" (the duplicate rule, imports) and the
keyword search match ``id_key`` / ``phone_key`` exactly (``lookup_keys``).

What is keyed
-------------
``id_key(normalise(number))`` for every ID type. The feeds key the normalised number
alone (``feeds.clean_test_row`` accepts all four ID types and the key ignores the type),
so staff do the same: a 居民身份证 is 18 characters, the other documents are at most 17,
so numbers of different types cannot meet; a passport and a Taiwan permit of the same
digits would, which is as unlikely as it is harmless (the same digits typed for one
person). A staff row whose number is blank gets no key (None): it matches nothing.

Where keys are written
----------------------
* Every ORM write of a :class:`Staff` (the staff service, the demo loader, pages, tests):
  ``before_insert`` / ``before_update`` mapper events installed by this module (it is
  imported by ``app.services.staff``, which every app imports through its views).
* The bulk import (COPY / executemany, no mapper events): ``StaffImporter`` adds the
  keys to the rows it builds (``row_keys``).
* ``rekey()`` (``flask --app run health rekey``, the RQ job ``jobs.health.rekey_job``
  and ``bootstrap``): recomputes every staff row's keys, chunked, after a secret change.

``phone_key`` is the keyed hash of the normalised phone under a secret derived from
``ID_HASH_KEY`` (``idkey.phone_secret``): written wherever ``id_key`` is, recomputed
by ``rekey`` with it. Only the current secret's phone key is stored; lookups try the
previous secret's too, for rows a rotation has not re-keyed yet.

Rotation (see ``app.domain.idkey``): set the new secret as ``ID_HASH_KEY`` and the old
one as ``ID_HASH_KEY_PREVIOUS`` for one retention window, restart, run ``health rekey``
(``bootstrap`` does it when it notices). Staff then carry ``id_key`` (new secret) and
``id_key_previous`` (old); summaries stay keyed by the staff's *current* key and are
computed from the records under both. After the window, remove the previous secret and
rekey again. Between the restart and the end of ``rekey`` a person's row may still
carry the old secret's key: lookups (duplicates, imports, search) try both secrets, so
nobody is stored twice and ``(enterprise_id, id_key)`` stays unique through the rekey
(two numbers' keys under two secrets collide with probability 2^-256). Change
``ID_HASH_KEY`` only with the old one as ``ID_HASH_KEY_PREVIOUS`` until ``rekey`` ran.

Noticing a changed secret without storing anything: ``stale()`` recomputes the keys of
the first and last staff rows and looks for rows without a key; any difference means
the stored keys were made with another secret (or before keys existed).
``fingerprints()`` names the configured secrets in the log without revealing them.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterable, Optional

from flask import current_app
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import attributes

from app.domain import idkey
from app.domain.errors import RuleError
from app.domain.identity import normalize_id_number, normalize_phone
from app.platform import database
from app.platform.operations import transaction
from app.services.health.status import summary
from models.staff import Staff

log = logging.getLogger(__name__)

REKEY_CHUNK = 5000


def configured_secrets(config=None) -> tuple[str, Optional[str]]:
    """``(ID_HASH_KEY, ID_HASH_KEY_PREVIOUS or None)`` of the app's configuration."""
    config = config if config is not None else current_app.config
    previous = config.get("ID_HASH_KEY_PREVIOUS") or None
    return config["ID_HASH_KEY"], previous


def fingerprints(config=None) -> dict[str, Optional[str]]:
    """Non-reversible names of the configured secrets (for logs and ``health keys``)."""
    current, previous = configured_secrets(config)
    return {"current": idkey.key_fingerprint(current),
            "previous": idkey.key_fingerprint(previous) if previous else None}


def normalised(id_number: Optional[str]) -> Optional[str]:
    """The number as the feeds key it (trimmed, half-width, upper case), None if blank."""
    try:
        text = normalize_id_number(id_number)
    except RuleError:  # a number Excel turned into digits-with-exponent: unmatchable
        return None
    return text or None


def normalised_phone(phone: Optional[str]) -> Optional[str]:
    """The phone as stored (11 digits; any other text trimmed), None if blank."""
    if phone is None:
        return None
    try:
        digits = normalize_phone(phone)
    except RuleError:
        digits = str(phone).strip()
    return digits or None


def phone_keyers(config=None) -> tuple[Callable[[str], str], Optional[Callable[[str], str]]]:
    """The phone key functions of the current and previous secret (bulk use)."""
    current, previous = configured_secrets(config)
    return (idkey.keyer(idkey.phone_secret(current)),
            idkey.keyer(idkey.phone_secret(previous)) if previous else None)


def phone_key(phone: Optional[str], config=None) -> Optional[str]:
    """The stored ``phone_key`` of a phone (current secret); None for a blank one."""
    digits = normalised_phone(phone)
    return phone_keyers(config)[0](digits) if digits else None


def lookup_keys(id_number: Optional[str] = None, phone: Optional[str] = None, config=None) -> tuple[str, ...]:
    """The keys a stored row of this ID number (``id_key``) or phone (``phone_key``) can
    carry: under the current secret and, during a rotation, the previous one (rows not
    re-keyed yet). Empty for a blank value. One of ``id_number`` / ``phone``."""
    if phone is not None:
        value, (current, previous) = normalised_phone(phone), phone_keyers(config)
    else:
        value, (current, previous) = normalised(id_number), keyers(config)
    if not value:
        return ()
    return (current(value),) + ((previous(value),) if previous else ())


def keyers(config=None) -> tuple[Callable[[str], str], Optional[Callable[[str], str]]]:
    """The key functions of the current and previous secret (bulk use)."""
    current, previous = configured_secrets(config)
    return idkey.keyer(current), (idkey.keyer(previous) if previous else None)


def staff_keys(id_number: Optional[str], id_type: Optional[str] = None,
               config=None) -> tuple[Optional[str], Optional[str]]:
    """``(key under ID_HASH_KEY, key under ID_HASH_KEY_PREVIOUS or None)`` of a staff
    member's number; ``(None, None)`` for a blank number. ``id_type`` does not change
    the key (see the module docstring); it is accepted so callers state what they have.
    """
    number = normalised(id_number)
    if number is None:
        return None, None
    current, previous = configured_secrets(config)
    return idkey.id_key(number, current), (idkey.id_key(number, previous) if previous else None)


def row_keys(rows: Iterable[dict], config=None) -> None:
    """Add ``id_key`` (unless the row has one) and ``id_key_previous`` to staff row dicts
    holding ``id_number``, and ``phone_key`` to those holding ``phone`` (the bulk
    import's rows, which mapper events never see)."""
    current, previous = keyers(config)
    phone = phone_keyers(config)[0]
    for row in rows:
        if "id_number" in row:
            number = normalised(row["id_number"]) if ("id_key" not in row or previous) else None
            if "id_key" not in row:
                row["id_key"] = current(number) if number else None
            row["id_key_previous"] = previous(number) if (number and previous) else None
        if "phone" in row:
            digits = row["phone"]
            if not (type(digits) is str and len(digits) == 11 and digits.isascii() and digits.isdigit()):
                digits = normalised_phone(digits)
            row["phone_key"] = phone(digits) if digits else None


# -- ORM writes ---------------------------------------------------------------------
def _set_keys(target: Staff) -> None:
    target.id_key, target.id_key_previous = staff_keys(target.id_number, target.id_type)


@event.listens_for(Staff, "before_insert")
def _keys_on_insert(_mapper, _connection, target: Staff) -> None:
    _set_keys(target)
    target.phone_key = phone_key(target.phone)


@event.listens_for(Staff, "before_update")
def _keys_on_update(_mapper, _connection, target: Staff) -> None:
    if target.id_key is None or attributes.get_history(target, "id_number").has_changes():
        _set_keys(target)
    if attributes.get_history(target, "phone").has_changes() or (target.phone_key is None) != (target.phone is None):
        target.phone_key = phone_key(target.phone)


def refresh_changed(session, keys: Iterable[Optional[str]]) -> int:
    """After staff rows got new keys: build the summaries and tallies of those keys
    from the stored records (``summary.refresh_keys``). Returns how many keys."""
    return summary.refresh_keys(session, keys)


# -- a changed secret ---------------------------------------------------------------
def stale(session) -> bool:
    """Whether stored staff keys were made with other secrets than the configured ones
    (or some staff have no key yet although they have a number or a phone)."""
    missing = session.execute(select(Staff.id_number).where(Staff.id_key.is_(None)).limit(20)).scalars()
    if any(normalised(number) for number in missing):
        return True
    if session.execute(select(Staff.id).where(Staff.phone_key.is_(None), Staff.phone.is_not(None)).limit(1)).first():
        return True
    ends = session.execute(select(func.min(Staff.id), func.max(Staff.id))).one()
    for staff_id in {i for i in ends if i is not None}:
        row = session.execute(
            select(Staff.id_number, Staff.id_type, Staff.phone, Staff.id_key, Staff.id_key_previous, Staff.phone_key)
            .where(Staff.id == staff_id)
        ).one()
        if staff_keys(row.id_number, row.id_type) != (row.id_key, row.id_key_previous):
            return True
        if phone_key(row.phone) != row.phone_key:
            return True
    return False


def rekey(session, chunk: int = REKEY_CHUNK, progress: Optional[Callable[[int], None]] = None,
          rebuild: bool = True) -> dict:
    """Recompute every staff row's keys (chunks of ``chunk`` rows, committed one by one:
    safe to stop and run again), then rebuild the summaries and tallies, which are
    keyed by the staff's current key. Returns ``{"staff", "changed", "fingerprint"}``."""
    current, previous = keyers()
    phone = phone_keyers()[0]
    total = session.execute(select(func.count(Staff.id))).scalar_one() or 1
    last_id, seen, changed = 0, 0, 0
    while True:
        with transaction(session):  # one transaction per chunk
            rows = session.execute(
                select(Staff.id, Staff.id_number, Staff.phone, Staff.id_key, Staff.id_key_previous, Staff.phone_key)
                .where(Staff.id > last_id).order_by(Staff.id).limit(chunk)
            ).all()
            changed += _rekey_chunk(session, rows, current, previous, phone)
        if not rows:
            break
        last_id, seen = rows[-1].id, seen + len(rows)
        if progress:
            progress(min(50, 50 * seen // total))
    if changed:
        if database.is_pg(session):  # every row was rewritten: reclaim, and tell the planner
            with session.get_bind().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE staff"))
    result = {"staff": seen, "changed": changed, "fingerprint": fingerprints()["current"]}
    if rebuild and changed:
        result["summary"] = summary.rebuild(session, progress=(
            (lambda pct: progress(50 + pct // 2)) if progress else None))
    log.info("staff ID keys recomputed: %s", result)
    return result


def _rekey_chunk(session, rows, current, previous, phone) -> int:
    """Write the new keys of one chunk of staff ``rows``; returns how many changed."""
    updates = []
    for row in rows:
        number, digits = normalised(row.id_number), normalised_phone(row.phone)
        key = current(number) if number else None
        old = previous(number) if (number and previous) else None
        pkey = phone(digits) if digits else None
        if (key, old, pkey) != (row.id_key, row.id_key_previous, row.phone_key):
            updates.append((row.id, key, old, pkey))
    if updates:
        _bulk_update(session, updates)
    return len(updates)


def _bulk_update(session, updates: list[tuple]) -> None:
    """``(staff id, id_key, id_key_previous, phone_key)`` rows written with one UPDATE … FROM."""
    database.stage_rows(session, "rekey_new", "id INTEGER PRIMARY KEY, k VARCHAR(43), p VARCHAR(43), q VARCHAR(43)",
                        updates)
    session.execute(text("UPDATE staff SET id_key = n.k, id_key_previous = n.p, phone_key = n.q "
                         "FROM rekey_new n WHERE staff.id = n.id"))


def ensure_current(session) -> Optional[dict]:
    """Rekey when the stored keys do not match the configured secrets (``bootstrap``);
    None when they do."""
    if not stale(session):
        return None
    log.warning("staff ID keys do not match ID_HASH_KEY (fingerprint %s): recomputing them",
                fingerprints()["current"])
    return rekey(session)
