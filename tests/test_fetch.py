"""fetch against real local servers (pytest-httpserver, threaded; raw sockets for misbehaving
peers): politeness, scope, retries, permanent vs transient failures, validators, size caps,
deadlines and cancel(), robots.txt, credentials in URLs, cookies and secrets."""

from __future__ import annotations

import email.utils
import gzip
import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from archiver.config import CrawlConfig
from archiver.errors import ArchiverError
from archiver.fetch import (
    RETRY_AFTER_MAX,
    ROBOTS_MAX_BYTES,
    Fetcher,
    FetchCancelled,
    FetchError,
    HostPacer,
    OutOfScope,
    PageTooLarge,
    RobotsDisallowed,
    Scope,
    cookie_domain_matches,
    host_key,
    retry_after_seconds,
    robots_text,
)


def start_server() -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server


@pytest.fixture(scope="module")
def servers():
    # Started once per module: stopping a werkzeug server waits out its 0.5 s poll interval.
    pair = (start_server(), start_server())
    yield pair
    for srv in pair:
        srv.stop()


@pytest.fixture
def server(servers):
    srv = servers[0]
    srv.clear()
    srv.no_handler_status_code = 404  # like a real site without that page
    srv.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow:\n")
    return srv


@pytest.fixture
def other_server(servers):
    servers[1].clear()
    servers[1].no_handler_status_code = 404
    return servers[1]


def make_fetcher(server: HTTPServer, recorder=None, robots_store=None, **settings) -> Fetcher:
    base = dict(delay=0, jitter=0, retries=2, backoff=0.01, timeout=2, connect_timeout=2)
    config = CrawlConfig(**{**base, **settings})
    return Fetcher(config, Scope.for_urls([server.url_for("/")]), recorder=recorder,
                   robots_store=robots_store)


def paths_requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def test_capture_has_final_url_status_lowercased_headers_and_body(server):
    server.expect_request("/page").respond_with_data(
        "<p>hello</p>", content_type="text/html; charset=utf-8", headers={"ETag": '"v1"'})
    capture = make_fetcher(server).fetch(server.url_for("/page#frag"))
    assert capture.url == server.url_for("/page")
    assert capture.status == 200
    assert capture.body == b"<p>hello</p>"
    assert capture.headers["etag"] == '"v1"'
    assert capture.content_type == "text/html"
    assert capture.fetched_at.endswith("Z")


def test_conditional_get_sends_validators_and_304_has_no_body(server):
    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response("<p>body</p>", headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"})

    server.expect_request("/a").respond_with_handler(handler)
    fetcher = make_fetcher(server)
    first = fetcher.fetch(server.url_for("/a"))
    assert first.status == 200
    second = fetcher.fetch(server.url_for("/a"), etag=first.headers["etag"],
                           last_modified=first.headers["last-modified"])
    assert second.status == 304 and second.body == b""
    last_request = server.log[-1][0]
    assert last_request.headers["If-Modified-Since"] == "Mon, 02 Nov 2026 10:00:00 GMT"


def test_robots_disallowed_path_is_never_requested(other_server):
    other_server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private\n\nUser-agent: archiver\nDisallow: /secret\nCrawl-delay: 0.25\n")
    other_server.expect_request("/private").respond_with_data("open")
    fetcher = make_fetcher(other_server)
    with pytest.raises(RobotsDisallowed):
        fetcher.fetch(other_server.url_for("/secret/x"))
    # The group for our user agent replaces the `*` group, and its Crawl-delay raises our delay.
    assert fetcher.fetch(other_server.url_for("/private")).status == 200
    assert fetcher.delay_for(other_server.url_for("/x")) == 0.25
    assert paths_requested(other_server) == ["/robots.txt", "/private"]


def test_robots_server_error_disallows_the_host_for_the_run(other_server):
    other_server.expect_request("/robots.txt").respond_with_data("down", status=503)
    other_server.expect_request("/page").respond_with_data("page")
    fetcher = make_fetcher(other_server, retries=1)
    for _ in range(2):
        with pytest.raises(FetchError, match="robots.txt unavailable") as info:
            fetcher.fetch(other_server.url_for("/page"))
        assert info.value.retryable
    assert paths_requested(other_server) == ["/robots.txt", "/robots.txt"]  # one retry, then cached


def test_missing_robots_allows_everything(other_server):
    other_server.expect_request("/page").respond_with_data("page")
    assert make_fetcher(other_server).fetch(other_server.url_for("/page")).status == 200


def test_out_of_scope_urls_and_schemes_are_refused_without_a_request(server, other_server):
    fetcher = make_fetcher(server)
    for url in (other_server.url_for("/x"), "file:///etc/passwd", "ftp://127.0.0.1/x"):
        with pytest.raises(OutOfScope):
            fetcher.fetch(url)
    assert other_server.log == []


def test_redirects_followed_within_scope_only(server, other_server):
    server.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    server.expect_request("/new").respond_with_data("new page")
    server.expect_request("/away").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for("/stolen")})
    server.expect_request("/file").respond_with_data("", status=302, headers={"Location": "file:///etc/passwd"})
    server.expect_request("/loop1").respond_with_data("", status=302, headers={"Location": "/loop2"})
    server.expect_request("/loop2").respond_with_data("", status=302, headers={"Location": "/loop1"})
    other_server.expect_request("/stolen").respond_with_data("nope")
    fetcher = make_fetcher(server)
    capture = fetcher.fetch(server.url_for("/old"))
    assert (capture.url, capture.body) == (server.url_for("/new"), b"new page")
    with pytest.raises(OutOfScope, match="redirect off scope"):
        fetcher.fetch(server.url_for("/away"))
    with pytest.raises(OutOfScope):
        fetcher.fetch(server.url_for("/file"))
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.fetch(server.url_for("/loop1"))
    assert other_server.log == []


def test_too_many_redirects(server):
    for n in range(5):
        server.expect_request(f"/r{n}").respond_with_data("", status=302, headers={"Location": f"/r{n + 1}"})
    with pytest.raises(FetchError, match="more than 3 redirects"):
        make_fetcher(server, max_redirects=3).fetch(server.url_for("/r0"))


def test_retries_5xx_then_succeeds(server):
    answers = [Response("busy", status=503), Response("busy", status=500), Response("ok")]
    server.expect_request("/flaky").respond_with_handler(lambda request: answers.pop(0))
    assert make_fetcher(server, retries=2).fetch(server.url_for("/flaky")).body == b"ok"
    assert paths_requested(server).count("/flaky") == 3


def test_retries_exhausted_is_a_retryable_failure_with_reason(server):
    server.expect_request("/down").respond_with_data("no", status=502)
    with pytest.raises(FetchError, match=r"HTTP 502 \(after 3 attempts\)") as info:
        make_fetcher(server, retries=2).fetch(server.url_for("/down"))
    assert info.value.retryable
    assert paths_requested(server).count("/down") == 3


def test_404_is_a_final_answer_not_retried(server):
    server.expect_request("/gone").respond_with_data("no", status=404)
    assert make_fetcher(server).fetch(server.url_for("/gone")).status == 404
    assert paths_requested(server).count("/gone") == 1


def test_429_retry_after_is_honoured_for_the_whole_host(server):
    times = []

    def handler(request):
        times.append(time.monotonic())
        if len(times) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response("ok")

    server.expect_request("/limited").respond_with_handler(handler)
    fetcher = make_fetcher(server, backoff=0.001)
    assert fetcher.fetch(server.url_for("/limited")).body == b"ok"
    assert times[1] - times[0] >= 1.0


def test_retry_after_longer_than_max_backoff_gives_up_for_this_run(server):
    server.expect_request("/later").respond_with_data("", status=503, headers={"Retry-After": "3600"})
    server.expect_request("/other").respond_with_data("fine")
    fetcher = make_fetcher(server, max_backoff=5)
    with pytest.raises(FetchError, match="server asks to wait 3600 s") as info:
        fetcher.fetch(server.url_for("/later"))
    assert info.value.retryable and info.value.retry_after == 3600
    # The whole host is left alone for the rest of the run: no request at all.
    with pytest.raises(FetchError, match="not asked: the server asked to wait") as info:
        fetcher.fetch(server.url_for("/other"))
    assert 3590 < info.value.retry_after <= 3600
    assert paths_requested(server) == ["/robots.txt", "/later"]


def test_retry_after_parsing():
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(" 7 ") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    assert 100 < retry_after_seconds(later) <= 120
    for garbage in ("soon", "", None, "-5", "1.5"):
        assert retry_after_seconds(garbage) is None
    # A number too large to wait for is "much later", never an overflow further on.
    assert retry_after_seconds("9" * 400) == RETRY_AFTER_MAX


def test_read_timeout_is_retried_then_reported(server):
    def stall(request):
        time.sleep(0.5)
        return Response("late")

    server.expect_request("/stall").respond_with_handler(stall)
    with pytest.raises(FetchError, match=r"read timeout \(after 2 attempts\)") as info:
        make_fetcher(server, timeout=0.1, retries=1).fetch(server.url_for("/stall"))
    assert info.value.retryable


def test_size_cap_by_content_length_and_while_streaming(server):
    server.expect_request("/big").respond_with_data(b"x" * 5000)
    server.expect_request("/chunked").respond_with_response(
        Response((b"y" * 1000 for _ in range(50)), direct_passthrough=True))
    fetcher = make_fetcher(server, max_page_size=4000)
    with pytest.raises(PageTooLarge):
        fetcher.fetch(server.url_for("/big"))
    with pytest.raises(PageTooLarge):
        fetcher.fetch(server.url_for("/chunked"))
    assert not any(r.headers.get("Range") for r, _ in server.log)


def test_gzip_bomb_is_aborted_by_decoded_size(server):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    server.expect_request("/bomb").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html")
    server.expect_request("/small.gz").respond_with_data(
        gzip.compress(b"<p>fine</p>"), headers={"Content-Encoding": "gzip"}, content_type="text/html")
    fetcher = make_fetcher(server, max_page_size=1_000_000)
    with pytest.raises(PageTooLarge):
        fetcher.fetch(server.url_for("/bomb"))
    small = fetcher.fetch(server.url_for("/small.gz"))
    assert small.body == b"<p>fine</p>"
    # The capture holds the decoded body, and its headers say so.
    assert "content-encoding" not in small.headers
    assert small.headers["content-length"] == str(len(b"<p>fine</p>"))


class SendLog(HostPacer):
    """A pacer that notes when each request's bytes start going out (its turn was granted)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sent: list[float] = []

    @contextmanager
    def turn(self, host, delay):
        with super().turn(host, delay):
            self.sent.append(self.clock())
            yield


def test_per_host_delay_is_never_undercut_with_several_threads(server):
    arrivals = []
    lock = threading.Lock()

    def handler(request):
        with lock:
            arrivals.append(time.monotonic())
        return Response("ok")

    server.expect_request("/p").respond_with_handler(handler)
    delay = 0.06
    pacer = SendLog(jitter=0.2)
    config = CrawlConfig(delay=delay, jitter=0.2, concurrency=4, retries=2, backoff=0.01, timeout=2,
                         connect_timeout=2)
    fetcher = Fetcher(config, Scope.for_urls([server.url_for("/")]), pacer=pacer)
    url = server.url_for("/p")
    fetcher.fetch(url)  # robots.txt first, so all timed requests go to /p
    arrivals.clear()
    pacer.sent.clear()
    threads = [threading.Thread(target=lambda: [fetcher.fetch(url) for _ in range(4)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # What the fetcher controls: the moments its requests start going out. Exact, no tolerance.
    sends = [b - a for a, b in zip(pacer.sent, pacer.sent[1:])]
    assert len(pacer.sent) == len(arrivals) == 16
    assert min(sends) >= delay, sends
    assert sum(sends) / len(sends) >= delay  # jitter only ever adds
    # What the server saw. Its arrival times are taken by a handler thread that must first be
    # scheduled (and, in this one process, win the GIL from the client threads): under load one
    # request can be noted tens of ms late, which shortens the gap after it by as much and
    # lengthens the gap before it. Delays do not add up, so the whole span still shows the
    # pacing, short by at most the first request's lag (allowed: one delay).
    assert arrivals[-1] - arrivals[0] >= (len(arrivals) - 2) * delay


def test_pacer_reserves_spaced_slots_with_a_fake_clock():
    now = [100.0]
    sent = []
    pacer = HostPacer(jitter=0.5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s),
                      rng=lambda: 0.0)
    for _ in range(3):
        with pacer.turn("h", 2.0):
            sent.append(now[0])
    pacer.defer("h", now[0] + 10)
    with pacer.turn("h", 2.0):
        sent.append(now[0])
    assert sent == pytest.approx([100.0, 102.04, 104.08, 114.08])  # + a 2 % safety margin


def test_hosts_are_paced_independently():
    assert host_key("HTTP://Example.org:80/x") == "example.org"
    assert host_key("https://example.org:8443/x") == "example.org:8443"
    pacer = HostPacer()
    with pacer.turn("a", 5.0):
        pass
    start = time.monotonic()
    with pacer.turn("b", 5.0):
        pass
    assert time.monotonic() - start < 1


COOKIE_VALUE = "s3cr3t-session-token-42"


def write_cookies(path, host="127.0.0.1"):
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        f"{host}\tFALSE\t/\tFALSE\t0\tsession\t{COOKIE_VALUE}\n")
    return path


def test_cookies_are_sent_but_never_logged_recorded_or_kept(server, tmp_path, caplog):
    server.expect_request("/members").respond_with_data(
        "<p>members</p>", headers={"Set-Cookie": f"refresh={COOKIE_VALUE}-2; Path=/"})
    exchanges = []
    cookies = write_cookies(tmp_path / "cookies.txt")
    caplog.set_level(logging.DEBUG)
    fetcher = make_fetcher(server, recorder=exchanges.append, cookies=str(cookies))
    capture = fetcher.fetch(server.url_for("/members"))
    request = server.log[-1][0]
    assert request.cookies["session"] == COOKIE_VALUE
    assert COOKIE_VALUE not in repr(capture.headers)
    assert capture.headers["set-cookie"] == "REDACTED"
    page = [e for e in exchanges if e.url.endswith("/members")][0]
    assert ("Cookie", "REDACTED") in page.request_headers
    assert COOKIE_VALUE not in repr(exchanges)
    assert COOKIE_VALUE not in caplog.text


def test_bad_cookies_file_is_a_one_line_error_without_its_content(tmp_path, server):
    bad = tmp_path / "cookies.txt"
    bad.write_text(f"not a cookie file {COOKIE_VALUE}\n")
    with pytest.raises(ArchiverError) as info:
        make_fetcher(server, cookies=str(bad))
    assert COOKIE_VALUE not in str(info.value)
    with pytest.raises(ArchiverError, match="no such cookies file"):
        make_fetcher(server, cookies=str(tmp_path / "missing.txt"))


def test_user_agent_and_byte_counts(server):
    server.expect_request("/ua").respond_with_data("x" * 1000)
    fetcher = make_fetcher(server, user_agent="archiver-test/1.0 (contact: a@example.org)")
    fetcher.fetch(server.url_for("/ua"))
    assert server.log[-1][0].headers["User-Agent"] == "archiver-test/1.0 (contact: a@example.org)"
    assert fetcher.requests_sent == 2  # robots.txt + the page
    assert fetcher.bytes_received > 1000


class RawServer:
    """A TCP server whose answers are raw bytes, for faults no HTTP library will produce.
    Answers say `Connection: close`, as the server closes the socket after each one."""

    def __init__(self, answer):
        import socketserver

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.split(b" ", 2)[1].decode()
                self.server.paths.append(path)
                self.server.requests.append(data)
                try:
                    answer(self.request, path)
                except OSError:  # the client hung up (a deadline, a cancel): nothing to answer
                    pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.paths = []
        self.server.requests = []
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def raw_fetcher(raw, **settings):
    base = dict(delay=0, jitter=0, retries=1, backoff=0.01, timeout=0.3, connect_timeout=1)
    return Fetcher(CrawlConfig(**{**base, **settings}), Scope.for_urls([raw.url("/")]))


def test_short_body_reset_and_trickle_are_retried_then_reported():
    import socket

    def answer(sock, path):
        if path == "/robots.txt":
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        elif path == "/short":  # promises 1000 bytes, sends 10, closes
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789")
        elif path == "/reset":  # RST in the middle of the body
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nabc")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif path == "/trickle":  # never silent for a whole read timeout, never done
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
            try:
                for _ in range(200):
                    sock.sendall(b"x")
                    time.sleep(0.02)
            except OSError:
                pass
        sock.close()

    raw = RawServer(answer)
    try:
        fetcher = raw_fetcher(raw)
        with pytest.raises(FetchError, match=r"connection broken mid-body \(after 2 attempts\)"):
            fetcher.fetch(raw.url("/short"))
        with pytest.raises(FetchError, match=r"after 2 attempts") as info:
            fetcher.fetch(raw.url("/reset"))
        assert info.value.retryable
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"page_timeout of 0.5 s exceeded \(after 1 attempts\)"):
            raw_fetcher(raw, retries=0, timeout=0.05, page_timeout=0.5).fetch(raw.url("/trickle"))
        assert time.monotonic() - started < 0.5 + 5  # bounded by the page deadline, not the server
        assert raw.server.paths.count("/short") == 2 and raw.server.paths.count("/reset") == 2
    finally:
        raw.close()


def test_invalid_urls_fail_without_retries(server):
    fetcher = make_fetcher(server)
    with pytest.raises(FetchError, match="invalid URL|out of scope") as info:
        fetcher.fetch(server.url_for("/") + "%zz\udcff")
    assert not info.value.retryable
    with pytest.raises(OutOfScope):
        fetcher.fetch("http://127.0.0.1:99999/x")  # not a port: no host, no scope


def test_connection_refused_is_retried_then_reported():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/page"
    fetcher = Fetcher(CrawlConfig(delay=0, retries=2, backoff=0.1), Scope.for_urls([url]))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"robots.txt unavailable \(connection error \(after 3 attempts\)\)") as info:
        fetcher.fetch(url)
    assert info.value.retryable
    assert time.monotonic() - started >= 0.1 + 0.2  # backed off before each new connection


# -- deadlines and cancellation ----------------------------------------------------------------
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def drip(sock, data: bytes, every: float = 0.05, seconds: float = 30) -> None:
    """Send `data`, then one byte every `every` seconds until the client hangs up (or `seconds`):
    never silent long enough for a read timeout."""
    sock.sendall(data)
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        sock.sendall(b"x")
        time.sleep(every)


def dripping_site(sock, path):
    if path == "/robots.txt":
        sock.sendall(NOT_FOUND)
    elif path == "/headers":  # the status line, then one endless header, a byte at a time
        drip(sock, b"HTTP/1.1 200 OK\r\nX-Slow: ")
    elif path == "/body":
        drip(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
    elif path == "/until-close":  # no length: the body ends when the connection does
        drip(sock, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    else:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    sock.close()


@pytest.fixture
def dripping():
    raw = RawServer(dripping_site)
    yield raw
    raw.close()


@pytest.mark.parametrize("path", ["/headers", "/body", "/until-close"])
def test_a_dripping_answer_is_cut_at_the_page_deadline(dripping, path):
    fetcher = raw_fetcher(dripping, retries=0, timeout=1, page_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetcher.fetch(dripping.url(path))
    took = time.monotonic() - started
    assert info.value.reason == "page_timeout of 1.5 s exceeded (after 1 attempts)"
    assert info.value.retryable
    assert 1.5 <= took < 1.5 + 5  # the deadline, however long the server would go on
    # The connection was dropped, not reused: the next page on the host is fine.
    assert fetcher.fetch(dripping.url("/fine")).body == b"ok"


def test_the_page_deadline_does_not_count_the_wait_for_the_hosts_turn(dripping):
    fetcher = raw_fetcher(dripping, retries=0, page_timeout=0.5)
    fetcher.fetch(dripping.url("/fine"))
    host = host_key(dripping.url("/"))
    fetcher.pacer.defer(host, fetcher.pacer.clock() + 1.0)  # as a Retry-After would
    assert fetcher.fetch(dripping.url("/fine")).body == b"ok"


def test_cancel_stops_fetches_in_flight_and_refuses_new_ones(dripping):
    fetcher = raw_fetcher(dripping, retries=3, page_timeout=60, concurrency=4)
    fetcher.fetch(dripping.url("/fine"))  # robots.txt read
    host = host_key(dripping.url("/"))
    outcomes = {}

    def fetch(path):
        try:
            outcomes[path] = fetcher.fetch(dripping.url(path))
        except FetchError as exc:
            outcomes[path] = exc
        outcomes[path + " took"] = time.monotonic() - cancelled_at[0]

    cancelled_at = [float("inf")]
    threads = [threading.Thread(target=fetch, args=(path,)) for path in ("/headers", "/body")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while dripping.server.paths.count("/body") + dripping.server.paths.count("/headers") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # A third fetch waits for its host's turn (a long Retry-After) instead of being on the wire.
    fetcher.pacer.defer(host, fetcher.pacer.clock() + 60)
    waiting = threading.Thread(target=fetch, args=("/fine",))
    waiting.start()
    threads.append(waiting)
    time.sleep(0.3)
    cancelled_at[0] = time.monotonic()
    fetcher.cancel()
    for thread in threads:
        thread.join(10)
    for path in ("/headers", "/body", "/fine"):
        assert isinstance(outcomes[path], FetchCancelled), outcomes[path]
        assert outcomes[path].retryable and outcomes[path].reason == "cancelled"
        assert outcomes[path + " took"] < 1.0
    asked = len(dripping.server.paths)
    with pytest.raises(FetchCancelled):
        fetcher.fetch(dripping.url("/fine"))
    assert len(dripping.server.paths) == asked  # nothing more was sent


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",  # cut after a whole header line
    b"HTTP/1.1 200 OK\r\nContent-Ty",  # cut inside one
    b"HTTP/1.1 200 OK\r\n",  # cut after the status line
])
def test_a_response_cut_inside_its_headers_is_a_transient_error_not_a_capture(answer):
    def site(sock, path):
        sock.sendall(NOT_FOUND if path == "/robots.txt" else answer)
        sock.close()

    raw = RawServer(site)
    try:
        with pytest.raises(FetchError) as info:
            raw_fetcher(raw, retries=1).fetch(raw.url("/page"))
        assert info.value.reason == "connection closed inside the response headers (after 2 attempts)"
        assert info.value.retryable
    finally:
        raw.close()


# -- permanent and transient -------------------------------------------------------------------
def test_permanent_failures_are_not_retryable_and_not_retried(server, other_server):
    server.expect_request("/away").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for("/x")})
    server.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    for n in range(3):
        server.expect_request(f"/r{n}").respond_with_data("", status=302, headers={"Location": f"/r{n + 1}"})
    server.expect_request("/big").respond_with_data(b"x" * 5000)
    server.expect_request("/garbled").respond_with_data(
        b"not gzip at all", headers={"Content-Encoding": "gzip"}, content_type="text/html")
    fetcher = make_fetcher(server, retries=3, max_redirects=2, max_page_size=4000)
    cases = {
        "/away": "redirect off scope", "/loop": "redirect loop", "/r0": "more than 2 redirects",
        "/big": "page larger than 4000 bytes", "/garbled": "undecodable content encoding",
        "/zero\u200bwidth": "invalid URL", "/control\x01char": "invalid URL", "/lone\udcffsurrogate": "invalid URL",
    }
    for path, reason in cases.items():
        with pytest.raises(FetchError, match=reason) as info:
            fetcher.fetch(server.url_for("/") + path.lstrip("/"))
        assert not info.value.retryable, path
    for url in ("http://[::1/broken", "http://127.0.0.1:99999/x", "mailto:someone"):
        with pytest.raises(FetchError) as info:
            fetcher.fetch(url)
        assert not info.value.retryable, url
    assert all(paths_requested(server).count(path) <= 1 for path in cases)
    assert other_server.log == []


def test_robots_disallowed_is_permanent(other_server):
    other_server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n")
    with pytest.raises(RobotsDisallowed) as info:
        make_fetcher(other_server).fetch(other_server.url_for("/page"))
    assert not info.value.retryable


def test_too_many_requests_after_retries_is_transient(server):
    server.expect_request("/busy").respond_with_data("", status=429)
    with pytest.raises(FetchError) as info:
        make_fetcher(server, retries=1).fetch(server.url_for("/busy"))
    assert (info.value.reason, info.value.retryable) == ("HTTP 429 (after 2 attempts)", True)


# -- credentials in URLs -----------------------------------------------------------------------
def test_urls_with_user_info_are_out_of_scope_and_never_fetched(server):
    url = server.url_for("/members").replace("http://", "http://user:hunter2@")
    assert not Scope.for_urls([server.url_for("/")]).allows(url)
    assert not Scope.for_urls([server.url_for("/")]).allows(url.replace("user:hunter2@", "@"))
    with pytest.raises(FetchError) as info:
        make_fetcher(server).fetch(url)
    assert "hunter2" not in info.value.reason and not info.value.retryable
    assert server.log == []


def test_a_redirect_to_a_url_with_user_info_is_refused(server):
    target = server.url_for("/private").replace("http://", "http://admin:hunter2@")
    server.expect_request("/go").respond_with_data("", status=302, headers={"Location": target})
    server.expect_request("/private").respond_with_data("secret")
    with pytest.raises(FetchError) as info:
        make_fetcher(server).fetch(server.url_for("/go"))
    assert "hunter2" not in info.value.reason and not info.value.retryable
    assert "/private" not in paths_requested(server)


def test_no_authorization_from_netrc(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login librarian password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.expect_request("/page").respond_with_data("ok")
    assert make_fetcher(server).fetch(server.url_for("/page")).body == b"ok"
    assert all("Authorization" not in request.headers for request, _ in server.log)


def test_a_location_header_in_utf8_is_requested_as_its_bytes(tmp_path):
    def site(sock, path):
        if path == "/robots.txt":
            sock.sendall(NOT_FOUND)
        elif path == "/old":
            sock.sendall(b"HTTP/1.1 301 Moved\r\nLocation: /articles/6-caf\xc3\xa9\r\n"
                         b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnew!")
        sock.close()

    raw = RawServer(site)
    try:
        capture = raw_fetcher(raw).fetch(raw.url("/old"))
    finally:
        raw.close()
    assert raw.server.paths[-1] == "/articles/6-caf%C3%A9"  # what a browser asks for
    assert capture.url == raw.url("/articles/6-caf%C3%A9") and capture.body == b"new!"


# -- robots.txt ----------------------------------------------------------------------------------
def test_a_robots_txt_over_the_limit_applies_its_first_500_kib_cut_at_a_line(other_server):
    head = b"User-agent: *\nDisallow: /private\n"
    padding = b"# a comment line to make the file long\n" * (ROBOTS_MAX_BYTES // 40)
    straddling = b"Disallow: /cuisine-is-allowed\n"  # starts before the limit and ends after it
    filler = head + padding
    filler = filler[:ROBOTS_MAX_BYTES - 10] + b"\n" * (ROBOTS_MAX_BYTES - 10 - len(filler[:ROBOTS_MAX_BYTES - 10]))
    robots = filler + straddling + b"Disallow: /tail\n" * 2000
    assert len(robots) > ROBOTS_MAX_BYTES + 30_000
    other_server.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    other_server.expect_request("/cuisine").respond_with_data("open")
    other_server.expect_request("/tail").respond_with_data("open")
    exchanges = []
    fetcher = make_fetcher(other_server, recorder=exchanges.append)
    with pytest.raises(RobotsDisallowed):
        fetcher.fetch(other_server.url_for("/private/page"))
    # The cut line and everything after the limit do not apply.
    assert fetcher.fetch(other_server.url_for("/cuisine")).status == 200
    assert fetcher.fetch(other_server.url_for("/tail")).status == 200
    (robots_exchange,) = [e for e in exchanges if e.url.endswith("/robots.txt")]
    assert robots_exchange.truncated and len(robots_exchange.body) == ROBOTS_MAX_BYTES
    assert robots_text(robots_exchange.body).endswith("\n")
    assert "Disallow: /cuisine" not in robots_text(robots_exchange.body)


class DictRobotsStore:
    """The smallest RobotsStore: what a crawl keeps in its archive."""

    def __init__(self):
        self.copies = {}

    def get(self, origin):
        return self.copies.get(origin)

    def put(self, origin, capture):
        self.copies[origin] = capture


def test_robots_txt_is_asked_for_conditionally_and_a_304_reuses_the_stored_rules(other_server):
    def robots(request):
        if request.headers.get("If-None-Match") == '"r1"':
            return Response(status=304, headers={"ETag": '"r1"'})
        return Response("User-agent: *\nDisallow: /private\n", headers={"ETag": '"r1"'},
                        content_type="text/plain")

    other_server.expect_request("/robots.txt").respond_with_handler(robots)
    other_server.expect_request("/page").respond_with_data("page")
    store = DictRobotsStore()
    first = make_fetcher(other_server, robots_store=store)
    first.fetch(other_server.url_for("/page"))
    (origin,) = store.copies
    stored = store.copies[origin]
    assert stored.status == 200 and stored.headers["etag"] == '"r1"'
    exchanges = []
    second = make_fetcher(other_server, recorder=exchanges.append, robots_store=store)
    with pytest.raises(RobotsDisallowed):
        second.fetch(other_server.url_for("/private"))
    robots_requests = [request for request, _ in other_server.log if request.path == "/robots.txt"]
    assert robots_requests[-1].headers.get("If-None-Match") == '"r1"'
    (revisit,) = [e for e in exchanges if e.url.endswith("/robots.txt")]
    assert revisit.status == 304 and revisit.refers_to_date == stored.fetched_at
    assert "/private" not in paths_requested(other_server)


# -- cookies -------------------------------------------------------------------------------------
@pytest.mark.parametrize("line", [
    f"127.0.0.1\tFALSE\t/\tFALSE\t0\t{COOKIE_VALUE}\n",  # 6 fields
    f"127.0.0.1\tFALSE\t/\tFALSE\t0\tname\t{COOKIE_VALUE}\textra\n",  # 8 fields
    f"127.0.0.1\tFALSE\t/\tFALSE\t{COOKIE_VALUE}\tname\tvalue\n",  # the value where the expiry goes
    f"127.0.0.1\tMAYBE\t/\tFALSE\t0\tname\t{COOKIE_VALUE}\n",  # not a boolean
    f"127.0.0.1\tFALSE\t/\tyes\t0\tname\t{COOKIE_VALUE}\n",
    f".127.0.0.1\tFALSE\t/\tFALSE\t0\tname\t{COOKIE_VALUE}\r\x01\n",  # control characters
    f"127.0.0.1\tFALSE\t/\tFALSE\t0\tname\t{COOKIE_VALUE}{'x' * 100_000}\n",  # a huge line
    b"\x00\xff\xfe binary " + COOKIE_VALUE.encode() + b"\n",
])
def test_a_malformed_cookies_file_is_one_line_that_never_quotes_it(tmp_path, line, capfd, recwarn):
    path = tmp_path / "cookies.txt"
    data = line if isinstance(line, bytes) else line.encode()
    path.write_bytes(b"# Netscape HTTP Cookie File\n" + data)
    with pytest.raises(ArchiverError) as info:
        Fetcher(CrawlConfig(cookies=str(path)), Scope({"127.0.0.1"}))
    message = str(info.value)
    assert "\n" not in message and COOKIE_VALUE not in message
    assert message.startswith(f"{path}: line 2: ") and message.endswith("not a Netscape cookies.txt file")
    assert len(recwarn) == 0  # http.cookiejar printed its traceback as a warning
    assert capfd.readouterr() == ("", "")


def test_cookie_domains_never_match_ip_tails_public_suffixes_or_nothing():
    for domain, host in (("127.0.0.1", "127.0.0.1"), (".example.co.uk", "www.example.co.uk"),
                         ("www.example.co.uk", "www.example.co.uk"), (".Example.CO.uk", "example.co.uk")):
        assert cookie_domain_matches(domain, host), (domain, host)
    for domain, host in ((".1", "127.0.0.1"), (".0.0.1", "127.0.0.1"), ("", "127.0.0.1"),
                         (".", "127.0.0.1"), (".com", "www.example.com"), (".co.uk", "www.example.co.uk"),
                         (".github.io", "someone.github.io"), ("example.co.uk", "www.example.co.uk"),
                         (".example.co.uk", "example.co.uk.evil.org")):
        assert not cookie_domain_matches(domain, host), (domain, host)


def test_only_cookies_for_the_crawls_hosts_are_kept_and_sent(server, tmp_path):
    lines = ["# Netscape HTTP Cookie File"]
    for domain in (".1", ".0.0.1", "", ".com", "127.0.0.2", "example.org"):
        lines.append(f"{domain}\tTRUE\t/\tFALSE\t0\tstray\t{COOKIE_VALUE}")
    lines += [f".site{n}.example.org\tTRUE\t/\tFALSE\t0\tc{n}\tv{n}" for n in range(10_000)]
    lines.append("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tgood")
    lines.append("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thttponly\talso-good")
    path = tmp_path / "cookies.txt"
    path.write_text("\n".join(lines) + "\n")
    server.expect_request("/members").respond_with_data("ok")
    fetcher = make_fetcher(server, cookies=str(path))
    assert sorted(cookie.name for cookie in fetcher.session.cookies) == ["httponly", "session"]
    fetcher.fetch(server.url_for("/members"))
    (request,) = [request for request, _ in server.log if request.path == "/members"]
    assert dict(request.cookies) == {"session": "good", "httponly": "also-good"}
    assert COOKIE_VALUE not in request.headers.get("Cookie", "")
