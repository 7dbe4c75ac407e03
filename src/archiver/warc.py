"""WARC/1.1 files (ISO 28500), as warcio writes them: each file opens with a `warcinfo` record (the
software and the crawl's politeness settings) that every later record names in
`WARC-Warcinfo-ID`; then a request + response record pair per exchange, or request + `revisit`
(profile server-not-modified) for a 304. gzip per record; a new file, with its own warcinfo, once
one reaches `max_size`. docs/warc.md describes the files and how to replay them.

Bodies arrive already decoded by requests, so the response headers are rewritten to match what is
stored: `Content-Encoding`/`Transfer-Encoding` become `X-Archive-Orig-...` and `Content-Length` is
the stored length (the convention replay tools such as pywb understand). URLs are written as ASCII
URIs (an IRI percent-encoded, as requests sends it); HTTP headers as the bytes that were on the
wire. Secrets never reach this module unredacted: fetch redacts `Cookie`, `Authorization` and
`Set-Cookie`, and the records are redacted again so no caller can forget.

A record is whole or absent: each is built in memory and appended with unbuffered writes, and a
failed write (disk full) cuts the file back to where the record began before the error goes on.
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

from archiver import __version__
from archiver.fetch import Exchange, iri_to_uri, redact

REWRITTEN = {"content-encoding", "transfer-encoding", "content-length"}
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Created here, never through a link, appended to only (a failed write is cut back to its start).
NEW_FILE = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
WARC_1_1 = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


def _warc_date(iso: str) -> str:
    # warcio wants WARC-Date with the 1.1 precision it writes itself; our ISO strings are seconds.
    return iso if iso.endswith("Z") else iso + "Z"


def crawl_info(config) -> dict[str, str]:
    """The warcinfo fields a crawl's settings give (a CrawlConfig)."""
    return {
        "http-header-user-agent": config.user_agent,
        "robots": "obey",
        "description": f"polite crawl: {config.delay:g} s between two requests to one host "
                       "(a larger robots.txt Crawl-delay wins); cookies and credentials redacted",
    }


def _wire(line: str) -> bytes:
    """http.client decodes header bytes as latin-1, so latin-1 gives back exactly what was on the
    wire; text that never was (beyond U+00FF) is written as UTF-8. A line break would end the
    header early: none survives."""
    line = line.replace("\r", " ").replace("\n", " ")
    try:
        return line.encode("latin-1")
    except UnicodeEncodeError:
        return line.encode("utf-8", errors="backslashreplace")


class WireHeaders(StatusAndHeaders):
    """HTTP headers written as their wire bytes. warcio's own (`to_ascii_bytes`) percent-encodes
    non-ASCII values, and raises on a non-ASCII status line or request target."""

    def compute_headers_buffer(self, header_filter=None):
        first = " ".join(part for part in (self.protocol, self.statusline) if part)
        lines = [first, *(f"{name}: {value}" for name, value in self.headers)]
        self.headers_buff = b"".join(_wire(line) + b"\r\n" for line in lines) + b"\r\n"


class WarcRecorder:
    """Thread-safe: the crawl's worker threads hand it every Exchange.

    `info` adds fields to each file's warcinfo record (see `crawl_info`)."""

    def __init__(self, directory: str | Path, max_size: int = 1_000_000_000, prefix: str = "archiver",
                 info: dict[str, str] | None = None):
        self.directory = Path(directory)
        self.max_size = max_size
        self.prefix = prefix
        self.info = {"software": f"archiver/{__version__}", "format": "WARC File Format 1.1",
                     "conformsTo": WARC_1_1, **(info or {})}
        self._lock = threading.Lock()
        self._file = None
        self._size = 0
        self._info_id = ""
        self._sequence = 0
        self.paths: list[Path] = []

    def _open_next(self) -> None:
        self._close_file()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        while True:
            # pid + sequence keep names unique when a killed run is restarted within the same
            # second; O_EXCL never appends to a file already there (a crawl run earlier in this
            # process, or a file that is not ours): the next sequence number is taken instead.
            self._sequence += 1
            path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}-{self._sequence:05d}.warc.gz"
            try:
                fd = os.open(path, NEW_FILE, 0o644)
                break
            except FileExistsError:
                continue
        self._file, self._size = os.fdopen(fd, "wb", buffering=0), 0
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
        record = writer.create_warcinfo_record(path.name, self.info)
        writer.write_record(record)
        try:
            self._append(buffer.getvalue())
        except BaseException:
            self._close_file()
            path.unlink(missing_ok=True)  # ours, and holding no record
            raise
        self._info_id = record.rec_headers.get_header("WARC-Record-ID")
        self.paths.append(path)

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._close_file()

    def _append(self, data: bytes) -> None:
        """Write `data` at the end of the file, all of it or (after cutting back) none of it."""
        offset, view = self._size, memoryview(data)
        try:
            while view:
                view = view[self._file.write(view):]
        except BaseException:
            try:
                os.ftruncate(self._file.fileno(), offset)  # O_APPEND: the next write lands here
            except OSError:
                self._close_file()  # cannot cut back: the next record starts a new file
            raise
        self._size = offset + len(data)

    def write_exchange(self, exchange: Exchange) -> None:
        with self._lock:
            if self._file is None or self._size >= self.max_size:
                self._open_next()
            buffer = io.BytesIO()
            writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
            writer.write_request_response_pair(*self._records(writer, exchange))
            self._append(buffer.getvalue())

    __call__ = write_exchange

    def _records(self, writer: WARCWriter, exchange: Exchange):
        uri = iri_to_uri(exchange.url)
        common = {"WARC-Date": _warc_date(exchange.fetched_at), "WARC-Warcinfo-ID": self._info_id}
        parts = urlsplit(uri)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_http = WireHeaders(
            f"GET {target} HTTP/1.1", redact(exchange.request_headers), is_http_request=True)
        request = writer.create_warc_record(uri, "request", http_headers=request_http,
                                            warc_headers_dict=dict(common))
        statusline = f"{exchange.status} {exchange.reason}".strip()
        if exchange.status == 304:
            # Nothing was downloaded: the record says which earlier capture still holds.
            revisit = {"WARC-Profile": SERVER_NOT_MODIFIED, "WARC-Refers-To-Target-URI": uri}
            if exchange.refers_to_date:
                revisit["WARC-Refers-To-Date"] = _warc_date(exchange.refers_to_date)
            http = WireHeaders(statusline, redact(exchange.response_headers), protocol=exchange.http_version)
            return request, writer.create_warc_record(uri, "revisit", http_headers=http,
                                                      warc_headers_dict={**common, **revisit})
        headers = []
        for name, value in redact(exchange.response_headers):
            if name.lower() in REWRITTEN:
                if name.lower() != "content-length":
                    headers.append((f"X-Archive-Orig-{name}", value))
            else:
                headers.append((name, value))
        headers.append(("Content-Length", str(len(exchange.body))))
        http = WireHeaders(statusline, headers, protocol=exchange.http_version)
        if exchange.truncated:  # a robots.txt read only up to its size limit
            common["WARC-Truncated"] = "length"
        response = writer.create_warc_record(
            uri, "response", payload=io.BytesIO(exchange.body), length=len(exchange.body),
            http_headers=http, warc_headers_dict=common)
        return request, response
