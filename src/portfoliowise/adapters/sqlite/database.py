"""The embedded store's database: one SQLite file in WAL mode, its schema created and
migrated on open (the version recorded in `PRAGMA user_version`), shared by threads through
a small pool of connections (each used by one thread at a time), writes in
`BEGIN IMMEDIATE` transactions. SQLite's busy, locked, I/O and disk-full failures become
`SourceUnavailable`; anything else (a bug) is not disguised."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs

from portfoliowise.adapters.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from portfoliowise.domain.errors import SourceUnavailable

DATABASE_FILE = "portfoliowise.db"
APP_NAME = "portfoliowise"
BUSY_TIMEOUT_MS = 10_000
"""How long a connection waits for another writer's lock before giving up."""

_IDLE_CONNECTIONS = 8
"""Connections kept open between uses; more are opened under load and closed after."""

# Primary result codes meaning "the store cannot serve now", not "the code is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PROTOCOL,
    }
)


class SchemaVersionError(RuntimeError):
    """The database file was written by a newer PortfolioWise (its schema version is
    higher than the newest migration this code knows): upgrade before opening it."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this version of PortfolioWise only "
            f"knows versions up to {known}: upgrade PortfolioWise to open it"
        )
        self.path = path
        self.found = found
        self.known = known


def default_data_dir() -> Path:
    """The per-user data directory the embedded store lives in, per OS conventions."""
    return platformdirs.user_data_path(APP_NAME)


def open_database(data_dir: Path | None = None) -> SqliteDatabase:
    """Create `data_dir` (default: `default_data_dir()`) if needed and open the store's
    file in it."""
    directory = data_dir if data_dir is not None else default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(directory / DATABASE_FILE)


def _unavailable(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
    return (code & 0xFF) in _UNAVAILABLE_CODES


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn SQLite's "cannot serve now" failures into `SourceUnavailable`."""
    try:
        yield
    except sqlite3.Error as exc:
        if _unavailable(exc):
            raise SourceUnavailable(f"the local database failed {what}: {exc}") from exc
        raise


class SqliteDatabase:
    """One SQLite file shared by the stores and by threads. Opening it applies the
    migrations it lacks (creating the schema on first use) and refuses a newer schema."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        with translated(f"opening {path}"):
            first = self._connect()
            try:
                self._refuse_newer(first)
                first.execute("PRAGMA journal_mode=WAL")  # persistent: recorded in the file
                self._migrate(first)
            except BaseException:
                first.close()
                raise
        self._idle.append(first)

    # -- connections --------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction: its statements see one snapshot."""
        with self._borrowed() as conn, translated("reading"):
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                _end(conn, "COMMIT")

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a `BEGIN IMMEDIATE` transaction (the write lock taken at
        once, waiting up to the busy timeout): committed when the block ends, rolled back
        if it raises."""
        with self._borrowed() as conn, translated("writing"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                _end(conn, "ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._borrowed() as conn:
            return _user_version(conn)

    @property
    def journal_mode(self) -> str:
        with self._borrowed() as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close the idle connections; the database refuses further use."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> SqliteDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,  # transactions are begun explicitly
            check_same_thread=False,  # pooled: used by one thread at a time
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.row_factory = sqlite3.Row  # by name or by position
        return conn

    @contextmanager
    def _borrowed(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError(f"the database {self.path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            with translated(f"opening {self.path}"):
                conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # a failed BEGIN/COMMIT left it open
                conn.rollback()
            with self._lock:
                keep = not self._closed and len(self._idle) < _IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def _refuse_newer(self, conn: sqlite3.Connection) -> None:
        found = _user_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaVersionError(self.path, found, SCHEMA_VERSION)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Apply the migrations the file lacks, in order, in one write transaction (so
        two processes opening a new file at once migrate it once)."""
        if _user_version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._refuse_newer(conn)
            for migration in MIGRATIONS[_user_version(conn) :]:
                for statement in migration.statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            _end(conn, "ROLLBACK")
            raise
        conn.execute("COMMIT")


def _end(conn: sqlite3.Connection, statement: str) -> None:
    """End the transaction if SQLite has not already (it rolls back by itself after
    some errors, such as a full disk)."""
    if conn.in_transaction:
        conn.execute(statement)


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
