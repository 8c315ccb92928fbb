"""The database extension: one engine per app, one session per app context.

The request owns the transaction. After each request the session is committed when the
answer's status is below 400 and rolled back when it is 4xx or 5xx; a session still open
when the app context ends (a view raised, or work outside a request) is rolled back.
Code run outside a request (CLI commands, the dev server's seeding) wraps its work in
`db.unit_of_work()`. Domain functions flush, never commit: this module is the only one
that commits or rolls back, and `commit_early` is the one way to commit mid-request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.core.settings import Settings


def build_engine(
    url: str, *, connect_timeout: int = 5, statement_timeout_ms: int = 0, **kwargs: Any
) -> Engine:
    """Create an engine with the settings every process of ours wants.

    `statement_timeout_ms` (PostgreSQL; 0 for none) cancels a statement that runs longer;
    migrations run without one.
    """
    parsed = make_url(url)
    # A failed statement's parameters hold readers' emails; never put them in an error.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        connect_args: dict[str, Any] = {"connect_timeout": connect_timeout}
        if statement_timeout_ms:
            connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        kwargs.setdefault("connect_args", connect_args)
        # A request waits this long for a pooled connection, not SQLAlchemy's 30 s.
        kwargs.setdefault("pool_timeout", connect_timeout)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves
    # (SQLAlchemy's documented recipe), so nested transactions work as on PostgreSQL.
    connection.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    # Foreign keys are off by default in SQLite; WAL lets readers work beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Flask extension holding the engine and handing out request-scoped sessions."""

    def init_app(self, app: Flask, engine: Engine | None = None) -> None:
        settings: Settings = app.extensions["settings"]
        engine = engine or build_engine(
            settings.database_url,
            connect_timeout=settings.database_connect_timeout_seconds,
            statement_timeout_ms=settings.database_statement_timeout_ms,
        )
        app.extensions["database"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(bind=engine, expire_on_commit=False),
        }

        @app.after_request
        def _commit_on_success(response: Any) -> Any:
            # A 4xx or 5xx answer keeps nothing the request wrote, except what was
            # committed early on purpose (see commit_early).
            session: Session | None = g.pop("_db_session", None)
            if session is not None:
                try:
                    if response.status_code < 400:
                        session.commit()
                    else:
                        session.rollback()
                finally:
                    session.close()
            return response

        @app.teardown_appcontext
        def _close_session(_exc: BaseException | None) -> None:
            session: Session | None = g.pop("_db_session", None)
            if session is not None:
                session.rollback()
                session.close()

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["database"]["engine"]
        return engine

    @property
    def session(self) -> Session:
        """The session of the current app context, created on first use."""
        if "_db_session" not in g:
            maker: sessionmaker[Session] = current_app.extensions["database"]["sessionmaker"]
            g._db_session = maker()
        session: Session = g._db_session
        return session

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Yield the session for work outside a request; commit at the end, roll back on error."""
        session = self.session
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()

    def after_commit(self, callback: Callable[[], object]) -> bool:
        """Run `callback` once when this app context's open session next commits.

        Returns False (and registers nothing) when no session is open: nothing of this
        context is waiting to be committed.
        """
        session: Session | None = g.get("_db_session") if has_app_context() else None
        if session is None:
            return False
        event.listen(session, "after_commit", lambda _session: callback(), once=True)
        return True

    def bind_sessions(self, app: Flask, bind: Any, **options: Any) -> None:
        """Point new sessions at another bind (tests wrap each test in a transaction)."""
        app.extensions["database"]["sessionmaker"] = sessionmaker(
            bind=bind, expire_on_commit=False, **options
        )

    def ping(self) -> bool:
        """Return True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True


def commit_early(session: Session) -> None:
    """Commit the request's work so far, before its answer; only for the two cases below.

    The request's own commit comes after the answer is decided and is skipped for 4xx
    and 5xx answers. Two writes must outlive that:
    (a) starting a checkout: the attempt is committed before Stripe is called, so every
        Checkout Session Stripe makes has our row (and no transaction stays open while
        we wait on Stripe; on SQLite a transaction that starts with its write waits its
        turn where a read turned into a write would fail), and an attempt Stripe refused
        is kept as failed although the answer is 502;
    (b) a signed webhook body we cannot read: the inbox row is kept as failed, with the
        reason, although the answer is 400.
    """
    session.commit()


def insert_ignoring_conflicts(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted the row.

    On PostgreSQL a concurrent insert of the same key makes this wait for the other
    transaction and then do nothing, so the caller can re-read the committed row.
    """
    statement = _dialect_insert(session)(table).values(**values).on_conflict_do_nothing()
    # RETURNING says whether a row went in. (rowcount cannot: on PostgreSQL SQLAlchemy
    # returns the new primary key implicitly, and the rowcount is then -1 either way.)
    returned = session.execute(statement.returning(*table.primary_key.columns))
    return returned.first() is not None


def insert_or_update(
    session: Session,
    table: Table,
    values: Mapping[str, Any],
    *,
    conflict_on: Sequence[str],
    set_: Mapping[str, Any],
) -> None:
    """INSERT … ON CONFLICT (conflict_on) DO UPDATE SET set_, in one statement."""
    statement = _dialect_insert(session)(table).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=conflict_on, set_=set_))


def _dialect_insert(session: Session) -> Any:
    # Both dialects' insert() offer the same ON CONFLICT clauses; core SQL has none.
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
