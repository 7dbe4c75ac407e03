"""A fault-injecting server for the reliability suite, built on `archiver.mirror.SiteServer`.

`FaultServer` serves the fixture mirror and, per request, may answer with a fault instead: a
random 500/502/503, a periodic 429 with Retry-After, a connection reset mid-body, a stall past the
client's read timeout, or a body shorter than its Content-Length. Fixed "trap" pages (redirect
loops, off-scope redirects, a 30 MB page, a gzip bomb, wrong content types and charsets) are plain
entries in `pages` or `specials`. Every fault is counted by kind in `injected`.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass

from archiver.mirror import Hit, Page, SiteServer

MB = 1_000_000


@dataclass
class FaultRates:
    server_error: float = 0.0  # 500/502/503 at random
    reset: float = 0.0  # connection reset after half the body
    stall: float = 0.0  # silence past the client's read timeout, then close
    short_body: float = 0.0  # Content-Length larger than the body sent
    throttle_every: int = 0  # every Nth request answers 429 with Retry-After
    retry_after: str = "1"
    stall_seconds: float = 1.5
    max_in_a_row: int = 3  # faults in a row for one path (the crawl's retries ride them out)
    first: tuple = ()  # kinds forced on the first article requests, so each kind occurs


class FaultServer(SiteServer):
    """SiteServer plus faults. `specials` maps a path to a callable(handler) that answers it."""

    def __init__(self, pages, rates: FaultRates | None = None, seed: int = 5, **kwargs):
        self.rates = rates or FaultRates()
        self.rng = random.Random(seed)
        self.injected: Counter = Counter()
        self.specials: dict = {}
        self.in_a_row: Counter = Counter()
        self.requests = 0
        self.forced: list[str] = []
        self._fault_lock = threading.Lock()
        super().__init__(pages, **kwargs)
        self.forced = list(self.rates.first)
        # Resets and hang-ups are the point here: no traceback per broken connection on stderr.
        self.httpd.handle_error = lambda request, client_address: None

    def choose_fault(self, path: str) -> str | None:
        rates = self.rates
        with self._fault_lock:
            self.requests += 1
            if path == "/robots.txt" or self.in_a_row[path] >= rates.max_in_a_row:
                self.in_a_row[path] = 0
                return None
            roll = self.rng.random()
            kind = None
            if self.forced and path.startswith("/articles/"):
                kind = self.forced.pop(0)
            elif rates.throttle_every and self.requests % rates.throttle_every == 0:
                kind = "429"
            elif roll < rates.server_error:
                kind = self.rng.choice(["500", "502", "503"])
            elif (roll := roll - rates.server_error) < rates.reset:
                kind = "reset"
            elif (roll := roll - rates.reset) < rates.stall:
                kind = "stall"
            elif roll - rates.stall < rates.short_body:
                kind = "short_body"
            if kind:
                self.in_a_row[path] += 1
                self.injected[kind] += 1
            else:
                self.in_a_row[path] = 0
            return kind

    def _handler_class(self):
        base = super()._handler_class()
        server = self

        class FaultHandler(base):
            def do_GET(self):
                path = self.path
                if path in server.specials:
                    self.arrived = time.monotonic()
                    status = server.specials[path](self)
                    server._log(path, status, self)
                    return
                kind = server.choose_fault(path) if path in server.pages else None
                if kind is None:
                    return super().do_GET()
                self.arrived = time.monotonic()
                body = server.pages[path].body
                if kind in ("500", "502", "503"):
                    self._send(int(kind), b"<h1>try later</h1>", "text/html", [])
                elif kind == "429":
                    self._send(429, b"slow down", "text/plain", [("Retry-After", server.rates.retry_after)])
                elif kind == "reset":
                    self._partial(body, len(body) // 2, reset=True)
                elif kind == "stall":
                    self._partial(body, 0, stall=server.rates.stall_seconds)
                else:
                    self._partial(body, len(body) // 3)
                server._log(path, -1, self)

            def _partial(self, body: bytes, amount: int, reset=False, stall=0.0):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:amount])
                self.wfile.flush()
                if stall:
                    time.sleep(stall)
                if reset:  # SO_LINGER 0: close() sends an RST, not a FIN
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

        return FaultHandler

    def _log(self, path: str, status: int, handler) -> None:
        with self._lock:
            self.hits.append(Hit(handler.arrived, self.port, path, status, 0, dict(handler.headers)))


# -- trap pages: fixed answers for one path each ----------------------------------------------------
def redirect_to(location: str, status: int = 302):
    def answer(handler):
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return status
    return answer


def streamed(total: int, declare_length: bool):
    """A page of `total` bytes, with or without a Content-Length (then streamed until closed)."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        if declare_length:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
        sent = 0
        try:
            handler.wfile.write(b"<html><body>")
            while sent < total:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client hung up at its size cap: what we want
            pass
        handler.close_connection = True
        return 200
    return answer


def gzip_bomb(inflated: int = 40 * MB) -> Page:
    body = gzip.compress(b"<html><body>" + b"\0" * inflated, compresslevel=9)
    return Page(body, "text/html; charset=utf-8", headers=(("Content-Encoding", "gzip"),))


def pdf_page() -> bytes:
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 20
            + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")
