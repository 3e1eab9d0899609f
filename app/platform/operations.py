"""Operations own the transaction (like Superset's commands).

A service's operation — create, update, delete, decide, import, ingest — is one
transaction: it validates, writes, audits, and is committed once by this wrapper, or
rolled back as a whole when anything raises. Services never call ``commit()`` or
``rollback()`` themselves and views never do either; a test greps for it.

* :func:`operation` — decorator for a service function.
* :func:`transaction` — the same as a context manager, for a block.
* :class:`Command` — ``validate()`` then ``run()`` in one transaction, for operations
  with enough state to deserve a class.
* :func:`after_commit` — work that must happen only once the transaction is committed
  (queueing a message's delivery): run after the commit, dropped on a rollback;
  :func:`after_commit_gather` the same once per transaction over the items its calls
  gathered (one delivery job for all of a transaction's messages).

Operations nest: an operation called from another joins the outer transaction, and only
the outermost commits or rolls back. The depth is per thread/context (``contextvars``),
so concurrent requests never share it.

A transaction that only read ends with COMMIT, not ROLLBACK, also when its operation
refuses (a ``ServiceError``: 400, 409, …; ``OutOfScope``: 404) and when a request ends
with it still open (:func:`end_reads`): there is nothing to undo, and psycopg forgets
every prepared statement of its connection on a ROLLBACK, so each refusal (every lost
race for a pass at a checkpoint) made the next statements be parsed and planned again.
"Only read" is strict: every statement sent was a SELECT or changed no row, none failed,
the session holds no unflushed change and no after-commit work; anything else rolls back.
"""
from __future__ import annotations

import functools
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from app.domain.errors import OutOfScope, ServiceError
from app.platform.extensions import db

log = logging.getLogger(__name__)
_AFTER_COMMIT = "sentinel_after_commit"
_COMMITTED = "sentinel_committed"  # after-commit work of a transaction committed, not ended yet
_WROTE = "sentinel_wrote"  # on a connection's info: its transaction sent more than SELECTs
_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
REFUSALS = (ServiceError, OutOfScope)

F = TypeVar("F", bound=Callable[..., Any])

_depth: ContextVar[int] = ContextVar("sentinel_operation_depth", default=0)


def in_operation() -> bool:
    """Whether the caller runs inside an operation's transaction."""
    return _depth.get() > 0


@contextmanager
def transaction(session=None) -> Iterator[Any]:
    """One transaction on ``session`` (default ``db.session``): committed when the
    outermost block ends normally, rolled back (and the error re-raised) otherwise."""
    session = session if session is not None else db.session
    depth = _depth.get()
    token = _depth.set(depth + 1)
    try:
        yield session
    except BaseException as error:
        if depth == 0 and not (isinstance(error, REFUSALS) and end_reads(session)):
            session.rollback()
            session.info.pop(_AFTER_COMMIT, None)  # no rollback event when nothing was begun
        raise
    else:
        if depth == 0:
            session.commit()
    finally:
        _depth.reset(token)


def only_read(session) -> bool:
    """Whether ``session``'s open transaction has only read (see the module docstring)."""
    if session.info.get(_AFTER_COMMIT) or session.new or session.dirty or session.deleted:
        return False
    transaction = session.get_transaction()
    # the connections the transaction holds, by bind (SQLAlchemy's own record): when they
    # cannot be told, the transaction counts as having written
    held = getattr(transaction, "_connections", None)
    if held is None:
        return False
    for entry in held.values():
        info = getattr(entry[0] if isinstance(entry, tuple) else entry, "info", None)
        if info is None or info.get(_WROTE):
            return False
    return True


def end_reads(session=None) -> bool:
    """Commit ``session``'s open transaction (default ``db.session``) when it only read;
    whether it did. A failing COMMIT is rolled back and counts as not done."""
    session = session if session is not None else db.session
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction() or not only_read(session):
        return False
    try:
        session.commit()
    except Exception:  # noqa: BLE001 - the caller rolls back and reports its own error
        log.warning("commit of a read-only transaction failed", exc_info=True)
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - a lost connection: the pool replaces it
            log.warning("rollback after the failed commit failed too", exc_info=True)
        return False
    return True


@event.listens_for(Engine, "begin")
def _transaction_begins(conn) -> None:
    conn.info.pop(_WROTE, None)


@event.listens_for(Engine, "after_cursor_execute")
def _note_writes(conn, cursor, statement, _parameters, _context, _executemany) -> None:
    # an UPDATE or DELETE that matched no row wrote nothing (the decision that lost the
    # race for its pass); a statement that failed is noted by _note_failures
    if not _READ.match(statement) and cursor.rowcount != 0:
        conn.info[_WROTE] = True


@event.listens_for(Engine, "handle_error")
def _note_failures(context) -> None:
    if context.connection is not None:  # a failed statement may have ended the transaction
        context.connection.info[_WROTE] = True


def operation(func: F) -> F:
    """Run ``func`` as one transaction (see module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Command:
    """An operation as a class: ``validate()`` checks and prepares (raising a
    ServiceError refuses the whole), ``run()`` writes and returns the result; calling
    the command runs both in one transaction."""

    def validate(self) -> None:  # pragma: no cover - default: nothing to check
        return None

    def run(self) -> Any:
        raise NotImplementedError

    def __call__(self) -> Any:
        with transaction():
            self.validate()
            return self.run()


def after_commit(fn: Callable[[], Any], session=None) -> None:
    """Run ``fn()`` once the current transaction of ``session`` (default ``db.session``)
    is committed; forget it if the transaction rolls back. ``fn`` runs when that
    transaction has ended, so it may use the session again (in a transaction of its
    own: ``enqueue`` stores the job's record). An error in ``fn`` is logged, never
    raised (the data is committed already)."""
    session = session if session is not None else db.session
    session.info.setdefault(_AFTER_COMMIT, []).append(fn)


class _Gathered:
    """``fn(items)``, registered once per transaction by :func:`after_commit_gather`."""

    def __init__(self, fn: Callable[[list], Any], item: Any) -> None:
        self.fn, self.items = fn, [item]

    def __call__(self) -> Any:
        return self.fn(self.items)


def after_commit_gather(fn: Callable[[list], Any], item: Any, session=None) -> None:
    """Add ``item`` to the items of ``fn`` in the current transaction of ``session``:
    ``fn(items)`` runs once after the commit (as :func:`after_commit`), with every item
    gathered in that transaction in order; dropped on a rollback."""
    session = session if session is not None else db.session
    for registered in session.info.get(_AFTER_COMMIT, ()):
        if isinstance(registered, _Gathered) and registered.fn is fn:
            registered.items.append(item)
            return
    after_commit(_Gathered(fn, item), session)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    # No SQL may run while the commit is still in progress: the work waits for the
    # transaction's end (below).
    if session.info.get(_AFTER_COMMIT):
        session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_AFTER_COMMIT))


@event.listens_for(Session, "after_transaction_end")
def _run_after_commit(session, transaction) -> None:
    if transaction.parent is not None or not session.info.get(_COMMITTED):
        return
    for fn in session.info.pop(_COMMITTED):
        try:
            fn()
        except Exception:  # noqa: BLE001 - the transaction is committed; report and go on
            log.exception("after-commit work failed")


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_commit(session, previous_transaction) -> None:
    # Every rollback of a begun transaction, also one that never reached the database
    # (no ``after_rollback`` then): its work must not run at the next commit.
    if previous_transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
