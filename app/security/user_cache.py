"""The signed-in user of a request, without the ORM's load on every request.

Every protected request reads its user (the token's or the session's) with the roles and
groups: FAB's load builds the user, role and group objects from a joined query, which
cost the checkpoint's scan and decision about a fifth of their time. Here each process
keeps the last user objects it built, detached from any session, and every request still
reads the user's current rows in ONE plain statement (``ab_user``'s columns with the
rows of the roles and groups): when they equal the rows the kept objects were made from,
the request gets a copy of them in its own session (``Session.merge`` without a load);
otherwise objects are made from the rows just read and kept instead. Both cost the same
one statement; the objects are never made from anything but the rows read.

So nothing is trusted from memory: an account deactivated, a password, role, group, town
or bureau changed — anything in those rows — is seen by the very next request, in every
process; a transaction that changed the user itself sees its change, and once it is
rolled back the next request reads the rows as they are. The kept objects are never
handed out themselves (a request's commit would expire them): each request gets its own
copy, which lazy-loads what it was not given (``town``, ``bureau``, a group's roles)
like any loaded object.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Optional

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

MAX_USERS = 512  # users kept per process (the least recently seen are dropped)


class UserCache:
    """One process's kept users of one user model (see the module docstring)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._kept: OrderedDict[int, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()  # threaded servers and tests share one process's cache
        self._statement, self._widths = _rows_statement(model)

    def get(self, session, pk: int) -> Optional[Any]:
        """The user ``pk`` in ``session`` with roles and groups loaded; None if there is none."""
        present = session.identity_map.get(Session.identity_key(self.model, pk))
        if present is not None:  # FAB asks again within the request: the same object
            return present
        rows = session.connection().execute(self._statement, {"id": pk}).all()
        if not rows:
            return None
        fingerprint = self._fingerprint(rows)
        with self._lock:
            kept = self._kept.get(pk)
            if kept is None or kept[0] != fingerprint:
                kept = (fingerprint, self._build(*fingerprint))
                self._kept[pk] = kept
                while len(self._kept) > MAX_USERS:
                    self._kept.popitem(last=False)
            self._kept.move_to_end(pk)
        return session.merge(kept[1], load=False)

    def _fingerprint(self, rows: list) -> tuple:
        """The user's row, its roles' rows and its groups' rows (sorted: a set's order is none)."""
        users, roles = self._widths
        return (tuple(rows[0][:users]), _present(tuple(r[users:users + roles]) for r in rows),
                _present(tuple(r[users + roles:]) for r in rows))

    def _build(self, user_row: tuple, role_rows: tuple, group_rows: tuple) -> Any:
        """Detached objects made from exactly those rows, as a load would make them."""
        relationships = self.model.roles.property, self.model.groups.property
        user = _detached(inspect(self.model), user_row)
        for relationship, rows in zip(relationships, (role_rows, group_rows)):
            set_committed_value(user, relationship.key, [_detached(relationship.mapper, r) for r in rows])
        return user


def _detached(mapper: Any, row: tuple) -> Any:
    """An object of ``mapper`` holding ``row`` (its table's columns, in order) as loaded
    values, detached: a session merges it as a persistent object without reading it."""
    obj = mapper.class_manager.new_instance()
    for column, value in zip(mapper.local_table.c, row):
        set_committed_value(obj, mapper.get_property_by_column(column).key, value)
    make_transient_to_detached(obj)
    return obj


def _present(rows) -> tuple:
    """The distinct rows of the roles (or groups) there are, in order (an outer join gives
    one of NULLs for none, and repeats each once per row of the other join)."""
    return tuple(sorted({r for r in rows if any(v is not None for v in r)}, key=lambda r: r[0]))


def _rows_statement(model: Any) -> tuple[Any, tuple[int, int]]:
    """The one statement of a user's rows (the user's columns, then each role's, then each
    group's: one row per role and group), and how many columns the user's and a role's take."""
    users = model.__table__
    roles_of, groups_of = model.roles.property.secondary, model.groups.property.secondary
    role, group = model.roles.property.mapper.local_table, model.groups.property.mapper.local_table
    joined = (users.outerjoin(roles_of, roles_of.c.user_id == users.c.id)
              .outerjoin(role, role.c.id == roles_of.c.role_id)
              .outerjoin(groups_of, groups_of.c.user_id == users.c.id)
              .outerjoin(group, group.c.id == groups_of.c.group_id))
    columns = [*users.c, *(c.label(f"role_{c.key}") for c in role.c), *(c.label(f"group_{c.key}") for c in group.c)]
    statement = select(*columns).select_from(joined).where(users.c.id == bindparam("id"))
    return statement, (len(users.c), len(role.c))
