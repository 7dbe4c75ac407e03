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
import fcntl
import logging
import os
import sqlite3
import sys
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
from archiver.fetch import Fetcher, FetchError, RobotsDisallowed, Scope, host_key, strip_fragment
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
    """Hold `<db>.lock` for the crawl; ArchiveLocked at once if another process holds it."""
    path = Path(f"{db_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise ArchiveLocked(
                f"another crawl is running on {db_path}" + (f" (pid {holder})" if holder else "")
                + "; try again later") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock


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
            from archiver.warc import WarcRecorder

            self.recorder = WarcRecorder(config.warc_dir, max_size=config.warc_max_size)
        self.fetcher = Fetcher(config, self.scope, recorder=self.recorder)
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
        under the GIL anyway) and recording on this thread, which owns the SQLite connection."""
        fetching: dict[Future, QueueItem] = {}
        parsing: dict[Future, QueueItem] = {}
        per_host: Counter = Counter()
        candidates: list[QueueItem] = []
        max_pages = self.config.max_pages
        fetch_pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="fetch")
        parse_pool = ThreadPoolExecutor(1, thread_name_prefix="parse")
        try:
            while True:
                while len(fetching) < self._queue_depth and not (
                        max_pages and self.report.requests >= max_pages):
                    item = self._pick(candidates, {**fetching, **parsing}, per_host)
                    if item is None:
                        break
                    candidates.remove(item)
                    per_host[host_key(item.url)] += 1
                    self.report.requests += 1
                    fetching[fetch_pool.submit(fetch_page, self.fetcher, item)] = item
                if not fetching and not parsing:
                    return
                done, _ = wait([*fetching, *parsing], return_when=FIRST_COMPLETED)
                for future in done:
                    if future in fetching:
                        item = fetching.pop(future)
                        per_host[host_key(item.url)] -= 1
                        result = future.result()
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
        finally:
            for pool in (fetch_pool, parse_pool):
                pool.shutdown(wait=True, cancel_futures=True)

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
        """Everything one page produced, in one transaction. If storing fails (a record the
        archive refuses), the page's writes are rolled back and it is recorded as failed."""
        if self.recorder is not None:
            # Before the page's transaction: a kill between the two leaves a WARC record the next
            # run writes again (a duplicate), never an archived page missing from the WARC.
            for exchange in result.exchanges:
                self.recorder(exchange)
        before = copy.deepcopy(self.report)
        try:
            self._record_page(run_id, result)
        except (ArchiverError, ValueError, TypeError, KeyError, sqlite3.IntegrityError) as exc:
            self.report = before
            reason = f"not stored: {type(exc).__name__}: {exc}"[:300]
            log.error("%s: %s", result.item.url, reason)
            with self.archive.transaction():
                self.report.fail(result.item.url, reason)
                self.frontier.mark_failed(result.item.url, run_id, reason)
                self.frontier.save_report(run_id, self.report.to_dict(limit_failures=True))

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
    another crawl holds the archive. The caller decides what the report's alarms mean."""
    config = config or CrawlConfig()
    given = list(start_urls or []) or list(config.start_urls)
    # A profile by name or TOML file; else the one claiming the first start URL's host.
    profile = get_profile(profile, url=given[0] if given else None)
    urls = resolve_start_urls(given, config, profile)
    with crawl_lock(archive.path), quick_thread_switches():
        crawler = Crawler(archive, config, urls, profile, progress=progress)
        try:
            return crawler.run()
        except sqlite3.Error as exc:  # disk full, file removed, ...: nothing half-written stays
            raise ArchiverError(f"{archive.path}: archive write failed: {exc}") from None
        finally:
            crawler.close()
