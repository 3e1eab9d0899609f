"""The bulk writer of imports (app/services/imports/store.py) on the real backend:
COPY on PostgreSQL, executemany on SQLite — same rows as the ORM would store."""
from __future__ import annotations

import time

from sqlalchemy import select

from models.staff import Staff
from tests.integration.factories import id_number, in_db, make_enterprise, tag


def _rows(app, enterprise_id):
    def read(session):
        people = session.execute(select(Staff).where(Staff.enterprise_id == enterprise_id).order_by(Staff.id)).scalars()
        return {p.id_number: (p.id, p.name, p.phone, p.extras, p.created_at, p.updated_at, p.id_key) for p in people}
    return in_db(app, read)


def _upsert(app, inserts, updates):
    """The rows written as the importer hands them over: with their keyed hashes."""
    from app.platform.extensions import db
    from app.services.health.feeds.keys import row_keys
    from app.services.imports import store

    with app.app_context():
        row_keys(inserts)
        row_keys(updates)
        store.upsert(db.session, Staff.__table__, inserts, updates)
        db.session.commit()
        db.session.remove()


def test_bulk_rows_are_stored_like_orm_rows_and_unchanged_updates_touch_nothing(app):
    """Inserted rows get timestamps and JSON extras; an update with the same values leaves the row as it was, a change is stored."""
    eid = make_enterprise(app, "批量写入" + tag())
    numbers = [id_number() for _ in range(3)]
    base = {"enterprise_id": eid, "id_type": "居民身份证", "category": None, "worker_kind": None,
            "residence_type": None, "address": "广州市南沙区", "id_key": None, "id_key_previous": None}
    _upsert(app, [{**base, "name": f"批量{i}", "id_number": n, "phone": f"1350000000{i}",
                   "extras": {"badge": f"B-{i}"} if i else {}} for i, n in enumerate(numbers)], [])
    stored = _rows(app, eid)
    assert [stored[n][1:4] for n in numbers] == [("批量0", "13500000000", {}), ("批量1", "13500000001", {"badge": "B-1"}),
                                                 ("批量2", "13500000002", {"badge": "B-2"})]
    assert all(row[4] is not None and row[5] is not None for row in stored.values())

    time.sleep(0.01)
    same = {"name": "批量0", "phone": "13500000000", "extras": {}}
    changed = {"name": "改名了", "phone": "13600000001", "extras": {"badge": "B-9"}}
    _upsert(app, [], [{"row_id": stored[numbers[0]][0], **same}, {"row_id": stored[numbers[1]][0], **changed}])
    after = _rows(app, eid)
    assert after[numbers[0]] == stored[numbers[0]]  # nothing to change: not even updated_at
    assert after[numbers[1]][1:4] == ("改名了", "13600000001", {"badge": "B-9"})
    assert after[numbers[1]][5] > stored[numbers[1]][5] and after[numbers[1]][4] == stored[numbers[1]][4]
    assert after[numbers[2]] == stored[numbers[2]]


def test_imported_people_carry_the_same_id_key_as_people_added_by_hand(app, client, auth):
    """Staff written in bulk get the keyed ID hash health records match on, exactly as the ORM computes it."""
    from app.services.health.feeds.keys import staff_keys
    from tests.integration.imports.helpers import ID_A, ID_X, filled_staff_template, new_enterprise, upload

    admin = auth.token("admin")
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)
    assert response.status_code == 200 and response.json["created"] == 2
    stored = _rows(app, eid)
    with app.app_context():
        expected = {n: staff_keys(n)[0] for n in (ID_A, ID_X)}
    assert {n: stored[n][6] for n in (ID_A, ID_X)} == expected and None not in expected.values()
    again = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)
    assert again.json["updated"] == 2 and {n: _rows(app, eid)[n][6] for n in expected} == expected


def test_awkward_text_is_stored_exactly_by_both_write_paths(app):
    """Backslashes, tabs, line breaks, a literal \\N and JSON quotes survive the bulk
    insert (streamed, several batches), the one-shot insert and the update unchanged."""
    from app.platform.extensions import db
    from app.services.imports import store

    eid = make_enterprise(app, "特殊字符" + tag())
    awkward = ["王\\五", "地址\t甲\n乙\r丙", "\\N", "引号\"和\\反斜杠", None]
    base = {"enterprise_id": eid, "id_type": "居民身份证", "category": None, "worker_kind": None,
            "residence_type": None, "id_key": None, "id_key_previous": None}

    def row(i, number, text):
        return {**base, "name": f"{text or '空'}{i}", "id_number": number, "phone": None, "address": text,
                "extras": {"备注": text, "n": i}}

    streamed, later = [id_number() for _ in awkward], [id_number() for _ in awkward]
    with app.app_context():
        with store.InsertStream(db.session, Staff.__table__) as stream:
            for start in range(0, len(awkward), 2):  # three batches of one stream
                store.write_batch(stream, [row(i, streamed[i], awkward[i]) for i in range(start, min(start + 2, len(awkward)))])
        db.session.commit()
        db.session.remove()
    _upsert(app, [row(i, n, t) for i, (n, t) in enumerate(zip(later, awkward))], [])
    stored = _rows(app, eid)
    for number in (streamed, later):
        assert [stored[n][1] for n in number] == [f"{t or '空'}{i}" for i, t in enumerate(awkward)]
        assert [stored[n][3] for n in number] == [{"备注": t, "n": i} for i, t in enumerate(awkward)]
    updates = [{"row_id": stored[n][0], "address": t, "name": f"改{t}"} for n, t in zip(streamed, reversed(awkward))]
    _upsert(app, [], updates)
    stored = _rows(app, eid)
    assert [stored[n][1] for n in streamed] == [f"改{t}" for t in reversed(awkward)]
    addresses = in_db(app, lambda s: dict(s.execute(select(Staff.id_number, Staff.address)
                                                    .where(Staff.enterprise_id == eid)).all()))
    assert [addresses[n] for n in streamed] == list(reversed(awkward))


def test_a_database_error_in_a_streamed_batch_reaches_the_caller_and_nothing_is_kept(app):
    """A batch the database refuses (here a person without a name) fails the whole
    stream in the caller, wherever the batch was sent from; after the rollback none of
    the batches, before or after it, is stored."""
    import pytest

    from app.platform.extensions import db
    from app.services.imports import store

    eid = make_enterprise(app, "写入失败" + tag())
    base = {"enterprise_id": eid, "id_type": "居民身份证", "category": None, "worker_kind": None, "residence_type": None,
            "address": None, "phone": None, "extras": {}, "id_key": None, "id_key_previous": None}
    batches = [[{**base, "name": name, "id_number": id_number()}] for name in ("甲", None, "乙", "丙")]
    with app.app_context():
        with pytest.raises(Exception) as caught:
            with store.InsertStream(db.session, Staff.__table__) as stream:
                for batch in batches:
                    store.write_batch(stream, batch)
        db.session.rollback()
        db.session.remove()
    assert "name" in str(caught.value).lower()
    assert _rows(app, eid) == {}
