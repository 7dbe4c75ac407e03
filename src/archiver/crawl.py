"""The crawl: frontier in the archive, discovery through the site profile, one transaction per page.

    with Archive("data/archive.db") as archive:
        report = crawl([], archive, CrawlConfig())   # [] = the profile's start pages

Fetch threads only do network I/O, one parse thread discovers links and parses articles, and the
main thread owns the SQLite connection and writes each page's capture, article and queue update
in ONE transaction, which is what makes `kill -9` safe.
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
from urllib.parse import urlsplit

from archiver.config import CrawlConfig
from archiver.errors import ArchiveLocked, ArchiverError, NotAnArticle
from archiver.fetch import (
    Fetcher,
    FetchCancelled,
    FetchError,
    RobotsDisallowed,
    Scope,
    host_key,
    strip_fragment,
)
from archiver.frontier import Frontier, QueueItem, utc_iso
from archiver.parse.discover import listed_kind, sitemap_of
from archiver.profile import Profile, get_profile
from archiver.record import Article, Capture

log = logging.getLogger("archiver.crawl")

HTML_TYPES = {"text/html", "application/xhtml+xml"}
SNIFFED_TYPES = {"", "application/octet-stream", "text/plain", "binary/octet-stream"}
COVERAGE_FIELDS = ("title", "authors", "published", "newsletter", "category", "issue", "citation",
                   "study_type", "disclosure", "body", "keywords")
STORED_FAILURES = 500  # failures kept in the run's stored report; the count is always exact


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
    failed: int = 0
    blocked: int = 0  # disallowed by robots.txt
    failures: list[list[str]] = field(default_factory=list)  # [url, reason]
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

    def to_dict(self, limit_failures: bool = False) -> dict:
        data = asdict(self)
        del data["stopped"]
        if limit_failures:
            data["failures"] = data["failures"][:STORED_FAILURES]
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
            f"  robots.txt      {self.blocked} disallowed",
            f"  failed          {self.failed}",
        ]
        for url, reason in self.failures[:20]:
            lines.append(f"    {url}: {reason}")
        if len(self.failures) > 20:
            lines.append(f"    ... and {len(self.failures) - 20} more (see the log)")
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
    article: Article | None = None
    parse_error: str | None = None
    links: list[str] = field(default_factory=list)
    exchanges: list = field(default_factory=list)  # for the WARC, written by the main thread


def kind_of(url: str, profile: Profile) -> str | None:
    """What a URL is by the profile's hints (judged on path + query, so a local mirror's URLs
    read like the site's); for a profile without hints, what a sitemap or feed said of it.
    None for a malformed one (`http://[::1/x`): not followed, and not the failure of its page."""
    try:
        urlsplit(url)
    except ValueError:
        return None
    return profile.hint(url) if profile.links else listed_kind(url)


def is_html(capture: Capture) -> bool:
    """HTML by its Content-Type; or, under a missing or generic one (servers do send HTML as
    application/octet-stream), by its first bytes."""
    if capture.content_type in HTML_TYPES - {""}:
        return True
    if capture.content_type in SNIFFED_TYPES:
        head = capture.body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return head.startswith((b"<!doctype html", b"<html", b"<!--", b"<head"))
    return False


def fetch_page(fetcher: Fetcher, item: QueueItem) -> PageResult:
    """Runs in a fetch thread: only the network, so the thread is free for the next request."""
    result = PageResult(item)
    try:
        result.capture = fetcher.fetch(item.url, etag=item.etag, last_modified=item.last_modified,
                                       exchanges=result.exchanges)
    except FetchError as exc:
        result.error = exc
    except Exception as exc:  # a bug met on one page is that page's failure, not the crawl's
        log.exception("%s: unexpected error while fetching", item.url)
        result.error = FetchError(f"internal error: {type(exc).__name__}: {exc}"[:300], retryable=True)
    return result


def needs_parsing(result: PageResult) -> bool:
    from archiver.parse.discover import FEED_TYPES  # sitemaps and feeds list pages too

    return result.capture is not None and result.capture.status == 200 and (
        is_html(result.capture) or result.capture.content_type in FEED_TYPES)


def parse_page(result: PageResult, profile=None) -> PageResult:
    """Runs in the parse thread: discover links, and parse article pages."""
    from archiver.parse import discover_links, parse_capture

    capture, item = result.capture, result.item
    if capture.content_type not in HTML_TYPES:  # sniffed: let the parser see it as HTML
        capture = dataclasses.replace(capture, headers={**capture.headers, "content-type": "text/html"})
    try:
        result.links = discover_links(capture.body, capture.url, capture.headers)
    except Exception as exc:  # one bad page never stops a batch
        log.warning("%s: link discovery failed: %s", capture.url, exc)
    if item.kind == "article" or kind_of(capture.url, profile) == "article":
        try:
            result.article = parse_capture(capture, profile)
        except NotAnArticle as exc:
            result.parse_error = f"not an article: {exc}"
        except Exception as exc:  # a parser bug on one page is reported, not fatal
            result.parse_error = f"parser error: {type(exc).__name__}: {exc}"[:300]
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

    def close(self) -> None:
        self.fetcher.close()
        if self.recorder:
            self.recorder.close()

    def run(self) -> Report:
        started = time.monotonic()
        with self.archive.transaction():
            start = [(u, kind_of(u, self.profile) or "start") for u in self.start_urls]
            run_id, resumed = self.frontier.begin_run(start, self.config.recheck_articles_days)
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
        history = self.frontier.finished_reports(run_id)
        self.report.alarms = coverage_alarms(self.report, history, self.config)
        with self.archive.transaction():
            self.frontier.save_report(run_id, self.report.to_dict(limit_failures=True), finished=True,
                                      alarm="; ".join(self.report.alarms) or None)
        return self.report

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
                    fetching[fetch_pool.submit(fetch_page, self.fetcher, item)] = item
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
                        if needs_parsing(result):
                            parsing[parse_pool.submit(parse_page, result, self.profile)] = item
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

    def _record(self, run_id: int, result: PageResult) -> None:
        """Everything one page produced, in one transaction. If writing its WARC records or
        storing it fails (disk full, a record the archive refuses), the page's writes are rolled
        back and it is recorded as failed, with the reason."""
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
                blocked = isinstance(result.error, RobotsDisallowed)
                if blocked:
                    report.blocked += 1
                else:
                    report.fail(url, result.error.reason)
                retry_at = None
                if result.error.retry_after:
                    retry_at = utc_iso(datetime.now(timezone.utc) + timedelta(seconds=result.error.retry_after))
                frontier.mark_failed(url, run_id, result.error.reason, blocked=blocked, retry_at=retry_at)
                log.log(logging.INFO if blocked else logging.WARNING, "%s: %s", url, result.error.reason)
            elif result.capture.status == 304:
                report.not_modified += 1
                frontier.mark_not_modified(url, run_id)
                log.info("304 %s", url)
            else:
                self._record_capture(run_id, result)
            frontier.save_report(run_id, report.to_dict(limit_failures=True))

    def _record_capture(self, run_id: int, result: PageResult) -> None:
        report, capture, url = self.report, result.capture, result.item.url
        report.fetched += 1
        capture_id = self.archive.add_capture(capture)
        outcome = None
        if result.article is not None:
            outcome = self.archive.store(result.article, capture_id, seen_at=capture.fetched_at)
            setattr(report, outcome, getattr(report, outcome) + 1)
            report.count_article(result.article)
        reason = result.parse_error
        if reason:
            report.fail(url, reason)
        elif capture.status >= 400 and not guessed_and_absent(url, capture.status):
            reason = f"HTTP {capture.status}"
            report.fail(url, reason)
        for link in result.links:
            kind = kind_of(link, self.profile)
            if kind and self.scope.allows(link):
                self.frontier.add(strip_fragment(link), kind, discovered_from=url)
        self.frontier.mark_fetched(
            url, run_id, capture.status, etag=capture.headers.get("etag"),
            last_modified=capture.headers.get("last-modified"),
            changed=outcome in ("new", "changed"), reason=reason)
        log.info("%d %s%s", capture.status, url, f" ({outcome})" if outcome else "")


def guessed_and_absent(url: str, status: int) -> bool:
    """A site's conventional /sitemap.xml, which the generic profile tries without being told,
    is simply absent on many sites: that is no failure (or every scheduled run would exit 1)."""
    return status in (404, 410) and urlsplit(url).path == "/sitemap.xml"


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
    """The given URLs, else the config's, else the profile's start pages; with each site's
    /sitemap.xml when the profile guesses sitemaps."""
    urls = list(start_urls) or list(config.start_urls) or list(profile.start_urls)
    if profile.guess_sitemap:
        urls += [s for s in dict.fromkeys(map(sitemap_of, urls)) if s and s not in urls]
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
    return urls


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
