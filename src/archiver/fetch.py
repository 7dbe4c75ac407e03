"""HTTP only: scope, robots.txt, per-host politeness, retries, conditional GET, size caps.

fetch knows nothing about HTML. `Fetcher.fetch(url)` returns a `Capture` for any final answer
(200, 304, 404, ...) and raises `FetchError` with a short reason when there is none (out of scope,
disallowed by robots.txt, too large, retries exhausted). Every response, redirect hops and
robots.txt included, can be handed to a recorder (the WARC writer) as an `Exchange` whose
secrets (`Cookie`, `Authorization`, `Set-Cookie`) are already redacted.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
import urllib3.connection
import urllib3.connectionpool
from protego import Protego
from requests.adapters import HTTPAdapter

from archiver.config import CrawlConfig
from archiver.errors import ArchiverError
from archiver.record import Capture

log = logging.getLogger("archiver.fetch")

RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
SECRET_HEADERS = {"cookie", "authorization", "proxy-authorization", "set-cookie"}
REDACTED = "REDACTED"
ROBOTS_MAX_BYTES = 500_000  # Google reads the first 500 KiB of a robots.txt; so do we
# A page trickling in a byte at a time never trips the read timeout; this bounds the whole body.
BODY_DEADLINE_FACTOR = 10


class FetchError(Exception):
    """No usable answer for a URL. `retryable` says whether a later run may succeed."""

    def __init__(self, reason: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the server asked us to wait, when it did


class OutOfScope(FetchError):
    pass


class RobotsDisallowed(FetchError):
    pass


class PageTooLarge(FetchError):
    pass


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def host_key(url: str) -> str:
    """The host a URL belongs to for scope and politeness: lower-case, default port dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}" if port and port != default else host


def strip_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeError:
        return False
    return True


def redact(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers]


@dataclass
class Scope:
    """Which URLs may be requested at all: http(s) on an allowed host."""

    hosts: set[str] = field(default_factory=set)

    @classmethod
    def for_urls(cls, urls, extra_hosts=()) -> Scope:
        return cls({host_key(u) for u in urls} | {h.lower() for h in extra_hosts} - {""})

    def allows(self, url: str) -> bool:
        scheme = urlsplit(url).scheme.lower()
        return scheme in ("http", "https") and host_key(url) in self.hosts


class HostPacer:
    """A per-host "next allowed request time" shared by all threads.

    A turn is taken right before a request's bytes are sent (see `PacedAdapter`): with a delay,
    turns for one host are taken one at a time, each waiting until `delay` after the previous
    send, plus a random jitter that only ever adds. `defer` pushes a host back (Retry-After,
    backoff) for every thread.
    """

    @staticmethod
    def margin(delay: float) -> float:
        """Added to every delay: the server sees our sends through thread scheduling and network
        noise (a few ms on a busy machine), so gaps of exactly `delay` on our clock could look
        short on its."""
        return max(0.005, 0.02 * delay)

    def __init__(self, jitter: float = 0.0, clock=time.monotonic, sleep=time.sleep, rng=random.random):
        self.jitter = jitter
        self.clock, self.sleep, self.rng = clock, sleep, rng
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._gates: dict[str, threading.Lock] = {}

    def next_free(self, host: str) -> float:
        with self._lock:
            return self._next.get(host, 0.0)

    def defer(self, host: str, until: float) -> None:
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), until)

    def wait_until_free(self, host: str) -> None:
        # Loop: another thread may defer the host while we sleep.
        while (pause := self.next_free(host) - self.clock()) > 0:
            self.sleep(pause)

    @contextmanager
    def turn(self, host: str, delay: float):
        if delay <= 0:
            self.wait_until_free(host)
            yield
            return
        with self._lock:
            gate = self._gates.setdefault(host, threading.Lock())
        with gate:
            self.wait_until_free(host)
            spacing = self.margin(delay) + delay * (1 + self.jitter * self.rng())
            try:
                yield
            finally:
                # Counted from when the request's bytes have gone out, not from when the turn was
                # taken: a sending thread descheduled under load would otherwise eat into the gap.
                with self._lock:
                    self._next[host] = max(self._next.get(host, 0.0), self.clock() + spacing)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def describe_error(exc: requests.RequestException) -> str:
    """A short reason without the library's long wrapped message."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "read timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection broken mid-body"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "undecodable content encoding"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "timed out" in text.lower():
            return "read timeout"
        return "connection error" + (" (reset)" if "reset" in text.lower() else "")
    return type(exc).__name__


@dataclass
class Exchange:
    """One request and its response as sent and received, secrets redacted (for the WARC)."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str
    response_headers: list[tuple[str, str]]
    body: bytes  # decoded (Content-Encoding removed)
    fetched_at: str


def _paced_connection(base: type, scheme: str, fetcher: Fetcher):
    """A urllib3 connection class that takes its host's turn right before the request bytes go
    out (after connecting, TLS included), so the gaps the server sees are the gaps we keep. A new
    connection is only opened once the host is free (backoff, Retry-After)."""

    class PacedConnection(base):
        def endheaders(self, *args, **kwargs):
            url = getattr(getattr(self, "_response_options", None), "request_url", "") or ""
            if url.startswith(("http://", "https://")):  # absolute form: through a proxy
                host = host_key(url)
            else:
                host = host_key(f"{scheme}://{self._tunnel_host or self.host}:"
                                f"{self._tunnel_port or self.port}")
            if self.sock is None:
                fetcher.pacer.wait_until_free(host)
                self.connect()
            with fetcher.pacer.turn(host, fetcher.delay_for(f"{scheme}://{host}/")):
                return super().endheaders(*args, **kwargs)

    return PacedConnection


class PacedAdapter(HTTPAdapter):
    """requests' adapter with connections that honour the per-host pacer."""

    def __init__(self, fetcher: Fetcher, **kwargs):
        self._fetcher = fetcher
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        pools = {}
        for scheme, pool, connection in (
                ("http", urllib3.connectionpool.HTTPConnectionPool, urllib3.connection.HTTPConnection),
                ("https", urllib3.connectionpool.HTTPSConnectionPool, urllib3.connection.HTTPSConnection)):
            pools[scheme] = type(f"Paced{pool.__name__}", (pool,),
                                 {"ConnectionCls": _paced_connection(connection, scheme, self._fetcher)})
        self.poolmanager.pool_classes_by_scheme = pools


def load_cookies(path: str) -> http.cookiejar.MozillaCookieJar:
    jar = http.cookiejar.MozillaCookieJar(path)
    try:
        jar.load(ignore_discard=True, ignore_expires=True)
    except FileNotFoundError:
        raise ArchiverError(f"{path}: no such cookies file") from None
    except (http.cookiejar.LoadError, UnicodeDecodeError, ValueError):
        # LoadError's own message quotes the offending line, which may hold a cookie value.
        raise ArchiverError(f"{path}: not a Netscape cookies.txt file") from None
    for cookie in jar:
        if cookie.expires == 0:  # browsers export session cookies with expiry 0
            cookie.expires, cookie.discard = None, True
    return jar


def _body_chunks(raw: urllib3.response.HTTPResponse, limit: int):
    """Decoded chunks as they arrive. `read1` returns whatever one socket read brought (and
    decompresses at most `limit` bytes of it), so a body that trickles in or inflates hugely is
    seen chunk by chunk; `iter_content` would block until a whole 64 KiB chunk had arrived."""
    amount = min(limit, 65536)
    try:
        while chunk := raw.read1(amount, decode_content=True):
            yield chunk
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ReadTimeout(str(exc)) from None
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None


class Fetcher:
    """One per crawl: a pooled requests Session plus the robots, scope and politeness state."""

    def __init__(self, config: CrawlConfig, scope: Scope, *,
                 recorder: Callable[[Exchange], None] | None = None, pacer: HostPacer | None = None):
        self.config = config
        self.scope = scope
        self.recorder = recorder
        self.pacer = pacer or HostPacer(jitter=config.jitter)
        self.session = requests.Session()
        pool = max(10, config.concurrency)
        adapter = PacedAdapter(self, pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = config.user_agent
        if config.cookies:
            self.session.cookies.update(load_cookies(config.cookies))
        self._robots: dict[str, Protego | FetchError | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._paused: dict[str, float] = {}  # host -> clock time its Retry-After ends
        self._lock = threading.Lock()
        self.requests_sent = 0
        self.bytes_received = 0

    def close(self) -> None:
        self.session.close()

    # -- politeness ------------------------------------------------------------------------
    def delay_for(self, url: str) -> float:
        robots = self._robots.get(self._origin(url))
        crawl_delay = robots.crawl_delay(self.config.user_agent) if isinstance(robots, Protego) else None
        return max(self.config.delay, float(crawl_delay or 0))

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{host_key(url)}"

    def check_robots(self, url: str) -> None:
        origin = self._origin(url)
        with self._lock:
            origin_lock = self._robots_locks.setdefault(origin, threading.Lock())
        with origin_lock:  # one robots.txt download per origin, however many threads ask
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin)
        robots = self._robots[origin]
        if isinstance(robots, FetchError):
            raise FetchError(robots.reason, retryable=True)
        if robots is not None and not robots.can_fetch(url, self.config.user_agent):
            raise RobotsDisallowed("disallowed by robots.txt")

    def _load_robots(self, origin: str) -> Protego | FetchError | None:
        """Protego rules; None (allow all) when there is no robots.txt; a FetchError when the
        server fails, which disallows the origin for this run (the standard's advice)."""
        try:
            capture = self._get(origin + "/robots.txt", {}, check_robots=False,
                                max_size=ROBOTS_MAX_BYTES, sink=self.recorder)
        except PageTooLarge:
            return None
        except FetchError as exc:
            return FetchError(f"robots.txt unavailable ({exc.reason})", retryable=True)
        if capture.status >= 500:
            return FetchError(f"robots.txt unavailable (HTTP {capture.status})", retryable=True)
        if capture.status != 200:
            return None
        rules = Protego.parse(capture.body.decode("utf-8", errors="replace"))
        crawl_delay = float(rules.crawl_delay(self.config.user_agent) or 0)
        if crawl_delay > self.config.delay:
            # robots.txt was itself a request: the next one waits the Crawl-delay it asks for,
            # counted from its answer (its own turn was taken under the shorter `delay`).
            self.pacer.defer(host_key(origin),
                             self.pacer.clock() + self.pacer.margin(crawl_delay) + crawl_delay)
        return rules

    def sitemaps(self, url: str) -> list[str] | None:
        """The `Sitemap:` lines of the robots.txt read for the URL's origin, as absolute URLs;
        None while it has not been read."""
        origin = self._origin(url)
        if origin not in self._robots:
            return None
        robots = self._robots[origin]
        return [urljoin(origin + "/robots.txt", s) for s in robots.sitemaps] if isinstance(robots, Protego) else []

    def _check_paused(self, url: str) -> None:
        with self._lock:
            until = self._paused.get(host_key(url), 0.0)
        remaining = until - self.pacer.clock()
        if remaining > 0:
            raise FetchError(f"not asked: the server asked to wait {remaining:.0f} s more",
                             retryable=True, retry_after=remaining)

    # -- fetching ----------------------------------------------------------------------------
    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              exchanges: list[Exchange] | None = None, follow: Callable[[str], bool] | None = None
              ) -> Capture:
        """GET `url` politely; a conditional GET when validators are given (a 304 has no body).

        The request/response exchanges go to the recorder, or, when `exchanges` is given, are
        appended to it for the caller to record (the crawl writes them from its main thread,
        keeping that work off the fetch threads). `follow(target)` False stops at a redirect
        and returns it as the capture (the crawl has that page already)."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        sink = exchanges.append if exchanges is not None else self.recorder
        return self._get(strip_fragment(url), headers, check_robots=True,
                         max_size=self.config.max_page_size, sink=sink, follow=follow)

    def _get(self, url: str, headers: dict, *, check_robots: bool, max_size: int, sink,
             follow: Callable[[str], bool] | None = None) -> Capture:
        visited: set[str] = set()
        for _hop in range(self.config.max_redirects + 1):
            if not url.isprintable() or not url.isascii() and not _encodable(url):
                raise FetchError("invalid URL: unencodable characters")
            if not self.scope.allows(url):
                raise OutOfScope(f"out of scope: {url}")
            self._check_paused(url)
            if check_robots:
                self.check_robots(url)
            visited.add(url)
            response, body = self._send_with_retries(url, headers, max_size, sink)
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                target = strip_fragment(urljoin(url, location.strip()))
                if not self.scope.allows(target):
                    raise OutOfScope(f"redirect off scope to {target[:200]}")
                if target in visited:
                    raise FetchError(f"redirect loop at {target[:200]}")
                if follow is not None and not follow(target):
                    return self._capture(url, response, body)
                url = target
                continue
            return self._capture(url, response, body)
        raise FetchError(f"more than {self.config.max_redirects} redirects")

    def _send_with_retries(self, url: str, headers: dict, max_size: int, sink):
        host = host_key(url)
        attempt = 0
        while True:
            try:
                # Paced inside: PacedAdapter's connections wait for the host's turn.
                response = self.session.get(
                    url, headers=headers, stream=True, allow_redirects=False,
                    timeout=(self.config.connect_timeout, self.config.timeout))
                with response:
                    if response.status_code in RETRYABLE_STATUSES:
                        error = f"HTTP {response.status_code}"
                        wait = retry_after_seconds(response.headers.get("retry-after"))
                        self._record(url, response, b"", sink)
                    else:
                        body = b""
                        if response.status_code not in REDIRECT_STATUSES and response.status_code != 304:
                            body = self._read_body(response, max_size)
                        self._record(url, response, body, sink)
                        return response, body
            except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                    requests.exceptions.MissingSchema, UnicodeError) as exc:
                raise FetchError(f"invalid URL: {type(exc).__name__}") from None
            except requests.RequestException as exc:
                error, wait = describe_error(exc), None
                if isinstance(exc, requests.exceptions.ContentDecodingError):
                    raise FetchError(error) from None
            if attempt >= self.config.retries:
                raise FetchError(f"{error} (after {attempt + 1} attempts)", retryable=True)
            if wait is None:
                wait = self.config.backoff * 2 ** attempt * (1 + random.random() * 0.5)
            elif wait > self.config.max_backoff:
                # Longer than we wait within a run: leave the whole host alone until then.
                with self._lock:
                    self._paused[host] = self.pacer.clock() + wait
                raise FetchError(f"{error}, server asks to wait {wait:.0f} s", retryable=True,
                                 retry_after=wait)
            wait = min(wait, self.config.max_backoff)
            log.info("retrying %s in %.2f s: %s", url, wait, error)
            # The whole host waits, not just this thread: the server said it is overloaded.
            self.pacer.defer(host, self.pacer.clock() + wait)
            attempt += 1

    def _read_body(self, response: requests.Response, max_size: int) -> bytes:
        """Stream the decoded body, aborting as soon as it exceeds `max_size` (gzip bombs too)."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_size and not response.headers.get("content-encoding"):
            raise PageTooLarge(f"page larger than {max_size} bytes (Content-Length {declared})")
        deadline = time.monotonic() + BODY_DEADLINE_FACTOR * self.config.timeout
        chunks, size = [], 0
        for chunk in _body_chunks(response.raw, max_size + 1):
            size += len(chunk)
            if size > max_size:
                raise PageTooLarge(f"page larger than {max_size} bytes")
            if time.monotonic() > deadline:
                raise requests.ReadTimeout("body took too long")
            chunks.append(chunk)
        return b"".join(chunks)

    def _record(self, url: str, response: requests.Response, body: bytes, sink) -> None:
        raw_headers = list(response.raw.headers.items()) if response.raw is not None else []
        header_bytes = sum(len(k) + len(v) + 4 for k, v in raw_headers) + 20
        wire_body = response.raw.tell() if response.raw is not None else len(body)
        with self._lock:
            self.requests_sent += 1
            self.bytes_received += header_bytes + wire_body
        if sink is None or response.status_code == 304:
            return  # a 304 costs no write
        request_headers = [("Host", urlsplit(url).netloc), *response.request.headers.items()]
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(getattr(response.raw, "version", 11), "HTTP/1.1")
        sink(Exchange(
            url=url, request_headers=redact(request_headers), status=response.status_code,
            reason=response.reason or "", http_version=version,
            response_headers=redact(raw_headers), body=body, fetched_at=utc_now_iso()))

    def _capture(self, url: str, response: requests.Response, body: bytes) -> Capture:
        """The body is decoded, so the headers describe it as stored: no Content-Encoding or
        Transfer-Encoding, and its real Content-Length."""
        headers: dict[str, str] = {}
        for name, value in response.raw.headers.items():
            name = name.lower()
            if name in ("content-encoding", "transfer-encoding", "content-length"):
                continue
            value = REDACTED if name in SECRET_HEADERS else value
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if response.status_code != 304:
            headers["content-length"] = str(len(body))
        return Capture(url=url, status=response.status_code, headers=headers, body=body,
                       fetched_at=utc_now_iso())
