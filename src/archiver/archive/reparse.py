"""Re-run the parser on stored captures: "captures table -> parse -> store", no network.

Every successful HTML capture is read again (not robots.txt, feeds, images or error pages),
each with the site profile recorded with it (`captures.profile`), else the profile claiming its
host, unless the caller names one profile for all. Listing and other pages that are not
articles are counted as such ("not_article"), not as failures.

Parsing is CPU-bound, so worker processes parse (each reads captures through its own
read-only connection) while the main process, the only writer, stores results in batches.
Captures are handed out newest first: the newest capture of each article decides its current
values, and older captures of the same article are parsed but not stored ("superseded"), so a
re-parse never rewrites history or creates version churn.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from archiver.archive.read import read_capture
from archiver.archive.store import Writer, utc_now
from archiver.errors import ArchiverError, NotAnArticle
from archiver.profile import builtin_names, builtin_profile, get_profile
from archiver.record import Article, Capture, Issue, IssueArticle

HTML_TYPES = ("text/html", "application/xhtml+xml")
BATCH_SIZE = 200
MAX_REPORTED_FAILURES = 20


@dataclass
class ReparseResult:
    captures: int = 0  # captures parsed
    # new/changed/unchanged/superseded (articles), issue (issue pages), not_article, failed
    outcomes: Counter = field(default_factory=Counter)
    fields: Counter = field(default_factory=Counter)  # field name -> articles whose value changed
    failures: list[str] = field(default_factory=list)  # the first few parser crashes, one line each

    @property
    def articles(self) -> int:
        """Captures that gave an article (stored or superseded by a newer capture)."""
        return sum(self.outcomes[k] for k in ("new", "changed", "unchanged", "superseded"))

    def to_dict(self) -> dict:
        return {"captures": self.captures, "outcomes": dict(self.outcomes),
                "fields": dict(self.fields), "failures": self.failures}


def default_parse(capture: Capture, profile) -> Article | tuple[Issue, str | None]:
    """The page's Article; for an issue page, its Issue and newsletter instead."""
    from archiver.parse import parse_capture, parse_issue_capture

    try:
        return parse_capture(capture, profile=profile)
    except NotAnArticle as refusal:
        if refusal.kind not in ("issue", "listing"):
            raise
        try:
            return parse_issue_capture(capture, profile)
        except NotAnArticle:
            raise refusal from None


def page_captures(db: Database) -> list[tuple[int, str | None]]:
    """(id, recorded profile) of the successful HTML captures but robots.txt, newest first."""
    placeholders = ", ".join("?" * len(HTML_TYPES))
    return [(capture_id, profile) for capture_id, profile in db.execute(
        f"SELECT id, profile FROM captures WHERE status BETWEEN 200 AND 299 "
        f"AND (content_type IS NULL OR content_type IN ({placeholders})) "
        f"AND url NOT LIKE '%/robots.txt' "
        f"ORDER BY fetched_at DESC, id DESC", list(HTML_TYPES))]


def resolve_profile(spec):
    """A Profile from a Profile, a built-in name or a TOML file (None stays None)."""
    if spec is None:
        return None
    return get_profile(spec)


# -- worker side -----------------------------------------------------------------------------

_worker: dict = {}


def _start_worker(db_path: str, parse: Callable, profile) -> None:
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"  # as_uri escapes "?", "#" and "%"
    conn = sqlite3.connect(uri, uri=True)
    _worker.update(db=Database(conn, execute_plugins=False), parse=parse, profile=profile)


def profile_for(recorded: str | None, url: str):
    """The given profile; else the recorded one (a built-in's name); else the host's."""
    if _worker["profile"] is not None:
        return _worker["profile"]
    if recorded is None:
        return get_profile(None, url)
    if recorded not in builtin_names():
        raise ArchiverError(f"recorded with profile {recorded!r}, which is not built in: give "
                            "its file with --profile FILE.toml")
    return builtin_profile(recorded)


def _parse_stored(job: tuple[int, str | None]) -> tuple:
    """(capture_id, fetched_at, kind, payload): kind is "article" (payload: the record dict),
    "issue" (payload: (issue dict, newsletter)), "not_article" or "failed" (the reason)."""
    capture_id, recorded = job
    capture = read_capture(_worker["db"], capture_id)
    try:
        result = _worker["parse"](capture, profile_for(recorded, capture.url))
    except NotAnArticle as exc:
        return capture_id, capture.fetched_at, "not_article", str(exc)
    except ArchiverError as exc:
        return capture_id, capture.fetched_at, "failed", str(exc)
    except Exception as exc:  # a parser bug on one page must not stop the batch
        return capture_id, capture.fetched_at, "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
    if isinstance(result, Article):
        return capture_id, capture.fetched_at, "article", result.to_dict()
    issue, newsletter = result if isinstance(result, tuple) else (result, None)
    if isinstance(issue, Issue):
        return capture_id, capture.fetched_at, "issue", (dataclasses.asdict(issue), newsletter)
    return capture_id, capture.fetched_at, "failed", f"the parser returned {type(result).__name__}"


# -- main side -------------------------------------------------------------------------------

def reparse(archive, parse: Callable | None = None, workers: int = 2,
            progress: Callable[[int], None] | None = None, profile=None) -> ReparseResult:
    """Re-parse every stored page of `archive` (an open, writable Archive).

    `parse(capture, profile)` returns an Article, or for an issue page an Issue or an
    (Issue, newsletter) pair, or raises NotAnArticle; default `archiver.parse.parse_capture`.
    `profile` (a Profile, built-in name or TOML file) is used for every capture."""
    parse = parse or default_parse
    profile = resolve_profile(profile)
    jobs = page_captures(archive.db)
    result = ReparseResult()
    stored: set[str] = set()
    batch: list[tuple] = []

    def flush() -> None:
        with archive.transaction():
            writer = Writer(archive.db, utc_now(), bulk=True)
            for kind, item, capture_id, fetched_at in batch:
                if kind == "issue":
                    writer.store_issue(*item, capture_id)
                    result.outcomes["issue"] += 1
                    continue
                outcome, fields = writer.store(item, capture_id, fetched_at, reason="reparse")
                result.outcomes[outcome] += 1
                if outcome == "changed":
                    result.fields.update(fields)
            writer.finish()
        batch.clear()

    for capture_id, fetched_at, kind, payload in _parsed(archive, jobs, parse, workers, profile):
        result.captures += 1
        if progress:
            progress(1)
        if kind == "article":
            item = Article.from_dict(payload)
            key = item.canonical_url or item.url
            if not key:  # a capture always has a URL: a record without one is a parser bug
                kind, payload = "failed", "the parser returned a record with neither canonical_url nor url"
        elif kind == "issue":
            issue, newsletter = payload
            item = (Issue(**{**issue, "articles": [IssueArticle(**e) for e in issue["articles"]]}),
                    newsletter)
            key = "issue " + (item[0].url or f"{newsletter} {item[0].date}")
        if kind not in ("article", "issue"):
            result.outcomes[kind] += 1
            if kind == "failed" and len(result.failures) < MAX_REPORTED_FAILURES:
                result.failures.append(f"capture {capture_id}: {payload}")
            continue
        if key in stored:  # an older capture of a page already read
            result.outcomes["superseded" if kind == "article" else "issue"] += 1
            continue
        stored.add(key)
        batch.append((kind, item, capture_id, fetched_at))
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()
    return result


def _parsed(archive, jobs: list[tuple], parse, workers: int, profile):
    """Parse results in `jobs` order, from a process pool (or in-process for one worker)."""
    if workers <= 1 or len(jobs) < 2:
        _start_worker(str(archive.path), parse, profile)
        try:
            yield from map(_parse_stored, jobs)
        finally:
            _worker.pop("db").conn.close()
        return
    # fork is cheap and children never touch the parent's connection; elsewhere spawn.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(workers, _start_worker, (str(archive.path), parse, profile)) as pool:
        yield from pool.imap(_parse_stored, jobs, chunksize=8)
