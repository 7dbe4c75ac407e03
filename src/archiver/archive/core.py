"""`Archive`: open the SQLite file (upgrading it, or read-only), keep captures, store articles
and issues with their history; search, export, stats and reparse are in their own modules."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from sqlite_utils import Database

from archiver.archive import migrations, report, reparse, schema, search
from archiver.archive.read import RecordReader, columns_of, read_capture
from archiver.archive.store import Writer, utc_now
from archiver.errors import ArchiveLocked, ArchiverError
from archiver.outputs import archive_files, replaced_atomically
from archiver.record import Article, Capture, Issue

# Response headers worth keeping with a capture. An allow-list, so credentials
# (Cookie, Set-Cookie, Authorization, ...) can never slip into the archive.
KEPT_HEADERS = (
    "content-type", "content-length", "content-encoding", "content-language", "date",
    "last-modified", "etag", "cache-control", "expires", "location", "retry-after",
    "x-robots-tag", "link",
)
NEVER_KEPT_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}
# A writer that finds the archive locked by another one (a crawl while a load runs) waits this
# long for it before giving up with ArchiveLocked (exit 75).
BUSY_TIMEOUT = 60.0
SQLITE_MAGIC = b"SQLite format 3\x00"


class Archive:
    """The SQLite archive.

    ``Archive(path)`` opens it, creating it (and its parent directories) when missing, and
    upgrades its schema: what `crawl` and `load` do. ``create=False`` refuses a missing file
    or one that is not an archive yet (`reparse`). ``read_only=True`` opens it read-only and
    as it is, of any schema version this code knows (`search`, `export`, `stats`): a file
    that is not an archive is refused without a byte of it, or of any file beside it, written.
    A writer waits up to `busy_timeout` seconds for another writer's transaction to end.
    """

    def __init__(self, path: str | Path, create: bool = True, read_only: bool = False,
                 busy_timeout: float = BUSY_TIMEOUT):
        self.path = Path(path)
        self.read_only = read_only
        self._wal_files_before: tuple[bool, bool] | None = None
        self._check_path(create and not read_only)
        if read_only:
            self.db = self._connect_read_only(busy_timeout)
        else:
            self.db = self._connect(busy_timeout, create)
        self.fts_weights = self._fts_weights()

    # -- opening -----------------------------------------------------------------------------

    def _check_path(self, create: bool) -> None:
        if self.path.is_dir():
            raise ArchiverError(f"{self.path}: is a directory, not an archive file")
        if not self.path.exists():
            if not create:
                raise ArchiverError(f"{self.path}: no such archive (run a crawl or `archiver load` first)")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return
        with open(self.path, "rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
        if not header:
            if not create:
                raise ArchiverError(f"{self.path}: is an empty file, not an archive")
        elif header != SQLITE_MAGIC:
            raise ArchiverError(f"{self.path}: not an SQLite archive (not an SQLite database file)")

    def _connect(self, busy_timeout: float, create: bool) -> Database:
        db = None
        try:
            db = Database(sqlite3.connect(self.path, timeout=busy_timeout))
            refusal = self._refusal(db, allow_new=create)
            if refusal:
                raise ArchiverError(f"{self.path}: {refusal}")
            db.execute("PRAGMA foreign_keys = ON")
            db.enable_wal()
            # WAL + NORMAL stays consistent after a crash (only the last commits can be lost on
            # power failure) and avoids an fsync per transaction.
            db.execute("PRAGMA synchronous = NORMAL")
            self.db = db
            self.migrate()
            return db
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            raise self._open_error(exc) from None
        except BaseException:
            if db is not None:
                db.close()
            raise

    def _connect_read_only(self, busy_timeout: float) -> Database:
        """mode=ro. Reading a WAL-mode file makes SQLite create its -wal and -shm files, so the
        file is first looked at with immutable=1 (reads the main file only, creates nothing)
        unless a -wal file is there already (a writer has it open: its data counts)."""
        companions = (Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
        self._wal_files_before = tuple(p.exists() for p in companions)
        uri = self.path.resolve().as_uri()  # as_uri escapes "?", "#" and "%"
        try:
            peek = sqlite3.connect(f"{uri}?{'mode=ro' if self._wal_files_before[0] else 'immutable=1'}",
                                   uri=True)
            try:
                refusal = self._refusal(Database(peek), allow_new=False)
            finally:
                peek.close()
            if refusal:
                raise ArchiverError(f"{self.path}: {refusal}")
            return Database(sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=busy_timeout))
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from None

    def _refusal(self, db: Database, allow_new: bool) -> str | None:
        """Why the file cannot be opened as an archive (None: it can)."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > migrations.SCHEMA_VERSION:
            return (f"archive schema version {version} is newer than this archiver supports "
                    f"({migrations.SCHEMA_VERSION}); upgrade archiver")
        if version >= 1:
            return None
        names = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        clashing = [name for name in names if name in schema.OWN_TABLES]
        if clashing:
            return f"has a {clashing[0]!r} table but no archive schema version; not an archiver archive"
        foreign = [name for name in names if name not in schema.CRAWL_TABLES]
        if foreign:
            return (f"is an SQLite database of something else (tables: {', '.join(foreign[:5])}); "
                    "not an archiver archive")
        if not allow_new:
            return "is not an archive yet (no archive schema): run a crawl or `archiver load` first"
        return None

    def _open_error(self, exc: sqlite3.DatabaseError) -> ArchiverError:
        message = str(exc)
        if "locked" in message or "busy" in message:
            return ArchiveLocked(f"{self.path}: the archive is locked by another process")
        if "not a database" in message:
            return ArchiverError(f"{self.path}: not an SQLite archive ({message})")
        return ArchiverError(f"{self.path}: cannot open the archive: {message}")

    def _fts_weights(self) -> tuple[float, ...]:
        """The bm25 weights of the index this file has (an older version's has fewer columns)."""
        indexed = [c for c in columns_of(self.db, "articles_fts") if c != "articles_fts"]
        weights = dict(zip(schema.FTS_COLUMNS, schema.FTS_WEIGHTS))
        return tuple(weights.get(column, 1.0) for column in indexed)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.db.close()
        if self._wal_files_before == (False, False):
            self._remove_wal_files()

    def _remove_wal_files(self) -> None:
        """A read-only connection cannot delete the -wal/-shm files it had to create; a plain
        connection that only reads does so on closing when it is the file's last one (SQLite's
        own clean-up, which leaves them alone while another process uses the file)."""
        if not Path(f"{self.path}-wal").exists() and not Path(f"{self.path}-shm").exists():
            return
        with contextlib.suppress(sqlite3.Error, OSError):
            conn = sqlite3.connect(self.path, timeout=0)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Bring the file up to `migrations.SCHEMA_VERSION`, one transaction per step."""
        version = self.schema_version
        for target in range(version + 1, migrations.SCHEMA_VERSION + 1):
            try:
                with self.transaction():
                    migrations.MIGRATIONS[target](self.db)
                    self.db.execute(f"PRAGMA user_version = {target:d}")
            except sqlite3.Error as exc:
                if "locked" in str(exc):
                    raise
                raise ArchiverError(f"{self.path}: upgrading the schema to version {target} failed, "
                                    f"the archive is unchanged: {exc}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Archive]:
        """One ``BEGIN IMMEDIATE`` .. COMMIT, or ROLLBACK on any exception.

        Nested use joins the outer transaction through a savepoint: nothing is committed until
        the outermost block ends, and an exception caught between the blocks undoes only the
        inner block's writes. sqlite-utils' own write methods see the open transaction and
        use savepoints too, so they never commit behind our back.
        """
        if self.read_only:
            raise ArchiverError(f"{self.path}: opened read-only; nothing can be written")
        conn = self.db.conn
        if conn.in_transaction:
            name = f"archive_{secrets.token_hex(4)}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ArchiveLocked(f"{self.path}: the archive is locked by another process") from None
            raise
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- captures ----------------------------------------------------------------------------

    def add_capture(self, capture: Capture, profile: str | None = None) -> int:
        """Keep one fetched response, with the name of the site profile that reads it (what
        `reparse` reads it with again); returns its id. Identical bodies are stored once."""
        body = bytes(capture.body)
        digest = hashlib.sha256(body).hexdigest()
        headers = {name.lower(): value for name, value in capture.headers.items()}
        kept = {name: headers[name] for name in KEPT_HEADERS
                if name in headers and name not in NEVER_KEPT_HEADERS}
        with self.transaction():
            if self.db.execute("SELECT 1 FROM capture_bodies WHERE sha256 = ?", [digest]).fetchone() is None:
                self.db.execute(
                    "INSERT INTO capture_bodies (sha256, size, compression, body) VALUES (?, ?, ?, ?)",
                    [digest, len(body), "zlib", zlib.compress(body)])
            cursor = self.db.execute(
                "INSERT INTO captures (url, fetched_at, status, content_type, headers, sha256, profile) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [capture.url, capture.fetched_at, capture.status, capture.content_type or None,
                 json.dumps(kept, sort_keys=True), digest, profile])
            return cursor.lastrowid

    def get_capture(self, capture_id: int) -> Capture:
        return read_capture(self.db, capture_id)

    # -- articles and issues -----------------------------------------------------------------

    def store(self, article: Article, capture_id: int | None = None,
              seen_at: str | None = None) -> str:
        """Archive one article: "new", "changed" (previous values kept in article_versions)
        or "unchanged" (only last_seen moves)."""
        with self.transaction():
            writer = Writer(self.db, utc_now())
            outcome = writer.store(article, capture_id, seen_at)[0]
            writer.finish()
            return outcome

    def store_issue(self, issue: Issue, newsletter: str | None, capture_id: int | None = None) -> int:
        """Archive an issue page's own record; returns the issue's id.

        The issue row is found by `issue.url`, else by (newsletter, issue.date): the row its
        articles made. Its title, url, date, volume and number take the page's values (those it
        has); its table of contents is the page's when that is more complete than the one the
        articles showed, never a shorter one; listed articles already archived are linked."""
        with self.transaction():
            writer = Writer(self.db, utc_now())
            issue_id = writer.store_issue(issue, newsletter, capture_id)
            writer.finish()
            return issue_id

    def load(self, articles: Iterable[Article], seen_at: str | None = None) -> Counter:
        """Store many articles in one transaction; a Counter of the outcomes."""
        with self.transaction():
            writer = Writer(self.db, utc_now(), bulk=True)
            outcomes = writer.store_many(articles, seen_at)
            writer.finish()
        return outcomes

    # -- search, export, stats, reparse (each in its own module) ------------------------------

    def search(self, query: str, *, author: str | None = None, keyword: str | None = None,
               newsletter: str | None = None, study_type: str | None = None,
               since: str | None = None, until: str | None = None, limit: int = 20) -> list[dict]:
        """Articles matching the FTS5 `query`, best (bm25) first, each a dict with id, url,
        title, published, newsletter, authors, study_type, rank and a highlighted snippet.
        author/newsletter/study_type match part of the text, any case; keyword a whole keyword;
        since/until are YYYY[-MM[-DD]], inclusive. A malformed query raises ArchiverError."""
        return search.search(self.db, query, author=author, keyword=keyword, newsletter=newsletter,
                             study_type=study_type, since=since, until=until, limit=limit,
                             weights=self.fts_weights)

    def export(self, format: str = "jsonl", output: TextIO | str | Path | None = None,
               force: bool = False, bom: bool = False) -> int:
        """Write every article to `output` (a text stream, a path, or None for stdout) as
        "jsonl" (records; `load` reads them back) or "csv" (the articles_flat view; `bom`
        starts it with a UTF-8 byte order mark, for spreadsheet programs that need one).

        A path is written beside itself and renamed into place when complete; an existing
        file is replaced only with `force`, and the archive's own files never are."""
        report.check_format(format, bom)
        if isinstance(output, (str, Path)):
            with replaced_atomically(output, protect=archive_files(self.path), force=force) as stream:
                return self.export(format, stream, bom=bom)
        with self.snapshot():
            return report.export(self.db, format, output if output is not None else sys.stdout, bom)

    def stats(self) -> dict:
        with self.snapshot():
            return report.stats(self.db)

    def reparse(self, parse=None, workers: int = 2, progress=None, profile=None):
        """Re-read every stored HTML page with its recorded profile (or `profile`, a Profile,
        name or file, for all of them); see `archiver.archive.reparse`."""
        return reparse.reparse(self, parse=parse, workers=workers, progress=progress,
                               profile=profile)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Archive]:
        """A consistent read of the whole archive that does not block writers (WAL)."""
        if self.db.conn.in_transaction:
            yield self
            return
        self.db.conn.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.conn.execute("COMMIT")

    # -- reading records back ----------------------------------------------------------------

    def article_record(self, article_id: int) -> dict:
        """The stored article as its JSON form (what `archiver parse` printed for it)."""
        return RecordReader(self.db).record(article_id)

    def get_article(self, key: str) -> Article | None:
        """The article archived under `key` (its canonical URL, see `article_key`)."""
        row = self.db.execute("SELECT id FROM articles WHERE canonical_url = ?", [key]).fetchone()
        return RecordReader(self.db).article(row[0]) if row else None

    def iter_articles(self) -> Iterator[Article]:
        reader = RecordReader(self.db)
        ids = [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            yield reader.article(article_id)
