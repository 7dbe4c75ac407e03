"""Re-run the parser on stored captures: "captures table -> parse -> store", no network.

Parsing is CPU-bound, so worker processes parse (each reads captures through its own
read-only connection) while the main process, the only writer, stores results in batches.
Captures are handed out newest first: the newest capture of each article decides its current
values, and older captures of the same article are parsed but not stored ("superseded"), so a
re-parse never rewrites history or creates version churn.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from archiver.archive.core import Archive, read_capture, utc_now
from archiver.archive.store import Writer, article_key
from archiver.errors import ArchiverError, NotAnArticle
from archiver.record import Article, Capture

HTML_TYPES = ("text/html", "application/xhtml+xml")
BATCH_SIZE = 200
MAX_REPORTED_FAILURES = 20


@dataclass
class ReparseResult:
    captures: int = 0  # captures parsed
    outcomes: Counter = field(default_factory=Counter)  # new/changed/unchanged/superseded/not_article/failed
    fields: Counter = field(default_factory=Counter)  # field name -> articles whose value changed
    failures: list[str] = field(default_factory=list)  # the first few parser crashes, one line each

    def to_dict(self) -> dict:
        return {"captures": self.captures, "outcomes": dict(self.outcomes),
                "fields": dict(self.fields), "failures": self.failures}


def default_parse(capture: Capture) -> Article:
    from archiver.parse import parse_capture

    return parse_capture(capture)


def is_article_url(url: str) -> bool:
    """Ask the site profile when it is there; otherwise let the parser decide."""
    try:
        from archiver.parse.carlat import classify
    except ImportError:
        return True
    return classify(url) == "article"


def article_capture_ids(db: Database) -> list[int]:
    """Successful HTML captures of article pages, newest first."""
    placeholders = ", ".join("?" * len(HTML_TYPES))
    rows = db.execute(
        f"SELECT id, url FROM captures WHERE status BETWEEN 200 AND 299 "
        f"AND (content_type IS NULL OR content_type IN ({placeholders})) "
        f"ORDER BY fetched_at DESC, id DESC", list(HTML_TYPES))
    return [capture_id for capture_id, url in rows if is_article_url(url)]


# -- worker side -----------------------------------------------------------------------------

_worker: dict = {}


def _start_worker(db_path: str, parse: Callable[[Capture], Article]) -> None:
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"  # as_uri escapes "?", "#" and "%"
    conn = sqlite3.connect(uri, uri=True)
    _worker.update(db=Database(conn, execute_plugins=False), parse=parse)


def _parse_stored(capture_id: int) -> tuple:
    """(capture_id, fetched_at, kind, payload): kind is "article" (payload: the record dict),
    "not_article" or "failed" (payload: the reason)."""
    capture = read_capture(_worker["db"], capture_id)
    try:
        article = _worker["parse"](capture)
    except NotAnArticle as exc:
        return capture_id, capture.fetched_at, "not_article", str(exc)
    except Exception as exc:  # a parser bug on one page must not stop the batch
        return capture_id, capture.fetched_at, "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
    return capture_id, capture.fetched_at, "article", article.to_dict()


# -- main side -------------------------------------------------------------------------------

def reparse(archive: Archive, parse: Callable[[Capture], Article] | None = None,
            workers: int = 2, progress: Callable[[int], None] | None = None) -> ReparseResult:
    parse = parse or default_parse
    ids = article_capture_ids(archive.db)
    result = ReparseResult()
    stored: set[str] = set()
    batch: list[tuple[Article, int, str]] = []

    def flush() -> None:
        with archive.transaction():
            writer = Writer(archive.db, utc_now(), bulk=True)
            for article, capture_id, fetched_at in batch:
                outcome, fields = writer.store(article, capture_id, fetched_at, reason="reparse")
                result.outcomes[outcome] += 1
                if outcome == "changed":
                    result.fields.update(fields)
            writer.finish()
        batch.clear()

    for capture_id, fetched_at, kind, payload in _parsed(archive, ids, parse, workers):
        result.captures += 1
        if progress:
            progress(1)
        if kind == "article":
            article = Article.from_dict(payload)
            try:
                key = article_key(article)
            except ArchiverError as exc:  # a record the archive cannot key: that page's failure
                kind, payload = "failed", str(exc)
        if kind != "article":
            result.outcomes[kind] += 1
            if kind == "failed" and len(result.failures) < MAX_REPORTED_FAILURES:
                result.failures.append(f"capture {capture_id}: {payload}")
            continue
        if key in stored:
            result.outcomes["superseded"] += 1
            continue
        stored.add(key)
        batch.append((article, capture_id, fetched_at))
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return result


def _parsed(archive: Archive, ids: list[int], parse, workers: int):
    """Parse results in `ids` order, from a process pool (or in-process for one worker)."""
    if workers <= 1 or len(ids) < 2:
        _start_worker(str(archive.path), parse)
        try:
            yield from map(_parse_stored, ids)
        finally:
            _worker.pop("db").conn.close()
        return
    # fork is cheap and children never touch the parent's connection; elsewhere spawn.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(workers, _start_worker, (str(archive.path), parse)) as pool:
        yield from pool.imap(_parse_stored, ids, chunksize=8)
