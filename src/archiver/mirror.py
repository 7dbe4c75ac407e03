"""A local copy of a site over real HTTP, for the tests, the bench and the demo.

`SiteServer` serves a dict of pages keyed by path (+ "?query") on a loopback port, like a real
site's server: ETag / Last-Modified and 304s for conditional GETs, keep-alive, an optional
latency and fault hook, and a log of every request. `mirror_pages(site_dir)` reads a fixture
mirror laid out by its MANIFEST.json (tests/fixtures/site/, tests/fixtures/mirrors/*/ and the
profiles' mirrors): path -> {"file", "content_type", "status"}, or {"status": 301, "location"}.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "tests" / "fixtures" / "site"
LAST_MODIFIED = "Sat, 01 Nov 2025 12:00:00 GMT"  # fixed, so a second demo run is all 304s


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Hit:
    at: float  # time.monotonic() when the request arrived
    port: int
    path: str
    status: int
    sent: int  # body bytes sent
    headers: dict


class SiteServer:
    """A threaded HTTP/1.1 server for a dict of pages keyed by path (+ "?query").

    Answers conditional GETs with 304, optionally waits `latency` seconds before each answer,
    and logs every request (`hits`). `pages` may be changed between crawls.
    """

    def __init__(self, pages: dict[str, Page], host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0, log_headers: bool = True, fault=None):
        self.pages = pages
        self.latency = latency
        # fault(path) -> a Page to answer instead (a 503, a 429 with Retry-After...), or None.
        self.fault = fault
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.log_headers = log_headers
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> SiteServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        if not self.thread.is_alive():
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def paths(self) -> list[str]:
        with self._lock:
            return [hit.path for hit in self.hits]

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so the crawler's connection pool is used
            # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm and
            # the client's delayed ACK would add ~40 ms to every response.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet: the hits list is the log
                pass

            def do_GET(self):
                arrived = self.arrived = time.monotonic()
                page = (server.fault and server.fault(self.path)) or server.pages.get(self.path)
                status, sent = self._answer(page)
                with server._lock:
                    server.hits.append(Hit(arrived, server.port, self.path, status, sent,
                                           dict(self.headers) if server.log_headers else {}))

            def _answer(self, page: Page | None) -> tuple[int, int]:
                if page is None:
                    body = b"<html><body><h1>Page not found</h1></body></html>"
                    self._send(404, body, "text/html; charset=utf-8", [])
                    return 404, len(body)
                validators = [("ETag", page.etag), ("Last-Modified", LAST_MODIFIED)]
                if page.status == 200 and self._not_modified(page):
                    self.send_response(304)
                    for name, value in validators:
                        self.send_header(name, value)
                    self._after_latency()
                    self.end_headers()
                    return 304, 0
                extra = list(page.headers) + (validators if page.status == 200 else [])
                self._send(page.status, page.body, page.content_type, extra)
                return page.status, len(page.body)

            def _not_modified(self, page: Page) -> bool:
                tag = self.headers.get("If-None-Match")
                if tag is not None:
                    return page.etag in [t.strip() for t in tag.split(",")]
                since = self.headers.get("If-Modified-Since")
                if since:
                    try:
                        return email.utils.parsedate_to_datetime(since) >= \
                            email.utils.parsedate_to_datetime(LAST_MODIFIED)
                    except (TypeError, ValueError):
                        return False
                return False

            def _send(self, status: int, body: bytes, content_type: str, headers: list) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self._after_latency()
                self.end_headers()
                self.wfile.write(body)

            def _after_latency(self) -> None:
                """Answer `latency` after the request arrived, our own work included."""
                if server.latency:
                    time.sleep(max(0.0, self.arrived + server.latency - time.monotonic()))

        return Handler


# -- the fixture mirror ---------------------------------------------------------------------------
def mirror_pages(site: Path = SITE) -> dict[str, Page]:
    """The pages of `tests/fixtures/site/` as its MANIFEST.json lays them out."""
    manifest = json.loads((site / "MANIFEST.json").read_text(encoding="utf-8"))
    entries = manifest.get("pages", manifest) if isinstance(manifest, dict) else manifest
    if isinstance(entries, dict):
        entries = [{"path": path, **(value if isinstance(value, dict) else {"file": value})}
                   for path, value in entries.items()]
    pages = {}
    for entry in entries:
        path = entry.get("path") or entry.get("url")
        if "location" in entry:  # a redirect
            pages[path] = Page(b"", "text/html; charset=utf-8", int(entry.get("status", 301)),
                               (("Location", entry["location"]),))
            continue
        content_type = entry.get("content_type") or entry.get("content-type") or "text/html; charset=utf-8"
        pages[path] = Page((site / entry["file"]).read_bytes(), content_type, int(entry.get("status", 200)))
    if "/robots.txt" not in pages and (site / "robots.txt").exists():
        pages["/robots.txt"] = Page((site / "robots.txt").read_bytes(), "text/plain; charset=utf-8")
    return pages
