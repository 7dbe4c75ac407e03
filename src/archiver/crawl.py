"""The crawl: frontier in the archive, discovery by content, one transaction per page.

    with Archive("data/archive.db") as archive:
        report = crawl([], archive, CrawlConfig())   # [] = the profile's start pages

A page is what it holds, not what its URL looks like: every fetched page is examined
(archiver.parse.hubs) and its in-scope links — not denied by the profile, allowed by robots.txt —
are followed when it is an article or a hub (a listing, an issue page, a feed or sitemap, a
start page), and through at most `max_other_hops` pages in a row that are neither. The profile's
URL hints only order the queue (articles, then hubs) and name pages before they are fetched.
Start points: the start pages, the feeds the profile names, the `Sitemap:` lines of robots.txt.
One GET per page per run: a URL, its redirect target, its canonical URL and its article id are
one queue row.

Fetch threads only do network I/O, one parse thread examines pages, and the main thread owns
the SQLite connection and writes each page's capture, article and queue update in ONE
transaction, which is what makes `kill -9` safe.
A lock file (`<db>.lock`, flock: released by the OS however the process dies) keeps two crawls
off one archive: the second raises `ArchiveLocked` (exit 75) at once.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import fcntl
import logging
import os
import sqlite3
import stat
import sys
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from archiver.config import CrawlConfig
from archiver.errors import ArchiveLocked, ArchiverError, ArchiveVanished
from archiver.fetch import (
    REDIRECT_STATUSES,
    Fetcher,
    FetchCancelled,
    FetchError,
    RobotsDisallowed,
    Scope,
    host_key,
    strip_fragment,
)
from archiver.frontier import Frontier, QueueItem, utc_iso
from archiver.parse.discover import sitemap_of
from archiver.parse.hubs import HUB_KINDS, Examined, examine
from archiver.profile import Profile, get_profile
from archiver.record import Article, Capture

log = logging.getLogger("archiver.crawl")

HTML_TYPES = {"text/html", "application/xhtml+xml"}
SNIFFED_TYPES = {"", "application/octet-stream", "text/plain", "binary/octet-stream"}
COVERAGE_FIELDS = ("title", "authors", "published", "newsletter", "category", "issue", "citation",
                   "study_type", "disclosure", "body", "keywords")
STORED_FAILURES = 500  # failures kept in the run's stored report; the count is always exact
SHOWN = 20  # pages listed under each report line
PERMANENT_REDIRECTS = {301, 308}
ARCHIVE_CHECK_SECONDS = 0.5  # how often the crawl checks that its archive file is still there


# -- the lock ---------------------------------------------------------------------------------
@contextmanager
def crawl_lock(db_path: str | Path):
    """Hold `<db>.lock` for the crawl; ArchiveLocked at once if another process holds it.

    The lock is never opened through a symlink, and written (our pid) only when it is a lock
    file of ours: a plain file, not linked elsewhere, empty or holding a pid. Anything else is a
    one-line error (exit 2): a file that is not ours is never written."""
    path = Path(f"{db_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArchiverError(f"{path}: is a symbolic link, not a lock file; remove it") from None
        raise ArchiverError(f"{path}: cannot open the lock file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise ArchiverError(f"{path}: not a lock file of ours (not a plain file, or linked "
                                "elsewhere); remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).strip()
            raise ArchiveLocked(
                f"another crawl is running on {db_path}"
                + (f" (pid {holder.decode()})" if holder.isdigit() else "") + "; try again later") from None
        content = os.pread(fd, 4096, 0).strip()
        if content and not content.isdigit():
            raise ArchiverError(f"{path}: holds something other than a pid, not a lock file of "
                                "ours; remove it")
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


# -- the report ---------------------------------------------------------------------------------
@dataclass
class Report:
    run_id: int = 0
    resumed: bool = False
    requests: int = 0  # pages asked for in this run (robots.txt and retries not counted)
    fetched: int = 0  # full responses downloaded
    not_modified: int = 0  # 304: nothing downloaded, parsed or written
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0  # transient failures (network, 5xx, 429 after the retries): retried next run
    blocked: int = 0  # disallowed by robots.txt
    failures: list[list[str]] = field(default_factory=list)  # [url, reason]
    gone: int = 0  # final answers: 404, 410, other 4xx, "not found" pages
    gone_pages: list[list[str]] = field(default_factory=list)
    skipped: int = 0  # final answers that are no page: not HTML, empty, too large, bad redirects...
    skipped_pages: list[list[str]] = field(default_factory=list)
    hubs: int = 0  # listings, issue pages, feeds, start pages fetched
    other_pages: int = 0  # pages fetched that are neither articles nor hubs
    same_page: int = 0  # redirects to a page this run has fetched already (not fetched again)
    articles_parsed: int = 0
    field_counts: dict[str, int] = field(default_factory=dict)
    strategies: dict[str, dict[str, int]] = field(default_factory=dict)
    bytes_received: int = 0
    seconds: float = 0.0
    alarms: list[str] = field(default_factory=list)
    # Why this process stopped with pages still pending ("max_time (3600 s)"); not stored: the
    # run stays open and the next crawl resumes it.
    stopped: str = ""

    def coverage(self) -> dict[str, float]:
        if not self.articles_parsed:
            return {}
        return {name: self.field_counts.get(name, 0) / self.articles_parsed for name in COVERAGE_FIELDS}

    def count_article(self, article: Article) -> None:
        self.articles_parsed += 1
        for name in COVERAGE_FIELDS:
            if getattr(article, name):
                self.field_counts[name] = self.field_counts.get(name, 0) + 1
        for name, strategy in (article.provenance or {}).items():
            by_strategy = self.strategies.setdefault(name, {})
            by_strategy[strategy] = by_strategy.get(strategy, 0) + 1

    def fail(self, url: str, reason: str) -> None:
        self.failed += 1
        self.failures.append([url, reason])

    def final(self, state: str, url: str, reason: str) -> None:
        """A final answer: "gone" or "skipped"."""
        setattr(self, state, getattr(self, state) + 1)
        getattr(self, f"{state}_pages").append([url, reason])

    def to_dict(self, limit_failures: bool = False) -> dict:
        data = asdict(self)
        del data["stopped"]
        if limit_failures:
            for name in ("failures", "gone_pages", "skipped_pages"):
                data[name] = data[name][:STORED_FAILURES]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def format(self) -> str:
        lines = [
            f"crawl run {self.run_id}{' (resumed after an interruption)' if self.resumed else ''}:"
            f" {self.requests} pages requested in {self.seconds:.1f} s, {self.bytes_received:,} bytes received",
            f"  downloaded      {self.fetched}",
            f"  not modified    {self.not_modified}",
            f"  articles        {self.new} new, {self.changed} changed, {self.unchanged} unchanged",
            f"  hubs            {self.hubs} (listings, issue pages, feeds, start pages)",
            f"  other pages     {self.other_pages} (neither articles nor hubs)",
            f"  same page       {self.same_page} (redirects to a page fetched already)",
            f"  robots.txt      {self.blocked} disallowed",
            f"  gone            {self.gone} (404, 410, not found: a final answer, asked again in days)",
            *self._listed(self.gone_pages),
            f"  skipped         {self.skipped} (not HTML, empty, too large, bad redirects: final answers)",
            *self._listed(self.skipped_pages),
            f"  failed          {self.failed} (network errors, 5xx, 429: retried on the next run)",
            *self._listed(self.failures),
        ]
        coverage = self.coverage()
        if coverage:
            lines.append(f"  field coverage of the {self.articles_parsed} articles parsed in this run:")
            for name, share in coverage.items():
                rules = self.strategies.get(name, {})
                top = ", ".join(f"{rule} {count}" for rule, count in
                                sorted(rules.items(), key=lambda kv: -kv[1])[:3])
                lines.append(f"    {name:<11} {share:6.1%}" + (f"   ({top})" if top else ""))
        else:
            lines.append("  field coverage: no articles parsed in this run")
        for alarm in self.alarms:
            lines.append(f"  ALARM: {alarm}")
        if self.stopped:
            lines.append(f"  stopped at {self.stopped}: the pages not fetched stay pending; "
                         "the next crawl resumes this run")
        return "\n".join(lines)

    @staticmethod
    def _listed(pages: list[list[str]]) -> list[str]:
        lines = [f"    {url}: {reason}" for url, reason in pages[:SHOWN]]
        if len(pages) > SHOWN:
            lines.append(f"    ... and {len(pages) - SHOWN} more (see the log)")
        return lines


def coverage_alarms(report: Report, history: list[dict], config: CrawlConfig) -> list[str]:
    """Fields whose share fell `coverage_drop` below their average over earlier runs."""
    if report.articles_parsed < config.coverage_min_articles:
        return []
    earlier = [Report.from_dict(h) for h in history]
    earlier = [r for r in earlier if r.articles_parsed >= config.coverage_min_articles]
    if not earlier:
        return []
    alarms = []
    for name, share in report.coverage().items():
        usual = sum(r.coverage()[name] for r in earlier) / len(earlier)
        if share < usual - config.coverage_drop:
            alarms.append(f"{name} found in {share:.0%} of articles, usually {usual:.0%}: "
                          "the site's markup may have changed")
    return alarms


# -- one page -----------------------------------------------------------------------------------
@dataclass
class PageResult:
    item: QueueItem
    capture: Capture | None = None
    error: FetchError | None = None
    examined: Examined | None = None  # what the page is by its content, and its links
    exchanges: list = field(default_factory=list)  # for the WARC, written by the main thread


def kind_of(url: str, profile: Profile) -> str | None:
    """What a URL is by the profile's hints (judged on path + query, so a local mirror's URLs
    read like the site's), "page" when they say nothing. None for a malformed one
    (`http://[::1/x`): not followed, and not the failure of its page."""
    try:
        urlsplit(url).port  # raises ValueError when out of range or not a number
    except ValueError:
        return None
    return profile.hint(url) or "page"


def is_html(capture: Capture) -> bool:
    """HTML by its Content-Type; or, under a missing or generic one (servers do send HTML as
    application/octet-stream), by its first bytes."""
    if capture.content_type in HTML_TYPES - {""}:
        return True
    if capture.content_type in SNIFFED_TYPES:
        head = capture.body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return head.startswith((b"<!doctype html", b"<html", b"<!--", b"<head"))
    return False


def fetch_page(fetcher: Fetcher, item: QueueItem, claim=None, release=None) -> PageResult:
    """Runs in a fetch thread: only the network, so the thread is free for the next request.
    `claim(url, by)` says whether a redirect to `url` is followed (this run has not fetched that
    page yet); `release(urls)` gives back what a failed fetch claimed."""
    result = PageResult(item)
    claimed: list[str] = []

    def follow(target: str) -> bool:
        if claim is None:
            return True
        if claim(target, item.url):
            claimed.append(target)
            return True
        return False

    try:
        result.capture = fetcher.fetch(item.url, etag=item.etag, last_modified=item.last_modified,
                                       exchanges=result.exchanges, follow=follow)
    except FetchError as exc:
        result.error = exc
    except Exception as exc:  # a bug met on one page is that page's failure, not the crawl's
        log.exception("%s: unexpected error while fetching", item.url)
        result.error = FetchError(f"internal error: {type(exc).__name__}: {exc}"[:300], retryable=True)
    if result.error is not None and release is not None:
        release(claimed)
    return result


def examine_page(result: PageResult, profile: Profile) -> PageResult:
    """Runs in the parse thread: what the page is by its content, and its links."""
    capture = result.capture
    html = is_html(capture)
    if html and capture.content_type not in HTML_TYPES:  # sniffed: let the parser see it as HTML
        capture = dataclasses.replace(capture, headers={**capture.headers, "content-type": "text/html"})
    try:
        result.examined = examine(capture, profile, html=html)
    except Exception as exc:  # one bad page never stops a batch
        log.exception("%s: examining the page failed", capture.url)
        result.examined = Examined("broken", f"internal error: {type(exc).__name__}: {exc}"[:300])
    return result


# -- the crawl ----------------------------------------------------------------------------------
class CrawlStopped(Exception):
    """The crawl reached its max_time: nothing more is fetched, and the run stays open."""


class ArchiveRobotsStore:
    """robots.txt copies kept as captures in the archive (their ETag / Last-Modified among the
    kept headers), so each run asks for robots.txt conditionally. The fetch threads only see
    copies in memory: those of the crawl's hosts are read at the start, and new ones are written
    by the main thread, which owns the SQLite connection (`save`, with the next page)."""

    def __init__(self, archive, hosts):
        self.archive = archive
        self._copies: dict[str, Capture] = {}
        self._unsaved: list[Capture] = []
        self._lock = threading.Lock()
        for origin in (f"{scheme}://{host}" for host in sorted(hosts) for scheme in ("http", "https")):
            rows = archive.db["captures"].rows_where(
                "url = ? AND status = 200", [origin + "/robots.txt"], select="id",
                order_by="fetched_at DESC, id DESC", limit=1)
            for row in rows:
                self._copies[origin] = archive.get_capture(row["id"])

    def get(self, origin: str) -> Capture | None:
        with self._lock:
            return self._copies.get(origin)

    def put(self, origin: str, capture: Capture) -> None:
        with self._lock:
            self._copies[origin] = capture
            self._unsaved.append(capture)

    def save(self) -> None:
        with self._lock:
            unsaved, self._unsaved = self._unsaved, []
        for capture in unsaved:
            self.archive.add_capture(capture)


class Crawler:
    def __init__(self, archive, config: CrawlConfig, start_urls: list[str], profile: Profile,
                 progress=None):
        self.archive = archive
        self.profile = profile
        self.config = config
        self.start_urls = [strip_fragment(u) for u in start_urls]
        self.progress = progress
        self.frontier = Frontier(archive.db)
        extra_hosts = list(config.allow_hosts)
        if any(host_key(u) in profile.hosts for u in self.start_urls):
            extra_hosts += sorted(profile.hosts)  # the site answers on both names
        self.scope = Scope.for_urls(self.start_urls, extra_hosts)
        self.recorder = None
        if config.warc:
            from archiver.warc import WarcRecorder, crawl_info

            self.recorder = WarcRecorder(config.warc_dir, max_size=config.warc_max_size,
                                         info=crawl_info(config))
        self.robots_store = ArchiveRobotsStore(archive, self.scope.hosts)
        self.fetcher = Fetcher(config, self.scope, recorder=self.recorder, robots_store=self.robots_store)
        self.report = Report()
        self.start_pages = set(self.start_urls)  # hubs whatever their content says
        # URLs asked (or being asked) in this run, with the canonical URLs and redirect targets
        # they turned out to be, each -> the row that has its page: none is fetched twice. Fetch
        # threads read it through _claim.
        self._claimed: dict[str, str] = {}
        self.run_id = 0
        self._claim_lock = threading.Lock()
        self._robots_sitemaps: set[str] = set()  # origins whose Sitemap: lines are queued
        self._db_file = _file_identity(archive.path)
        self._db_checked = time.monotonic()

    def close(self) -> None:
        self.fetcher.close()
        if self.recorder:
            self.recorder.close()

    def run(self) -> Report:
        started = time.monotonic()
        with self.archive.transaction():
            self.frontier.fill_keys(self.article_key)
            start = [(u, self.profile.hint(u) or "start", self.article_key(u)) for u in self.start_urls]
            run_id, resumed = self.frontier.begin_run(start, self.config.recheck_articles_days,
                                                      self.config.recheck_gone_days)
            self._claimed.update(self.frontier.fetched_in_run(run_id))
        self.run_id = run_id
        if resumed:
            saved = self.frontier.run_report(run_id)
            self.report = Report.from_dict(saved) if saved else Report()
        self.report.run_id, self.report.resumed = run_id, resumed
        seconds_before, bytes_before = self.report.seconds, self.report.bytes_received
        try:
            self._loop(run_id, lambda: (seconds_before + time.monotonic() - started,
                                        bytes_before + self.fetcher.bytes_received))
        finally:
            self.report.seconds = seconds_before + time.monotonic() - started
            self.report.bytes_received = bytes_before + self.fetcher.bytes_received
        self._check_archive(every=0)
        history = self.frontier.finished_reports(run_id)
        self.report.alarms = coverage_alarms(self.report, history, self.config)
        with self.archive.transaction():
            self.frontier.save_report(run_id, self.report.to_dict(limit_failures=True), finished=True,
                                      alarm="; ".join(self.report.alarms) or None)
        return self.report

    def article_key(self, url: str) -> str | None:
        """The queue's identity of an article URL with an id: host (without www.) + the path up
        to the id, so /articles/1227 and /articles/1227-slug are one row."""
        ref = self.profile.article_ref(url)
        return f"{host_key(url).removeprefix('www.')}{ref}" if ref else None

    def _claim(self, url: str, by: str | None = None) -> bool:
        """True, and the URL is `by`'s (its own by default), when this run has not asked for it."""
        with self._claim_lock:
            if url in self._claimed or self.profile.denies(url):
                return False
            self._claimed[url] = by or url
            return True

    def _release(self, urls: list[str]) -> None:
        with self._claim_lock:
            for url in urls:
                self._claimed.pop(url, None)

    def _host_limit(self, url: str) -> int:
        # With a delay the pacer sends one request per host at a time anyway: a second worker
        # would only sit waiting while another host could be served.
        return 1 if self.fetcher.delay_for(url) > 0 else self._queue_depth

    @property
    def _queue_depth(self) -> int:
        # Twice the workers: a worker that finishes takes the next page at once instead of
        # waiting for the main thread to record the last one and hand out another.
        return 2 * self.config.concurrency

    def _loop(self, run_id: int, totals) -> None:
        """Fetch threads only do network I/O; parsing happens on one parse thread (CPU-bound
        under the GIL anyway) and recording on this thread, which owns the SQLite connection.

        At `max_time` no new page is taken and the fetches in flight are cancelled (their pages
        stay pending); what was fetched is recorded, then CrawlStopped. Ctrl-C, or any error
        here, cancels the fetches in flight too, so nothing waits for a slow server."""
        fetching: dict[Future, QueueItem] = {}
        parsing: dict[Future, QueueItem] = {}
        per_host: Counter = Counter()
        candidates: list[QueueItem] = []
        max_pages = self.config.max_pages
        deadline = time.monotonic() + self.config.max_time if self.config.max_time else None
        stopping = False
        fetch_pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="fetch")
        parse_pool = ThreadPoolExecutor(1, thread_name_prefix="parse")
        try:
            while True:
                if deadline is not None and not stopping and time.monotonic() >= deadline:
                    stopping = True
                    self.fetcher.cancel()
                while not stopping and len(fetching) < self._queue_depth and not (
                        max_pages and self.report.requests >= max_pages):
                    item = self._pick(candidates, {**fetching, **parsing}, per_host)
                    if item is None:
                        break
                    candidates.remove(item)
                    per_host[host_key(item.url)] += 1
                    self.report.requests += 1
                    self._claim(item.url)
                    fetching[fetch_pool.submit(fetch_page, self.fetcher, item, self._claim,
                                               self._release)] = item
                if not fetching and not parsing:
                    if stopping and self.frontier.pending(self.scope.hosts, 1):
                        self._stop(run_id, totals)
                    return
                timeout = None if deadline is None or stopping else max(0.0, deadline - time.monotonic())
                done, _ = wait([*fetching, *parsing], timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    if future in fetching:
                        item = fetching.pop(future)
                        per_host[host_key(item.url)] -= 1
                        result = future.result()
                        if isinstance(result.error, FetchCancelled):
                            self.report.requests -= 1
                            continue  # neither done nor failed: the page stays pending
                        if result.capture is not None and result.capture.status == 200:
                            parsing[parse_pool.submit(examine_page, result, self.profile)] = item
                            continue
                    else:
                        item = parsing.pop(future)
                        result = future.result()
                    self.report.seconds, self.report.bytes_received = totals()
                    self._record(run_id, result)
                    if self.progress:
                        self.progress(self.report, len(fetching) + len(parsing) + len(candidates))
        except BaseException:
            self.fetcher.cancel()
            raise
        finally:
            for pool in (fetch_pool, parse_pool):
                pool.shutdown(wait=True, cancel_futures=True)

    def _stop(self, run_id: int, totals) -> None:
        """Stopped at max_time: the report is saved as it stands, and the run left open."""
        self.report.seconds, self.report.bytes_received = totals()
        with self.archive.transaction():
            self.frontier.save_report(run_id, self.report.to_dict(limit_failures=True))
        raise CrawlStopped(f"max_time ({self.config.max_time:g} s)")

    def _pick(self, candidates: list[QueueItem], in_flight: dict, per_host: Counter) -> QueueItem | None:
        """The next URL: breadth first, preferring a host that may be asked soonest."""
        for attempt in range(2):
            if attempt or not candidates:
                busy = {item.url for item in in_flight.values()}
                candidates[:] = self.frontier.pending(self.scope.hosts, 500, skip=busy)
            best, best_time = None, None
            now = self.fetcher.pacer.clock()
            for item in [c for c in candidates if c.url in self._claimed]:
                candidates.remove(item)
                self._drop(item.url)
            for item in candidates:
                host = host_key(item.url)
                if per_host[host] >= self._host_limit(item.url):
                    continue
                free_at = self.fetcher.pacer.next_free(host)
                if best is None or free_at < best_time:
                    best, best_time = item, free_at
                if free_at <= now:
                    break
            if best is not None:
                return best
        return None

    def _check_archive(self, every: float = ARCHIVE_CHECK_SECONDS) -> None:
        """Stop when the archive file was deleted or replaced: SQLite would go on writing into
        the unlinked file, and everything crawled from then on would be lost. A stat() lets
        the other threads run, so it is done at most every `every` seconds."""
        now = time.monotonic()
        if now - self._db_checked < every:
            return
        self._db_checked = now
        if _file_identity(self.archive.path) != self._db_file:
            raise ArchiveVanished(f"{self.archive.path}: the archive file was deleted or replaced during "
                                  "the crawl; stopped (restore it or start a new archive)")

    def _drop(self, url: str) -> None:
        """A queued URL this run has met already as another row's page (a redirect target, a
        canonical URL): not asked, its row an alias of that one."""
        owner = self._claimed.get(url)
        if owner and owner != url and self.frontier.is_pending(url):
            with self.archive.transaction():
                self.frontier.mark_alias(url, self.run_id, owner)
                self.report.same_page += 1

    def _record(self, run_id: int, result: PageResult) -> None:
        """Everything one page produced, in one transaction. If writing its WARC records or
        storing it fails (disk full, a record the archive refuses), the page's writes are rolled
        back and it is recorded as failed, with the reason."""
        self._check_archive()
        self.robots_store.save()
        if self.recorder is not None:
            # Before the page's transaction: a kill between the two leaves a WARC record the next
            # run writes again (a duplicate), never an archived page missing from the WARC.
            try:
                for exchange in result.exchanges:
                    if exchange.status == 304 and exchange.refers_to_date is None:
                        exchange.refers_to_date = self._last_capture_date(exchange.url)
                    self.recorder(exchange)
            except Exception as exc:
                self._fail_unstored(run_id, result.item.url,
                                    f"not recorded in the WARC: {type(exc).__name__}: {exc}")
                return
        before = copy.deepcopy(self.report)
        try:
            self._record_page(run_id, result)
        except (ArchiverError, ValueError, TypeError, KeyError, sqlite3.IntegrityError) as exc:
            self.report = before
            self._fail_unstored(run_id, result.item.url, f"not stored: {type(exc).__name__}: {exc}")

    def _fail_unstored(self, run_id: int, url: str, reason: str) -> None:
        reason = reason[:300]
        log.error("%s: %s", url, reason)
        with self.archive.transaction():
            self.report.fail(url, reason)
            self.frontier.mark_failed(url, run_id, reason)
            self.frontier.save_report(run_id, self.report.to_dict(limit_failures=True))

    def _last_capture_date(self, url: str) -> str | None:
        """When the copy a 304 confirms was fetched: the URL's last full capture (its WARC
        revisit record's WARC-Refers-To-Date)."""
        rows = self.archive.db["captures"].rows_where(
            "url = ? AND status = 200", [url], select="fetched_at", order_by="fetched_at DESC", limit=1)
        return next((row["fetched_at"] for row in rows), None)

    def _record_page(self, run_id: int, result: PageResult) -> None:
        report, frontier, url = self.report, self.frontier, result.item.url
        with self.archive.transaction():
            if result.error is not None:
                self._record_error(run_id, url, result.error)
            elif result.capture.status == 304:
                report.not_modified += 1
                frontier.mark_not_modified(url, run_id)
                log.info("304 %s", url)
            else:
                self._record_capture(run_id, result)
            self._queue_robots_sitemaps(url)
            frontier.save_report(run_id, report.to_dict(limit_failures=True))

    def _record_error(self, run_id: int, url: str, error: FetchError) -> None:
        """No answer: robots.txt said no (blocked), a final answer (skipped: off-scope or looping
        redirects, too large, a bad URL...), or a transient failure retried next run."""
        if isinstance(error, RobotsDisallowed):
            self.report.blocked += 1
            self.frontier.mark_failed(url, run_id, error.reason, blocked=True)
            log.info("%s: %s", url, error.reason)
        elif not error.retryable:
            self.report.final("skipped", url, error.reason)
            self.frontier.mark_final(url, run_id, "skipped", error.reason)
            log.info("%s: skipped: %s", url, error.reason)
        else:
            self.report.fail(url, error.reason)
            retry_at = None
            if error.retry_after:
                retry_at = utc_iso(datetime.now(timezone.utc) + timedelta(seconds=error.retry_after))
            self.frontier.mark_failed(url, run_id, error.reason, retry_at=retry_at)
            log.warning("%s: %s", url, error.reason)

    def _record_capture(self, run_id: int, result: PageResult) -> None:
        report, capture, item = self.report, result.capture, result.item
        if capture.status in REDIRECT_STATUSES and capture.headers.get("location"):  # see _claim
            self._record_redirect(run_id, item, capture)
            return
        url = self._page_row(run_id, item, capture.url, result.exchanges)
        report.fetched += 1
        capture_id = self.archive.add_capture(capture, profile=self.profile.name)
        examined = result.examined
        if capture.status >= 500:
            reason = f"HTTP {capture.status}"
            report.fail(url, reason)
            self.frontier.mark_failed(url, run_id, reason)
            log.warning("%s: %s", url, reason)
            return
        if capture.status != 200 or examined is None:
            state = "gone" if capture.status >= 400 else "skipped"
            reason = f"HTTP {capture.status}"
            report.final(state, url, reason)
            self.frontier.mark_final(url, run_id, state, reason, status=capture.status)
            log.info("%d %s", capture.status, url)
            return
        self._record_examined(run_id, url, item, capture, capture_id, examined)

    def _record_examined(self, run_id: int, url: str, item: QueueItem, capture: Capture,
                         capture_id: int, examined: Examined) -> None:
        """A fetched page whose content says what it is: the one place a page's verdict is known."""
        report, kind = self.report, examined.kind
        outcome = canonical = None
        hub = kind in HUB_KINDS or url in self.start_pages
        if kind == "article":
            outcome = self.archive.store(examined.article, capture_id, seen_at=capture.fetched_at)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.count_article(examined.article)
            canonical = examined.article.canonical_url
            state, reason = "done", None
        elif hub:
            if examined.issue is not None:  # an issue page: its title, date, volume, contents
                self.archive.store_issue(examined.issue, examined.newsletter, capture_id)
            report.hubs += 1
            state, reason = "done", examined.reason or None
        elif kind == "error":  # a "not found" page answered 200
            state, reason = "gone", f"not found: {examined.reason}"
        elif kind == "unreadable":  # not HTML, empty, binary: nothing to read
            state, reason = "skipped", examined.reason
        elif kind == "broken":  # the parser crashed: retried next run, with the next parser
            state, reason = "failed", examined.reason
        elif self.profile.hint(url) == "article":  # the profile's hints call it one: the report says it is none
            state, reason = "skipped", f"not an article: {examined.reason}"
        else:
            report.other_pages += 1
            state, reason = "done", examined.reason or None
        self._follow_links(url, item.hops, examined.links, through=hub or kind == "article")
        stored_kind = kind if kind in HUB_KINDS or kind == "article" else "other"
        reason = reason[:300] if reason else None
        if state == "done":
            self.frontier.mark_fetched(
                url, run_id, capture.status, kind=stored_kind, etag=capture.headers.get("etag"),
                last_modified=capture.headers.get("last-modified"),
                changed=outcome in ("new", "changed"), canonical=canonical, reason=reason)
        elif state == "failed":
            report.fail(url, reason)
            self.frontier.mark_failed(url, run_id, reason)
        else:
            report.final(state, url, reason)
            self.frontier.mark_final(url, run_id, state, reason, status=capture.status, kind=stored_kind)
        if canonical and canonical != url:
            self._claim(canonical, url)
        log.info("%d %s (%s%s)", capture.status, url, kind, f", {outcome}" if outcome else "")

    def _follow_links(self, url: str, hops: int, links: list, *, through: bool) -> None:
        """Queue the page's in-scope links that the profile does not deny: all of an article's or
        a hub's; of another page, only while `max_other_hops` allows."""
        if not through and hops >= self.config.max_other_hops:
            return
        next_hops = 0 if through else hops + 1
        for link, listed_as in links:  # absolute, without fragments
            kind = kind_of(link, self.profile)
            if kind is None or not self.scope.allows(link) or self.profile.denies(link):
                continue
            if kind == "page" and listed_as:
                kind = listed_as  # what the feed or sitemap listing it says
            self._queue(link, kind, url, next_hops)

    def _queue(self, url: str, kind: str, discovered_from: str, hops: int) -> None:
        key = self.article_key(url)
        if key and not self._bare(url):
            same = self.frontier.same_page(url, key)
            if same and self._bare(same) and self.frontier.is_pending(same):
                self.frontier.replace(same, url)  # /articles/1227 would only redirect here
                self._claim(same, url)  # never asked: _pick drops it from its candidates
                return
        self.frontier.add(url, kind, discovered_from=discovered_from, hops=hops, key=key)

    def _bare(self, url: str) -> bool:
        """An article URL that is its id alone (/articles/1227): sites redirect it to the full one."""
        return urlsplit(url).path.rstrip("/") == (self.profile.article_ref(url) or "").rstrip("/")

    def _page_row(self, run_id: int, item: QueueItem, final: str, exchanges: list) -> str:
        """The queue row a fetched page is recorded in: its own, or, when redirects led
        elsewhere, the target's (created from this one if needed; this row becomes an alias when
        every hop was permanent, so later runs ask the target at once)."""
        if final == item.url:
            return item.url
        hops = [e.status for e in exchanges if e.status in REDIRECT_STATUSES]
        permanent = bool(hops) and all(status in PERMANENT_REDIRECTS for status in hops)
        self.frontier.move(item.url, final, run_id, key=self.article_key(final), permanent=permanent)
        if item.url in self.start_pages:
            self.start_pages.add(final)
        return final

    def _record_redirect(self, run_id: int, item: QueueItem, capture: Capture) -> None:
        """A redirect not followed: to a page this run has fetched already (the same page), or
        to one the profile denies (a login page: skipped)."""
        target = strip_fragment(urljoin(capture.url, capture.headers.get("location", "").strip()))
        if self.profile.denies(target):
            reason = f"redirects to an excluded page: {target}"[:300]
            self.report.final("skipped", item.url, reason)
            self.frontier.mark_final(item.url, run_id, "skipped", reason, status=capture.status)
        else:
            self.report.same_page += 1
            self.frontier.mark_alias(item.url, run_id, target, status=capture.status)
        log.info("%d %s -> %s", capture.status, item.url, target)

    def _queue_robots_sitemaps(self, url: str) -> None:
        """The `Sitemap:` lines of a host's robots.txt, queued as feeds once per run."""
        origin = f"{urlsplit(url).scheme}://{host_key(url)}"
        if origin in self._robots_sitemaps:
            return
        sitemaps = self.fetcher.sitemaps(url)
        if sitemaps is None:
            return
        self._robots_sitemaps.add(origin)
        for sitemap in sitemaps:
            if kind_of(sitemap, self.profile) and self.scope.allows(sitemap):
                self.frontier.add(strip_fragment(sitemap), "feed", discovered_from=f"{origin}/robots.txt")


def _file_identity(path) -> tuple[int, int] | None:
    """(device, inode) of the archive file; None once it is gone."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


@contextmanager
def quick_thread_switches(interval: float = 0.001):
    """While parsing holds the GIL, a fetch thread whose response has arrived waits up to the
    switch interval (5 ms by default) to run; 1 ms keeps N requests really in flight."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def resolve_start_urls(start_urls: list[str], config: CrawlConfig, profile: Profile) -> list[str]:
    """The given URLs, else the config's, else the profile's start pages; with the feeds the
    profile names on each start host, and its /sitemap.xml when the profile guesses sitemaps."""
    urls = list(start_urls) or list(config.start_urls) or list(profile.start_urls)
    if not urls:
        raise ArchiverError(f"profile {profile.name!r} has no start pages: give a URL")
    for url in urls:
        try:
            parts = urlsplit(url)
            parts.port  # raises ValueError when out of range or not a number
        except ValueError as exc:
            raise ArchiverError(f"not a valid URL: {url!r} ({exc})") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ArchiverError(f"not an http(s) URL: {url!r}")
        if parts.username is not None or parts.password is not None:
            # It would be kept in every stored URL, the WARC and the logs; never quoted back.
            raise ArchiverError(f"a URL with a user name or password is not supported: "
                                f"{parts.scheme}://{parts.hostname}/... (use --cookies)")
    origins = dict.fromkeys(sitemap_of(url) for url in urls)  # https://host/sitemap.xml
    extra = [urljoin(origin, feed) for origin in origins if origin for feed in profile.feeds]
    if profile.guess_sitemap:
        extra += [origin for origin in origins if origin]
    return urls + [url for url in dict.fromkeys(extra) if url not in urls]


def crawl(start_urls, archive, config: CrawlConfig | None = None, *, progress=None, profile=None) -> Report:
    """Crawl into `archive` (an open `Archive`); the run's Report. Raises ArchiveLocked when
    another crawl holds the archive. The caller decides what the report's alarms mean, and what
    `report.stopped` (max_time reached, the run left open for the next crawl) does."""
    config = config or CrawlConfig()
    given = list(start_urls or []) or list(config.start_urls)
    # A profile by name or TOML file; else the one claiming the first start URL's host.
    profile = get_profile(profile, url=given[0] if given else None)
    urls = resolve_start_urls(given, config, profile)
    with crawl_lock(archive.path), quick_thread_switches():
        crawler = Crawler(archive, config, urls, profile, progress=progress)
        try:
            return crawler.run()
        except CrawlStopped as stop:  # like an interruption, but reported: the next run resumes
            crawler.report.stopped = str(stop)
            return crawler.report
        except sqlite3.Error as exc:  # disk full, file removed, ...: nothing half-written stays
            raise ArchiverError(f"{archive.path}: archive write failed: {exc}") from None
        finally:
            crawler.close()
