"""Bulk upserts of validated rows, all in the caller's one transaction.

No ORM objects and no per-row statement compilation: every batch goes to the driver
in one call, on the session's own connection —

* PostgreSQL: inserts by ``COPY … FROM STDIN``; updates by ``COPY`` into a temporary
  table (dropped at commit) and one ``UPDATE … FROM`` per batch;
* SQLite (and any other dialect): one ``executemany`` of a plain INSERT / UPDATE with
  positional parameters per batch.

An update leaves a row whose imported columns already hold the imported values
untouched (``IS DISTINCT FROM``): re-importing the same file rewrites nothing. A sealed
column (``models.sealed``: a fresh random nonce makes every sealing of a value differ)
is compared through its keyed hash column instead, which the row must carry with it.

Values go through each column's own bind processor (JSON serialised as SQLAlchemy
would; sealed columns encrypted — COPY and executemany never see a plain ID number or
phone), and the Python-side defaults a Core INSERT would fill (``created_at`` …) or
``onupdate`` values an UPDATE would set (``updated_at``) are added, computed once per
import. The caller commits once after every batch has run, or rolls back when
anything raised, so a crash leaves none of the import.
"""
from __future__ import annotations

import itertools
import json
import queue
import threading
from operator import itemgetter
from typing import Callable, Iterable, Optional

from psycopg import sql
from sqlalchemy import JSON, bindparam, insert, update

from models.sealed import Sealed

BATCH_SIZE = 10000
_temp_names = itertools.count(1)


class _Write:
    """One kind of statement for rows of one key set: what ``_write_batch`` runs."""

    def __init__(self, session, table, keys: tuple[str, ...], update: bool):
        self.connection = session.connection()
        self.dialect = self.connection.dialect
        self.table, self.update = table, update
        self.columns = [c for c in keys if c != "row_id"]
        self.compared = _compared(table, self.columns) if update else self.columns
        extra = _on_update(table, self.columns) if update else _defaults(table, self.columns)
        self.fixed = list(extra.items())
        self.names = self.columns + [name for name, _value in self.fixed]
        self._processors = [_processor(table.c[name], self.dialect) for name in self.columns]
        self._fixed_values = tuple((_processor(table.c[n], self.dialect) or (lambda v: v))(v) for n, v in self.fixed)
        self.temp = None

    def tuples(self, rows: list[dict]) -> list[tuple]:
        """Rows as parameter tuples in ``self.names`` order (``row_id`` last for updates)."""
        keys = self.columns + (["row_id"] if self.update else [])
        get = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
        processed = [(i, proc) for i, proc in enumerate(self._processors) if proc is not None]
        fixed, width = self._fixed_values, len(self.columns)
        out = []
        for row in rows:
            values = get(row)
            if processed:
                values = list(values)
                for i, proc in processed:
                    values[i] = proc(values[i])
            out.append(tuple(values[:width]) + fixed + tuple(values[width:]))
        return out

    def run(self, rows: list[dict]) -> None:
        params = self.tuples(rows)
        if self.dialect.name == "postgresql":
            self._run_postgresql(params)
        else:
            self._run_generic(params)

    # -- SQLite and others ----------------------------------------------------------
    def _run_generic(self, params: list[tuple]) -> None:
        if self.dialect.paramstyle != "qmark":
            return self._run_core(params)
        quote = self.dialect.identifier_preparer.quote
        table = quote(self.table.name)
        if self.update:
            sets = ", ".join(f"{quote(n)} = ?" for n in self.names)
            changed = " OR ".join(f"{quote(n)} IS NOT ?" for n in self.compared)
            statement = f"UPDATE {table} SET {sets} WHERE {quote('id')} = ? AND ({changed})"
            at = [self.columns.index(n) for n in self.compared]
            params = [p + tuple(p[i] for i in at) for p in params]
        else:
            marks = ", ".join("?" for _n in self.names)
            statement = f"INSERT INTO {table} ({', '.join(quote(n) for n in self.names)}) VALUES ({marks})"
        self.connection.exec_driver_sql(statement, params)

    def _run_core(self, params: list[tuple]) -> None:  # pragma: no cover - other drivers
        names = self.names + (["row_id"] if self.update else [])
        dicts = [dict(zip(names, p)) for p in params]
        if self.update:
            stmt = update(self.table).where(self.table.c.id == bindparam("row_id"))
        else:
            stmt = insert(self.table)
        self.connection.execute(stmt, dicts)

    # -- PostgreSQL -----------------------------------------------------------------
    def _cursor(self):
        return self.connection.connection.driver_connection.cursor()

    def _copy(self, cursor, table_sql: str, names: list[str], params: list[tuple]) -> None:
        columns = sql.SQL(", ").join(sql.Identifier(n) for n in names)
        with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.SQL(table_sql), columns)) as copy:
            for row in params:
                copy.write_row(row)

    def _run_postgresql(self, params: list[tuple]) -> None:
        table_sql = sql.Identifier(self.table.name).as_string(None)
        with self._cursor() as cursor:
            if not self.update:
                self._copy(cursor, table_sql, self.names, params)
                return
            if self.temp is None:
                self.temp = f"_import_update_{next(_temp_names)}"
                cols = sql.SQL(", ").join(sql.Identifier(n) for n in ["id"] + self.names)
                cursor.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                               .format(sql.Identifier(self.temp), cols, sql.SQL(table_sql)))
            else:
                cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(self.temp)))
            temp_sql = sql.Identifier(self.temp).as_string(None)
            self._copy(cursor, temp_sql, self.names + ["id"], params)
            sets = sql.SQL(", ").join(sql.SQL("{} = u.{}").format(sql.Identifier(n), sql.Identifier(n))
                                      for n in self.names)
            changed = sql.SQL(" OR ").join(sql.SQL("t.{} IS DISTINCT FROM u.{}").format(
                sql.Identifier(n), sql.Identifier(n)) for n in self.compared)
            cursor.execute(sql.SQL("UPDATE {} AS t SET {} FROM {} AS u WHERE t.id = u.id AND ({})")
                           .format(sql.SQL(table_sql), sets, sql.Identifier(self.temp), changed))


class InsertStream:
    """Inserts written as they come, batch by batch, in the caller's transaction.

    On PostgreSQL a thread of its own sends each batch as one ``COPY`` while the caller
    prepares the next: the server stores the rows, maintains the indexes and runs the
    foreign-key checks (queued to the end of each statement) meanwhile, and the caller
    waits only for the last batch. The thread uses the session's connection, which
    nothing else may use until ``__exit__``; an error there is raised in the caller at
    the next batch or at ``__exit__``. Elsewhere each batch is one ``executemany`` in
    the caller's thread. Every batch has the key set of the first."""

    def __init__(self, session, table):
        self.session, self.table = session, table
        self.statement: Optional[_Write] = None
        self._queue: Optional[queue.Queue] = None
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None

    def __enter__(self) -> "InsertStream":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error
        return False

    def run(self, rows: list[dict]) -> None:
        keys = tuple(sorted(rows[0]))
        if self.statement is None:
            self.statement = _Write(self.session, self.table, keys, update=False)
        elif keys != tuple(self.statement.columns):
            raise ValueError(f"rows of another shape in one insert stream: {keys}")
        params = self.statement.tuples(rows)
        if self.statement.dialect.name != "postgresql":
            self.statement._run_generic(params)
            return
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._queue = queue.Queue(maxsize=2)  # the caller stays at most two batches ahead
            self._thread = threading.Thread(target=self._send, name="import-copy", daemon=True)
            self._thread.start()
        self._queue.put(params)

    def _send(self) -> None:
        names = sql.SQL(", ").join(sql.Identifier(n) for n in self.statement.names)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(self.table.name), names)
        with self.statement._cursor() as cursor:
            while (params := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # drained until the caller stops
                try:
                    with cursor.copy(statement) as copy:
                        for row in params:
                            copy.write_row(row)
                except BaseException as err:  # noqa: BLE001 - handed to the caller
                    self._error = err


def _compared(table, columns: list[str]) -> list[str]:
    """The columns an update compares to tell a changed row: all but the sealed ones,
    whose keyed hash column stands for them. :raise ValueError: a sealed column
    written without its keyed hash (the change could not be seen)."""
    sealed = {n: table.c[n].type.index for n in columns if isinstance(table.c[n].type, Sealed)}
    missing = sorted(index for index in sealed.values() if index not in columns)
    if missing:
        raise ValueError(f"sealed columns updated without their keyed hash columns {missing}")
    return [n for n in columns if n not in sealed]


def _processor(column, dialect) -> Optional[Callable]:
    """The column type's bind processor for ``dialect`` (None: values pass as they are).
    JSON becomes its text once per value (an empty dict, the usual ``extras``, once per
    import): on PostgreSQL COPY takes that text, where the driver's JSON wrapper would be
    serialised again row by row."""
    if isinstance(column.type, JSON) and dialect.name == "postgresql":
        serialise = getattr(dialect, "_json_serializer", None) or json.dumps
    else:
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is None or not isinstance(column.type, JSON):
            return process
        serialise = process
    empty = serialise({})
    return lambda value: empty if type(value) is dict and not value else serialise(value)


def _defaults(table, present: list[str]) -> dict:
    """Python-side scalar/callable defaults of the columns an INSERT leaves out."""
    out = {}
    for column in table.columns:
        default = column.default
        if column.name in present or column.primary_key or default is None:
            continue
        if default.is_scalar:
            out[column.name] = default.arg
        elif default.is_callable:
            out[column.name] = default.arg(None)
    return out


def _on_update(table, present: list[str]) -> dict:
    """``onupdate`` values (``updated_at``) an UPDATE of these columns sets."""
    out = {}
    for column in table.columns:
        onupdate = column.onupdate
        if column.name in present or onupdate is None:
            continue
        if onupdate.is_scalar:
            out[column.name] = onupdate.arg
        elif onupdate.is_callable:
            out[column.name] = onupdate.arg(None)
    return out


def _write_batch(session, statement: _Write, rows: list[dict]) -> None:
    """One driver call; module-level so a test can make it fail after the first batch."""
    statement.run(rows)


def write_batch(stream: InsertStream, rows: list[dict]) -> None:
    """One batch of an insert stream (through ``_write_batch``, as every batch goes)."""
    _write_batch(stream.session, stream, rows)


def _batches(rows: list[dict]) -> Iterable[list[dict]]:
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start:start + BATCH_SIZE]


def _by_shape(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Rows grouped by their key set: one statement needs identical keys."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


def upsert(session, table, inserts: list[dict], updates: list[dict],
           progress: Optional[Callable[[int], None]] = None) -> None:
    """Insert ``inserts`` and update ``updates`` (each carrying ``row_id``, the row's
    primary key) in ``table``; ``progress(done_rows)`` after each batch."""
    done = 0
    for rows, is_update in [(r, False) for r in _by_shape(inserts).values()] + \
                           [(r, True) for r in _by_shape(updates).values()]:
        statement = _Write(session, table, tuple(sorted(rows[0])), is_update)
        for batch in _batches(rows):
            _write_batch(session, statement, batch)
            done += len(batch)
            if progress:
                progress(done)
