"""HTTP only: scope, robots.txt, per-host politeness, retries, conditional GET, size caps, deadlines.

fetch knows nothing about HTML. `Fetcher.fetch(url)` returns a `Capture` for any final answer
(200, 304, 404, ...) and raises `FetchError` with a short reason when there is none (out of scope,
disallowed by robots.txt, too large, retries exhausted, past its deadline); `retryable` says
whether a later run may succeed. Every response, redirect hops, 304s and robots.txt included, can
be handed to a recorder (the WARC writer) as an `Exchange` whose secrets (`Cookie`,
`Authorization`, `Set-Cookie`) are already redacted.

Time limits, per attempt: `connect_timeout` to connect, `timeout` for any silence while
receiving, and `page_timeout` for the whole answer, headers and body: a watchdog shuts the socket
of an attempt that outlives it, so a server dripping a byte at a time holds nothing for long.
`Fetcher.cancel()` shuts every attempt in flight the same way (Ctrl-C, the crawl's `max_time`).

Credentials never come from a URL: a URL with user info is refused (and never in scope), and
requests' own sources (`user:pw@` in the URL, ~/.netrc) are switched off.
"""

from __future__ import annotations

import dataclasses
import http.client
import http.cookiejar
import ipaddress
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna
import requests
import urllib3
import urllib3.connection
import urllib3.connectionpool
from protego import Protego
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.utils import requote_uri

from archiver.config import CrawlConfig
from archiver.errors import ArchiverError
from archiver.record import Capture

log = logging.getLogger("archiver.fetch")

RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
SECRET_HEADERS = {"cookie", "authorization", "proxy-authorization", "set-cookie"}
REDACTED = "REDACTED"
# RFC 9309 lets a crawler stop reading a robots.txt after at least 500 KiB; the rest is ignored.
ROBOTS_MAX_BYTES = 500 * 1024
# The longest Retry-After taken literally (a year): longer is "much later", not an overflow.
RETRY_AFTER_MAX = 365 * 86400
COOKIE_LINE_MAX = 8192  # browsers cap one cookie (name and value) at 4096 bytes
CANCELLED = "cancelled"


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


class FetchCancelled(FetchError):
    """`Fetcher.cancel()` stopped this fetch: not the page's failure, it is simply not done."""

    def __init__(self):
        super().__init__(CANCELLED, retryable=True)


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


def has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeError:
        return False
    return True


_URI = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def iri_to_uri(url: str) -> str:
    """The ASCII URI of an IRI, as requests puts it on the wire: the host in IDNA, path and
    query percent-encoded as UTF-8 (existing %XX kept). An ASCII URI comes back unchanged."""
    if _URI.fullmatch(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return quote(url, safe="!#$%&'()*+,/:;=?@[]~", errors="backslashreplace")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme, userinfo + at + _ascii_host(hostport),
                       _requote(parts.path), _requote(parts.query), _requote(parts.fragment)))


def _ascii_host(hostport: str) -> str:
    if hostport.isascii():
        return hostport
    host, colon, port = hostport.rpartition(":")
    if not (colon and port.isdigit()):
        host, colon, port = hostport, "", ""
    try:
        host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        host = quote(host, safe="", errors="backslashreplace")
    return host + colon + port


def _requote(part: str) -> str:
    try:
        return requote_uri(part)
    except UnicodeError:  # a lone surrogate: written out rather than crashed on
        return quote(part, safe="!#$%&'()*+,/:;=?@[]~", errors="backslashreplace")


def location_url(value: str) -> str:
    """A Location header as a URI. http.client decodes header bytes as latin-1, so latin-1 gives
    the server's bytes back; non-ASCII ones (UTF-8 from most servers) are percent-encoded as is,
    which is what browsers request."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", errors="backslashreplace")
    return quote(raw, safe="!#$%&'()*+,/:;=?@[]~")


def redact(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers]


@dataclass
class Scope:
    """Which URLs may be requested at all: http(s) on an allowed host, without user info."""

    hosts: set[str] = field(default_factory=set)

    @classmethod
    def for_urls(cls, urls, extra_hosts=()) -> Scope:
        return cls({host_key(u) for u in urls} | {h.lower() for h in extra_hosts} - {""})

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        # `user:pw@` would be stored with every capture, the WARC and the logs: never fetched.
        return (parts.scheme.lower() in ("http", "https") and "@" not in parts.netloc
                and host_key(url) in self.hosts)


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


_RETRY_AFTER = urllib3.util.Retry(retry_after_max=RETRY_AFTER_MAX)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After (delta-seconds or an HTTP date; a past date is 0) as urllib3 reads it;
    None when absent or unreadable."""
    if not value:
        return None
    try:
        return float(_RETRY_AFTER.parse_retry_after(value))
    except urllib3.exceptions.InvalidHeader:
        return None


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
        if HEADERS_CUT in text:
            return HEADERS_CUT
        return "connection error" + (" (reset)" if "reset" in text.lower() else "")
    return type(exc).__name__


@dataclass
class Exchange:
    """One request and its response as sent and received, secrets redacted (for the WARC).

    Header values are as http.client decoded them (latin-1, so every byte survives); `url` is
    the URL as fetched, an IRI possibly: the WARC writer percent-encodes it."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    http_version: str
    response_headers: list[tuple[str, str]]
    body: bytes  # decoded (Content-Encoding removed)
    fetched_at: str
    # For a 304: when the copy it confirms was fetched, if the caller knows (the WARC revisit
    # record's WARC-Refers-To-Date).
    refers_to_date: str | None = None
    truncated: bool = False  # the body was cut at a size limit (robots.txt): WARC-Truncated


class RobotsStore(Protocol):
    """Where robots.txt copies outlive the Fetcher, so the next run asks for them conditionally.
    Called from fetch threads."""

    def get(self, origin: str) -> Capture | None: ...  # the last 200 answer for origin/robots.txt

    def put(self, origin: str, capture: Capture) -> None: ...  # a new 200 answer


# -- deadlines and cancellation ---------------------------------------------------------------
class _Attempt:
    """One request on the wire: its connection while connecting, then its socket (http.client
    hands the socket over to a response that ends with the connection), and why it was stopped."""

    def __init__(self):
        self.connection = None
        self.sock = None
        self.stopped: str | None = None

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
        sock = self.sock or getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                # The plain socket's shutdown, even under TLS: a read blocked in another thread
                # returns at once (SSLSocket.shutdown would also drop its TLS state under it).
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass


class Watchdog:
    """One thread that stops each attempt still running at its deadline."""

    def __init__(self):
        self._cond = threading.Condition()
        self._deadlines: dict[_Attempt, tuple[float, str]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, attempt: _Attempt, seconds: float, reason: str) -> None:
        with self._cond:
            self._deadlines[attempt] = (time.monotonic() + seconds, reason)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, attempt: _Attempt) -> None:
        with self._cond:
            self._deadlines.pop(attempt, None)

    def _run(self) -> None:
        with self._cond:
            while self._deadlines:  # the thread ends when nothing is watched; arm() starts another
                now = time.monotonic()
                due = [(a, reason) for a, (at, reason) in self._deadlines.items() if at <= now]
                for attempt, reason in due:
                    del self._deadlines[attempt]
                    attempt.stop(reason)
                if not due:
                    self._cond.wait(min(at for at, _ in self._deadlines.values()) - now)
            self._thread = None


HEADERS_CUT = "connection closed inside the response headers"


class _LastLine:
    """The socket file while a status line and headers are read, remembering the last line."""

    def __init__(self, stream):
        self.stream = stream
        self.last = b""

    def readline(self, limit: int = -1) -> bytes:
        self.last = self.stream.readline(limit)
        return self.last

    def close(self) -> None:
        self.stream.close()


class CompleteHeadersResponse(http.client.HTTPResponse):
    """http.client takes a connection closed in the middle of the headers for their end, and
    would hand over an empty 200. Headers count only when the blank line ending them came."""

    def begin(self):
        if self.headers is not None:
            return
        stream, tracker = self.fp, _LastLine(self.fp)
        self.fp = tracker
        try:
            super().begin()
        finally:
            if self.fp is tracker:
                self.fp = stream
        if tracker.last not in (b"\r\n", b"\n"):
            self._close_conn()
            raise http.client.RemoteDisconnected(HEADERS_CUT)


def _paced_connection(base: type, scheme: str, fetcher: Fetcher):
    """A urllib3 connection class that takes its host's turn right before the request bytes go
    out (after connecting, TLS included), so the gaps the server sees are the gaps we keep. A new
    connection is only opened once the host is free (backoff, Retry-After). The attempt's
    deadline runs while connecting and from the moment the request goes out; never while it
    waits for its turn."""

    class PacedConnection(base):
        response_class = CompleteHeadersResponse

        def connect(self):
            attempt = fetcher.current_attempt()
            if attempt is None:
                return super().connect()
            attempt.connection = self
            fetcher.watchdog.arm(attempt, fetcher.config.page_timeout, fetcher.deadline_reason)
            try:
                return super().connect()
            finally:
                fetcher.watchdog.disarm(attempt)

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
                attempt = fetcher.current_attempt()
                if attempt is not None:
                    if attempt.stopped or fetcher.cancelled:
                        raise ConnectionAbortedError(attempt.stopped or CANCELLED)
                    attempt.sock = self.sock
                    # Disarmed when the attempt ends: covers sending, the headers and the body.
                    fetcher.watchdog.arm(attempt, fetcher.config.page_timeout, fetcher.deadline_reason)
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


def _no_credentials(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """The session's auth: given, it keeps requests from taking `user:pw@` from the URL or a
    login from ~/.netrc (proxy settings from the environment still apply)."""
    request.headers.pop("Authorization", None)
    return request


# -- cookies ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _public_suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def cookie_domain_matches(domain: str, host: str) -> bool:
    """RFC 6265's domain-match: the host itself, or, for a domain cookie (leading dot), a host
    under it, but never under an IP address or a public suffix (`.1`, `.0.0.1`, `.com`,
    `.co.uk`), and never for an empty domain."""
    name, host = domain.lower().removeprefix("."), host.lower()
    if not name:
        return False
    if host == name:
        return True
    return (domain.startswith(".") and host.endswith("." + name) and not _is_ip(host)
            and not _public_suffixes().is_public(name))


def _scope_hostnames(hosts: Iterable[str]) -> set[str]:
    names = set()
    for host in hosts:
        name, colon, port = host.rpartition(":")
        names.add(name if colon and port.isdigit() and name.count(":") == 0 else host)
    return names


_EXPIRY = re.compile(r"-?\d{1,20}(\.\d*)?")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _cookie_from_line(line: str) -> http.cookiejar.Cookie | None:
    """One line of a Netscape cookies.txt; None for comments and blank lines. A ValueError's
    message names the problem, never the line's content."""
    http_only = line.startswith("#HttpOnly_")  # curl's and browsers' mark, not a comment
    if http_only:
        line = line[len("#HttpOnly_"):]
    elif not line.strip() or line.lstrip().startswith("#"):
        return None
    if _CONTROL.search(line):
        raise ValueError("control characters")
    fields = line.split("\t")
    if len(fields) != 7:
        raise ValueError(f"{len(fields)} tab-separated fields, not 7")
    domain, subdomains, path, secure, expires, name, value = fields
    if subdomains.upper() not in ("TRUE", "FALSE") or secure.upper() not in ("TRUE", "FALSE"):
        raise ValueError("fields 2 and 4 must be TRUE or FALSE")
    if expires.strip() and not _EXPIRY.fullmatch(expires.strip()):
        raise ValueError("field 5, the expiry, is not a number of seconds")
    expiry = int(float(expires)) if expires.strip() else 0
    if not name:  # cookies.txt's value-only cookie, as http.cookiejar reads it
        name, value = value, None
    # http.client sends header values as latin-1: a UTF-8 value goes out as the browser sends it.
    name = name.encode("utf-8").decode("latin-1")
    value = value.encode("utf-8").decode("latin-1") if value is not None else None
    domain = domain.lower()
    if subdomains.upper() == "TRUE" and not domain.startswith("."):
        domain = "." + domain
    return http.cookiejar.Cookie(
        0, name, value, None, False, domain, domain.startswith("."), domain.startswith("."),
        path or "/", True, secure.upper() == "TRUE", expiry if expiry > 0 else None,
        expiry <= 0,  # browsers export session cookies with expiry 0
        None, None, {"HttpOnly": None} if http_only else {})


def load_cookies(path: str, hosts: Iterable[str]) -> RequestsCookieJar:
    """The cookies of a Netscape cookies.txt that belong to `hosts` (see cookie_domain_matches):
    the others are dropped at once, so a browser's whole export costs nothing per request.
    A malformed file is one ArchiverError naming the line, never quoting it."""
    names = _scope_hostnames(hosts)
    # Host-only cookies (no leading dot) go to their exact host only, as browsers do.
    policy = http.cookiejar.DefaultCookiePolicy(
        strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain)
    jar = RequestsCookieJar(policy=policy)
    try:
        with open(path, "rb") as stream:
            number = 0
            while raw := stream.readline(COOKIE_LINE_MAX + 1):
                number += 1
                try:
                    if len(raw.rstrip(b"\r\n")) > COOKIE_LINE_MAX:
                        raise ValueError(f"longer than {COOKIE_LINE_MAX} bytes")
                    try:
                        line = raw.decode("utf-8").rstrip("\r\n")
                    except UnicodeDecodeError:
                        raise ValueError("not UTF-8 text") from None
                    cookie = _cookie_from_line(line)
                except ValueError as exc:
                    raise ArchiverError(f"{path}: line {number}: {exc}: not a Netscape cookies.txt "
                                        "file") from None
                if cookie is not None and any(cookie_domain_matches(cookie.domain, h) for h in names):
                    jar.set_cookie(cookie)
    except FileNotFoundError:
        raise ArchiverError(f"{path}: no such cookies file") from None
    except OSError as exc:
        raise ArchiverError(f"{path}: cannot read the cookies file: {exc.strerror or exc}") from None
    return jar


# -- the body ---------------------------------------------------------------------------------
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
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, OSError, ValueError) as exc:
        # ValueError: a TLS socket shut by the watchdog or cancel() mid-read.
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from None


def robots_text(body: bytes) -> str:
    """What of a robots.txt applies: all of it, or its first ROBOTS_MAX_BYTES cut at a line end."""
    if len(body) >= ROBOTS_MAX_BYTES:
        body = body[:ROBOTS_MAX_BYTES]
        body = body[:body.rfind(b"\n") + 1]
    return body.decode("utf-8", errors="replace")


class Fetcher:
    """One per crawl: a pooled requests Session plus the robots, scope and politeness state.

    `robots_store` (optional) keeps robots.txt copies across runs (see RobotsStore)."""

    def __init__(self, config: CrawlConfig, scope: Scope, *,
                 recorder: Callable[[Exchange], None] | None = None, pacer: HostPacer | None = None,
                 robots_store: RobotsStore | None = None):
        self.config = config
        self.scope = scope
        self.recorder = recorder
        self.robots_store = robots_store
        self._cancelled = threading.Event()
        self.pacer = pacer or HostPacer(jitter=config.jitter, sleep=self._pause)
        self.watchdog = Watchdog()
        self.deadline_reason = f"page_timeout of {config.page_timeout:g} s exceeded"
        self._local = threading.local()
        self._in_flight: set[_Attempt] = set()
        self.session = requests.Session()
        self.session.auth = _no_credentials
        pool = max(10, config.concurrency)
        adapter = PacedAdapter(self, pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = config.user_agent
        if config.cookies:
            self.session.cookies = load_cookies(config.cookies, scope.hosts)
        self._robots: dict[str, Protego | FetchError | None] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._paused: dict[str, float] = {}  # host -> clock time its Retry-After ends
        self._lock = threading.Lock()
        self.requests_sent = 0
        self.bytes_received = 0

    def close(self) -> None:
        self.session.close()

    # -- cancellation ------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop every fetch in flight (their sockets are shut: each ends within a second) and
        refuse new ones; all raise FetchCancelled. For good: a cancelled Fetcher stays so."""
        self._cancelled.set()
        with self._lock:
            attempts = list(self._in_flight)
        for attempt in attempts:
            attempt.stop(CANCELLED)

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _pause(self, seconds: float) -> None:
        """The pacer's sleep (turns, backoff, Retry-After): cut short by cancel()."""
        if self._cancelled.wait(seconds):
            raise FetchCancelled()

    def current_attempt(self) -> _Attempt | None:
        return getattr(self._local, "attempt", None)

    @contextmanager
    def _attempt(self):
        attempt = _Attempt()
        with self._lock:
            self._in_flight.add(attempt)
        self._local.attempt = attempt
        try:
            if self.cancelled:
                attempt.stop(CANCELLED)
            yield attempt
        finally:
            self._local.attempt = None
            self.watchdog.disarm(attempt)
            with self._lock:
                self._in_flight.discard(attempt)

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
        server fails, which disallows the origin for this run (the standard's advice). Asked
        conditionally when the store has a copy; a 304 reuses it."""
        stored = self.robots_store.get(origin) if self.robots_store is not None else None
        headers = self._validators(stored.headers.get("etag"), stored.headers.get("last-modified")) \
            if stored is not None else {}
        sink = self.recorder
        if sink is not None and stored is not None:
            sink = _refers_to(sink, stored.fetched_at)
        try:
            capture = self._get(origin + "/robots.txt", headers, check_robots=False,
                                max_size=ROBOTS_MAX_BYTES, sink=sink, truncate=True)
        except FetchCancelled:
            raise
        except FetchError as exc:
            return FetchError(f"robots.txt unavailable ({exc.reason})", retryable=True)
        if capture.status == 304 and stored is not None:
            capture = stored
        elif capture.status == 200 and self.robots_store is not None:
            self.robots_store.put(origin, capture)
        if capture.status >= 500:
            return FetchError(f"robots.txt unavailable (HTTP {capture.status})", retryable=True)
        if capture.status != 200:
            return None
        rules = Protego.parse(robots_text(capture.body))
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
    @staticmethod
    def _validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              exchanges: list[Exchange] | None = None, follow: Callable[[str], bool] | None = None
              ) -> Capture:
        """GET `url` politely; a conditional GET when validators are given (a 304 has no body).

        The request/response exchanges go to the recorder, or, when `exchanges` is given, are
        appended to it for the caller to record (the crawl writes them from its main thread,
        keeping that work off the fetch threads). A 304's exchange has no `refers_to_date`:
        the caller may fill it in from its own records. `follow(target)` False stops at a
        redirect and returns it as the capture (the crawl has that page already)."""
        sink = exchanges.append if exchanges is not None else self.recorder
        self._check_url(url)
        return self._get(strip_fragment(url), self._validators(etag, last_modified), check_robots=True,
                         max_size=self.config.max_page_size, sink=sink, follow=follow)

    @staticmethod
    def _check_url(url: str) -> None:
        try:
            urlsplit(url)
        except ValueError as exc:
            raise FetchError(f"invalid URL: {exc}") from None
        if not url.isprintable() or not _encodable(url):
            raise FetchError("invalid URL: unencodable characters")
        if has_userinfo(url):  # never quoted: the part before @ may be a password
            raise FetchError("refused: a URL with a user name or password")

    def _get(self, url: str, headers: dict, *, check_robots: bool, max_size: int, sink,
             truncate: bool = False, follow: Callable[[str], bool] | None = None) -> Capture:
        visited: set[str] = set()
        for _hop in range(self.config.max_redirects + 1):
            if self.cancelled:
                raise FetchCancelled()
            self._check_url(url)
            if not self.scope.allows(url):
                raise OutOfScope(f"out of scope: {url[:200]}")
            self._check_paused(url)
            if check_robots:
                self.check_robots(url)
            visited.add(url)
            response, body = self._send_with_retries(url, headers, max_size, sink, truncate)
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location:
                target = self._redirect_target(url, location, visited)
                if follow is not None and not follow(target):
                    return self._capture(url, response, body)
                url = target
                continue
            return self._capture(url, response, body)
        raise FetchError(f"more than {self.config.max_redirects} redirects")

    def _redirect_target(self, url: str, location: str, visited: set[str]) -> str:
        try:
            target = strip_fragment(urljoin(url, location_url(location.strip())))
        except ValueError:
            raise FetchError("redirect to an invalid URL") from None
        if has_userinfo(target):
            raise FetchError("refused: a redirect to a URL with a user name or password")
        if not self.scope.allows(target):
            raise OutOfScope(f"redirect off scope to {target[:200]}")
        if target in visited:
            raise FetchError(f"redirect loop at {target[:200]}")
        return target

    def _send_with_retries(self, url: str, headers: dict, max_size: int, sink, truncate: bool):
        host = host_key(url)
        attempt_number = 0
        while True:
            with self._attempt() as attempt:
                try:
                    response, body, error, wait = self._send(attempt, url, headers, max_size, sink, truncate)
                except Exception as exc:
                    error, wait = self._transient_reason(attempt, exc), None
            if error is None:
                return response, body
            if attempt_number >= self.config.retries:
                raise FetchError(f"{error} (after {attempt_number + 1} attempts)", retryable=True)
            if wait is None:
                wait = self.config.backoff * 2 ** attempt_number * (1 + random.random() * 0.5)
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
            attempt_number += 1

    def _send(self, attempt: _Attempt, url: str, headers: dict, max_size: int, sink, truncate: bool):
        """One attempt: (response, body, None, None) for a final answer, or (response, b"",
        reason, Retry-After) for an answer worth retrying. Paced inside: PacedAdapter's
        connections wait for the host's turn."""
        response = self.session.get(
            url, headers=headers, stream=True, allow_redirects=False,
            timeout=(self.config.connect_timeout, self.config.timeout))
        with response:
            status = response.status_code
            body, truncated = b"", False
            if status not in RETRYABLE_STATUSES | REDIRECT_STATUSES | {304}:
                body, truncated = self._read_body(response, max_size, truncate)
            if attempt.stopped:  # shut mid-body: what arrived is not the page
                raise ConnectionAbortedError(attempt.stopped)
            self._record(url, response, body, sink, truncated)
            if status in RETRYABLE_STATUSES:
                return response, b"", f"HTTP {status}", retry_after_seconds(response.headers.get("retry-after"))
            return response, body, None, None

    def _transient_reason(self, attempt: _Attempt, exc: Exception) -> str:
        """Why an attempt failed, when another attempt may do better; raises when none can."""
        if attempt.stopped == CANCELLED or isinstance(exc, FetchCancelled):
            raise FetchCancelled() from None
        if attempt.stopped:
            return attempt.stopped  # the deadline
        if isinstance(exc, FetchError):  # too large, not recorded: the same again next attempt
            raise exc
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                            requests.exceptions.MissingSchema, UnicodeError)):
            raise FetchError(f"invalid URL: {type(exc).__name__}") from None
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            raise FetchError(describe_error(exc)) from None
        if isinstance(exc, requests.RequestException):
            return describe_error(exc)
        raise exc  # a bug: the caller reports it as the page's failure

    def _read_body(self, response: requests.Response, max_size: int, truncate: bool) -> tuple[bytes, bool]:
        """Stream the decoded body, aborting as soon as it exceeds `max_size` (gzip bombs too);
        with `truncate`, keeping its first `max_size` bytes instead. (body, truncated)."""
        declared = response.headers.get("content-length", "")
        if (not truncate and declared.isdigit() and int(declared) > max_size
                and not response.headers.get("content-encoding")):
            raise PageTooLarge(f"page larger than {max_size} bytes (Content-Length {declared})")
        chunks, size = [], 0
        for chunk in _body_chunks(response.raw, max_size + 1):
            size += len(chunk)
            chunks.append(chunk)
            if size > max_size:
                if truncate:
                    return b"".join(chunks)[:max_size], True
                raise PageTooLarge(f"page larger than {max_size} bytes")
        return b"".join(chunks), False

    def _record(self, url: str, response: requests.Response, body: bytes, sink, truncated: bool) -> None:
        raw_headers = list(response.raw.headers.items()) if response.raw is not None else []
        header_bytes = sum(len(k) + len(v) + 4 for k, v in raw_headers) + 20
        wire_body = response.raw.tell() if response.raw is not None else len(body)
        with self._lock:
            self.requests_sent += 1
            self.bytes_received += header_bytes + wire_body
        if sink is None:
            return
        request_headers = [("Host", urlsplit(iri_to_uri(url)).netloc), *response.request.headers.items()]
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(getattr(response.raw, "version", 11), "HTTP/1.1")
        exchange = Exchange(
            url=url, request_headers=redact(request_headers), status=response.status_code,
            reason=response.reason or "", http_version=version,
            response_headers=redact(raw_headers), body=body, fetched_at=utc_now_iso(),
            truncated=truncated)
        try:
            sink(exchange)
        except Exception as exc:  # disk full, ...: this page fails, and says why
            raise FetchError(f"not recorded in the WARC: {type(exc).__name__}: {exc}"[:300],
                             retryable=True) from None

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


def _refers_to(sink: Callable[[Exchange], None], fetched_at: str) -> Callable[[Exchange], None]:
    """A sink that dates a 304's exchange with the copy it confirms."""

    def record(exchange: Exchange) -> None:
        if exchange.status == 304:
            exchange = dataclasses.replace(exchange, refers_to_date=fetched_at)
        sink(exchange)

    return record
