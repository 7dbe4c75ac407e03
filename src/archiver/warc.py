"""WARC/1.1 request + response records (warcio), gzip per record, files rotated by size.

Bodies arrive already decoded by requests, so the response headers are rewritten to match what is
stored: `Content-Encoding`/`Transfer-Encoding` become `X-Archive-Orig-...` and `Content-Length` is
the stored length (the convention replay tools such as pywb understand). Secrets never reach this
module unredacted: fetch redacts `Cookie`, `Authorization` and `Set-Cookie`, and `write_exchange`
redacts again so no caller can forget.
"""

from __future__ import annotations

import io
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.fetch import Exchange, redact

REWRITTEN = {"content-encoding", "transfer-encoding", "content-length"}


def _warc_date(iso: str) -> str:
    # warcio wants WARC-Date with the 1.1 precision it writes itself; our ISO strings are seconds.
    return iso if iso.endswith("Z") else iso + "Z"


class WarcRecorder:
    """Thread-safe: the crawl's worker threads hand it every Exchange."""

    def __init__(self, directory: str | Path, max_size: int = 1_000_000_000, prefix: str = "archiver"):
        self.directory = Path(directory)
        self.max_size = max_size
        self.prefix = prefix
        self._lock = threading.Lock()
        self._file = None
        self._sequence = 0
        self.paths: list[Path] = []

    def _open_next(self) -> None:
        self._close_file()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        self._sequence += 1
        # pid + sequence keep names unique when a killed run is restarted within the same second.
        path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}-{self._sequence:05d}.warc.gz"
        self._file = open(path, "ab")
        self.paths.append(path)

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._close_file()

    def write_exchange(self, exchange: Exchange) -> None:
        # Both records are built in memory and written with one write() and a flush: a kill
        # leaves the file ending at a record boundary in all but the rarest timing.
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
        request, response = self._records(writer, exchange)
        writer.write_request_response_pair(request, response)
        with self._lock:
            if self._file is None or self._file.tell() >= self.max_size:
                self._open_next()
            self._file.write(buffer.getvalue())
            self._file.flush()

    __call__ = write_exchange

    @staticmethod
    def _records(writer: WARCWriter, exchange: Exchange):
        date = _warc_date(exchange.fetched_at)
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_http = StatusAndHeaders(
            f"GET {target} HTTP/1.1", redact(exchange.request_headers), is_http_request=True)
        request = writer.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(b""), http_headers=request_http,
            warc_headers_dict={"WARC-Date": date})
        headers = []
        for name, value in redact(exchange.response_headers):
            if name.lower() in REWRITTEN:
                if name.lower() != "content-length":
                    headers.append((f"X-Archive-Orig-{name}", value))
            else:
                headers.append((name, value))
        headers.append(("Content-Length", str(len(exchange.body))))
        response_http = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(), headers, protocol=exchange.http_version)
        response = writer.create_warc_record(
            exchange.url, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=response_http, warc_headers_dict={"WARC-Date": date})
        return request, response
