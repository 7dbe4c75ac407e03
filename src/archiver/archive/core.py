"""`Archive`: open/migrate the SQLite file, keep captures, store articles with their history."""

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
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from sqlite_utils import Database

from archiver.archive import schema
from archiver.archive.store import CITATION_FIELDS, Writer
from archiver.errors import ArchiveLocked, ArchiverError
from archiver.outputs import archive_files, replaced_atomically
from archiver.record import Article, Author, Capture, Citation, Issue, IssueArticle

# Response headers worth keeping with a capture. An allow-list, so credentials
# (Cookie, Set-Cookie, Authorization, ...) can never slip into the archive.
KEPT_HEADERS = (
    "content-type", "content-length", "content-encoding", "content-language", "date",
    "last-modified", "etag", "cache-control", "expires", "location", "retry-after",
    "x-robots-tag", "link",
)
NEVER_KEPT_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization"}


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Archive:
    """The SQLite archive. ``Archive(path)`` opens or creates it (parent directories too) and
    upgrades its schema; ``create=False`` refuses to create a missing file (read commands)."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise ArchiverError(f"{self.path}: no such archive (run a crawl or `archiver load` first)")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise ArchiverError(f"{self.path}: is a directory, not an archive file")
        self.db = Database(self.path)
        try:
            self._configure()
            self.migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if "locked" in str(exc):
                raise ArchiveLocked(f"{self.path}: the archive is locked by another process") from None
            if "not a database" in str(exc):
                raise ArchiverError(f"{self.path}: not an SQLite archive ({exc})") from None
            raise ArchiverError(f"{self.path}: cannot open the archive: {exc}") from None
        except BaseException:
            self.db.close()
            raise

    def _configure(self) -> None:
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.enable_wal()
        # WAL + NORMAL stays consistent after a crash (only the last commits can be lost on
        # power failure) and avoids an fsync per transaction.
        self.db.execute("PRAGMA synchronous = NORMAL")

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Bring the file up to `schema.SCHEMA_VERSION`, one transaction per step."""
        version = self.schema_version
        if version > schema.SCHEMA_VERSION:
            raise ArchiverError(
                f"{self.path}: archive schema version {version} is newer than this archiver "
                f"supports ({schema.SCHEMA_VERSION}); upgrade archiver")
        if version == 0:
            clashing = [t for t in schema.OWN_TABLES if self.db[t].exists()]
            if clashing:
                raise ArchiverError(
                    f"{self.path}: has a {clashing[0]!r} table but no archive schema version; "
                    "not an archiver archive")
        for target in range(version + 1, schema.SCHEMA_VERSION + 1):
            try:
                with self.transaction():
                    schema.MIGRATIONS[target](self.db)
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

    def add_capture(self, capture: Capture) -> int:
        """Keep one fetched response; returns its id. Identical bodies are stored once."""
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
                "INSERT INTO captures (url, fetched_at, status, content_type, headers, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [capture.url, capture.fetched_at, capture.status, capture.content_type or None,
                 json.dumps(kept, sort_keys=True), digest])
            return cursor.lastrowid

    def get_capture(self, capture_id: int) -> Capture:
        return read_capture(self.db, capture_id)

    # -- articles ----------------------------------------------------------------------------

    def store(self, article: Article, capture_id: int | None = None,
              seen_at: str | None = None) -> str:
        """Archive one article: "new", "changed" (previous values kept in article_versions)
        or "unchanged" (only last_seen moves)."""
        with self.transaction():
            writer = Writer(self.db, utc_now())
            outcome = writer.store(article, capture_id, seen_at)[0]
            writer.finish()
            return outcome

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
        from archiver.archive.search import search

        return search(self.db, query, author=author, keyword=keyword, newsletter=newsletter,
                      study_type=study_type, since=since, until=until, limit=limit)

    def export(self, format: str = "jsonl", output: TextIO | str | Path | None = None,
               force: bool = False) -> int:
        """Write every article to `output` (a text stream, a path, or None for stdout) as
        "jsonl" (records; `load` reads them back) or "csv" (the articles_flat view).

        A path is written beside itself and renamed into place when complete; an existing
        file is replaced only with `force`, and the archive's own files never are."""
        from archiver.archive.report import export

        if isinstance(output, (str, Path)):
            with replaced_atomically(output, protect=archive_files(self.path), force=force) as stream:
                return self.export(format, stream)
        with self.snapshot():
            return export(self.db, format, output if output is not None else sys.stdout)

    def stats(self) -> dict:
        from archiver.archive.report import stats

        with self.snapshot():
            return stats(self.db)

    def reparse(self, parse=None, workers: int = 2, progress=None):
        """Re-run `parse` (default `archiver.parse.parse_capture`) on the stored captures."""
        from archiver.archive.reparse import reparse

        return reparse(self, parse=parse, workers=workers, progress=progress)

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
        return read_record(self.db, article_id)

    def get_article(self, url: str) -> Article | None:
        row = self.db.execute("SELECT id FROM articles WHERE canonical_url = ?", [url]).fetchone()
        return Article.from_dict(self.article_record(row[0])) if row else None

    def iter_articles(self) -> Iterator[Article]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            yield Article.from_dict(self.article_record(article_id))


def read_record(db: Database, article_id: int) -> dict:
    cursor = db.execute(
        "SELECT articles.*, newsletters.name AS newsletter_name FROM articles "
        "LEFT JOIN newsletters ON newsletters.id = articles.newsletter_id WHERE articles.id = ?",
        [article_id])
    names = [d[0] for d in cursor.description]
    row = dict(zip(names, cursor.fetchone()))
    authors = [
        Author(name, json.loads(credentials or "[]"))
        for name, credentials in db.execute(
            "SELECT authors.name, article_authors.credentials FROM article_authors "
            "JOIN authors ON authors.id = article_authors.author_id "
            "WHERE article_authors.article_id = ? ORDER BY position", [article_id]).fetchall()
    ]
    keywords = [name for (name,) in db.execute(
        "SELECT keywords.name FROM article_keywords JOIN keywords ON keywords.id = keyword_id "
        "WHERE article_id = ? ORDER BY position", [article_id]).fetchall()]
    citation = None
    if row["citation_text"] is not None:
        citation = Citation(**{name: row[f"citation_{name}"] for name in CITATION_FIELDS})
    article = Article(
        url=row["url"], canonical_url=row["canonical_url"], article_id=row["site_article_id"],
        title=row["title"], authors=authors, published=row["published"],
        issue=read_issue(db, row["issue_id"]), newsletter=row["newsletter_name"],
        category=row["category"], disclosure=row["disclosure"], citation=citation,
        study_type=row["study_type"], body=row["body"], keywords=keywords,
        paywalled=bool(row["paywalled"]), word_count=row["word_count"],
        parser_version=row["parser_version"], warnings=json.loads(row["warnings"] or "[]"),
    )
    return article.to_dict()


def read_issue(db: Database, issue_id: int | None) -> Issue | None:
    if issue_id is None:
        return None
    date, title, url = db.execute("SELECT date, title, url FROM issues WHERE id = ?",
                                  [issue_id]).fetchone()
    entries = [IssueArticle(t, u) for t, u in db.execute(
        "SELECT title, url FROM issue_articles WHERE issue_id = ? ORDER BY position",
        [issue_id]).fetchall()]
    return Issue(date=date, title=title, url=url, articles=entries)


def read_capture(db: Database, capture_id: int) -> Capture:
    row = db.execute(
        "SELECT captures.url, captures.status, captures.headers, captures.fetched_at, "
        "capture_bodies.compression, capture_bodies.body FROM captures "
        "JOIN capture_bodies ON capture_bodies.sha256 = captures.sha256 WHERE captures.id = ?",
        [capture_id]).fetchone()
    if row is None:
        raise ArchiverError(f"no capture with id {capture_id}")
    url, status, headers, fetched_at, compression, body = row
    if compression == "zlib":
        body = zlib.decompress(body)
    return Capture(url=url, status=status, headers=json.loads(headers or "{}"), body=body,
                   fetched_at=fetched_at)
