"""WARC output read back with warcio's ArchiveIterator and checked with warcio's own `check` and
`index`: warcinfo first, record pairs, revisits, payloads, encodings, rotation, redaction, and no
partial record after a failed write."""

from __future__ import annotations

import errno
import gzip
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.archive import Archive
from archiver.config import CrawlConfig
from archiver.crawl import crawl
from archiver.mirror import Page, SiteServer
from archiver.fetch import Exchange
from archiver.warc import WarcRecorder, crawl_info

SECRET = "planted-secret-cookie-99"


def exchange(url="http://127.0.0.1:8000/articles/1-a", body=b"<p>page</p>", **extra):
    values = dict(
        url=url,
        request_headers=[("Host", "127.0.0.1:8000"), ("User-Agent", "archiver-test"),
                         ("Cookie", f"session={SECRET}"), ("Authorization", f"Bearer {SECRET}")],
        status=200, reason="OK", http_version="HTTP/1.1",
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                          ("Content-Length", "31"), ("Set-Cookie", f"s={SECRET}")],
        body=body, fetched_at="2026-11-28T06:34:17Z")
    return Exchange(**{**values, **extra})


def read_records(paths):
    records = []
    for path in paths:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                records.append((record.rec_type, record.rec_headers, record.http_headers,
                                record.content_stream().read()))
    return records


def test_request_and_response_records_read_back(tmp_path):
    recorder = WarcRecorder(tmp_path / "warc")
    recorder.write_exchange(exchange())
    recorder.close()
    (path,) = recorder.paths
    assert path.name.endswith(".warc.gz")
    records = read_records([path])
    assert [r[0] for r in records] == ["warcinfo", "response", "request"]
    by_type = {r[0]: r for r in records}
    (_, req_warc, req_http, _), (_, resp_warc, resp_http, payload) = by_type["request"], by_type["response"]
    assert resp_warc.get_header("WARC-Target-URI") == "http://127.0.0.1:8000/articles/1-a"
    assert resp_warc.protocol == "WARC/1.1"
    assert req_warc.get_header("WARC-Concurrent-To") == resp_warc.get_header("WARC-Record-ID")
    assert f"{req_http.protocol} {req_http.statusline}" == "GET /articles/1-a HTTP/1.1"
    assert payload == b"<p>page</p>"
    # The stored body is decoded, so the headers say so and the length matches.
    assert resp_http.get_header("Content-Encoding") is None
    assert resp_http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert resp_http.get_header("Content-Length") == str(len(b"<p>page</p>"))
    assert resp_warc.get_header("WARC-Payload-Digest", "").startswith("sha1:")


def test_each_record_is_its_own_gzip_member(tmp_path):
    recorder = WarcRecorder(tmp_path)
    for n in range(3):
        recorder.write_exchange(exchange(url=f"http://h/{n}"))
    recorder.close()
    data = recorder.paths[0].read_bytes()
    assert data.count(b"\x1f\x8b\x08") >= 7  # warcinfo, then request + response per exchange
    assert gzip.decompress(data).count(b"WARC/1.1\r\n") == 7


def test_secrets_are_redacted_everywhere(tmp_path):
    recorder = WarcRecorder(tmp_path)
    recorder.write_exchange(exchange())
    recorder.close()
    text = gzip.decompress(recorder.paths[0].read_bytes())
    assert SECRET.encode() not in text
    records = {r[0]: r for r in read_records(recorder.paths)}
    assert records["request"][2].get_header("Cookie") == "REDACTED"
    assert records["request"][2].get_header("Authorization") == "REDACTED"
    assert records["response"][2].get_header("Set-Cookie") == "REDACTED"


def test_files_rotate_by_size_and_nothing_is_lost(tmp_path):
    recorder = WarcRecorder(tmp_path, max_size=3000)
    for n in range(20):
        recorder.write_exchange(exchange(url=f"http://h/{n}", body=bytes(range(256)) * 8))
    recorder.close()
    assert len(recorder.paths) > 3
    assert all(p.stat().st_size < 3000 + 4000 for p in recorder.paths)
    uris = [r[1].get_header("WARC-Target-URI") for r in read_records(recorder.paths) if r[0] == "response"]
    assert uris == [f"http://h/{n}" for n in range(20)]


def warcio_cli(*args):
    """warcio's own command line (the `warcio` entry point)."""
    return subprocess.run([sys.executable, "-c", "from warcio.cli import main; main()", *args],
                          capture_output=True, text=True)


def test_every_file_opens_with_warcinfo_and_every_record_names_it(tmp_path):
    recorder = WarcRecorder(tmp_path, max_size=3000, info={"http-header-user-agent": "archiver-test/1",
                                                           "robots": "obey"})
    for n in range(12):
        recorder.write_exchange(exchange(url=f"http://h/{n}", body=bytes(range(256)) * 8))
    recorder.close()
    assert len(recorder.paths) > 2
    for path in recorder.paths:
        with open(path, "rb") as stream:
            records = [(r.rec_type, r.rec_headers, r.content_stream().read()) for r in ArchiveIterator(stream)]
        (kind, info_headers, fields), rest = records[0], records[1:]
        assert kind == "warcinfo" and info_headers.get_header("WARC-Filename") == path.name
        assert b"software: archiver/" in fields and b"format: WARC File Format 1.1" in fields
        assert b"http-header-user-agent: archiver-test/1" in fields and b"robots: obey" in fields
        info_id = info_headers.get_header("WARC-Record-ID")
        assert rest and all(h.get_header("WARC-Warcinfo-ID") == info_id for _, h, _ in rest)
        assert "warcinfo" not in [kind for kind, _, _ in rest]


def test_crawl_info_names_the_user_agent_delay_and_robots_policy():
    info = crawl_info(CrawlConfig(user_agent="archiver/9 (+mailto:me@library.example)", delay=2.5))
    assert info["http-header-user-agent"] == "archiver/9 (+mailto:me@library.example)"
    assert info["robots"] == "obey" and "2.5 s between two requests to one host" in info["description"]


def test_a_304_is_a_server_not_modified_revisit_record(tmp_path):
    recorder = WarcRecorder(tmp_path)
    for refers in ("2026-11-01T10:00:00Z", None):
        recorder.write_exchange(exchange(status=304, reason="Not Modified", body=b"",
                                         response_headers=[("ETag", '"v1"'), ("Set-Cookie", f"s={SECRET}")],
                                         refers_to_date=refers))
    recorder.close()
    revisits = [r for r in read_records(recorder.paths) if r[0] == "revisit"]
    assert len(revisits) == 2
    for (_, warc, http, payload), refers in zip(revisits, ("2026-11-01T10:00:00Z", None)):
        assert warc.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
        assert warc.get_header("WARC-Refers-To-Target-URI") == "http://127.0.0.1:8000/articles/1-a"
        assert warc.get_header("WARC-Refers-To-Date") == refers  # omitted when not known
        assert http.get_statuscode() == "304" and http.get_header("ETag") == '"v1"'
        assert http.get_header("Set-Cookie") == "REDACTED" and payload == b""
    assert warcio_cli("check", *map(str, recorder.paths)).returncode == 0


def test_iris_reason_phrases_and_header_bytes_are_written_as_warc_says(tmp_path):
    # As http.client hands them over: header bytes decoded as latin-1 (UTF-8 "é" is "Ã©").
    utf8_as_latin1 = "é".encode("utf-8").decode("latin-1")
    recorder = WarcRecorder(tmp_path)
    recorder.write_exchange(exchange(
        url="http://127.0.0.1:8000/articles/6-café?q=ü", status=301, reason=f"D{utf8_as_latin1}plac{utf8_as_latin1}",
        response_headers=[("Location", f"/articles/6-caf{utf8_as_latin1}"), ("X-Odd", "\xff\xfe raw"),
                          ("Content-Length", "0")], body=b""))
    recorder.write_exchange(exchange(url="http://bücher.example/ä"))
    recorder.close()
    records = read_records(recorder.paths)
    uris = [r[1].get_header("WARC-Target-URI") for r in records if r[0] == "response"]
    assert uris == ["http://127.0.0.1:8000/articles/6-caf%C3%A9?q=%C3%BC", "http://xn--bcher-kva.example/%C3%A4"]
    request = next(r for r in records if r[0] == "request")
    assert f"{request[2].protocol} {request[2].statusline}" == "GET /articles/6-caf%C3%A9?q=%C3%BC HTTP/1.1"
    raw = gzip.decompress(recorder.paths[0].read_bytes())
    assert b"HTTP/1.1 301 D\xc3\xa9plac\xc3\xa9\r\n" in raw  # the bytes the server sent
    assert b"Location: /articles/6-caf\xc3\xa9\r\n" in raw
    assert b"X-Odd: \xff\xfe raw\r\n" in raw
    assert warcio_cli("check", *map(str, recorder.paths)).returncode == 0


def test_a_truncated_body_is_marked(tmp_path):
    recorder = WarcRecorder(tmp_path)
    recorder.write_exchange(exchange(url="http://h/robots.txt", body=b"User-agent: *\n" * 10, truncated=True))
    recorder.write_exchange(exchange(url="http://h/page"))
    recorder.close()
    marks = {r[1].get_header("WARC-Target-URI"): r[1].get_header("WARC-Truncated")
             for r in read_records(recorder.paths) if r[0] == "response"}
    assert marks == {"http://h/robots.txt": "length", "http://h/page": None}


WRITE_UNTIL_FULL = r"""
import random, resource, signal, sys
from archiver.fetch import Exchange
from archiver.warc import WarcRecorder

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
recorder = WarcRecorder(sys.argv[1])

def page(n):
    return Exchange(url=f"http://h/{n}", request_headers=[("Host", "h")], status=200, reason="OK",
                    http_version="HTTP/1.1", response_headers=[("Content-Type", "text/plain")],
                    body=random.Random(n).randbytes(20_000), fetched_at="2026-11-28T06:34:17Z")

for n in range(3):
    recorder.write_exchange(page(n))
good = recorder.paths[0].stat().st_size
# The file may grow by half of the next record only: the disk is full in the middle of it.
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (good + 10_000, hard))
try:
    recorder.write_exchange(page(3))
except OSError as exc:
    print("failed", exc.errno, recorder.paths[0].stat().st_size == good)
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
recorder.write_exchange(page(4))  # the disk has room again
recorder.close()
"""


def test_a_write_that_fails_partway_leaves_no_partial_record(tmp_path):
    result = subprocess.run([sys.executable, "-c", WRITE_UNTIL_FULL, str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["failed", str(errno.EFBIG), "True"]  # cut back at once
    (path,) = tmp_path.glob("*.warc.gz")
    uris = [r[1].get_header("WARC-Target-URI") for r in read_records([path]) if r[0] == "response"]
    assert uris == ["http://h/0", "http://h/1", "http://h/2", "http://h/4"]
    assert warcio_cli("check", str(path)).returncode == 0
    index = warcio_cli("index", str(path))
    assert index.returncode == 0 and "http://h/3" not in index.stdout


# -- the crawl's WARC files ---------------------------------------------------------------------
def crawl_site(server, tmp_path, **settings):
    config = CrawlConfig(delay=0, jitter=0, retries=0, db=str(tmp_path / "archive.db"),
                         warc_dir=str(tmp_path / "warc"), user_agent="archiver-test/2 (+mailto:me@x.example)",
                         **settings)
    with Archive(config.db) as archive:
        return crawl([server.url("/newsletters/general-psychiatry")], archive, config)


def warc_files(tmp_path) -> list[Path]:
    return sorted((tmp_path / "warc").glob("*.warc.gz"))


def test_a_second_crawl_writes_revisit_records_that_refer_to_the_first(tmp_path):
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow: /private\n", "text/plain"),
        "/newsletters/general-psychiatry": Page(b'<html><body><a href="/newsletter-issue/tcprv1n1">issue</a>'
                                                b'<a href="/articles/6-caf\xc3\xa9">caf\xc3\xa9</a></body></html>'),
        "/newsletter-issue/tcprv1n1": Page(b"<html><body>an issue</body></html>"),
        "/articles/6-caf%C3%A9": Page(b"<html><body>not much of an article</body></html>"),
    }
    with SiteServer(pages) as server:
        crawl_site(server, tmp_path)
        assert "/articles/6-caf%C3%A9" in server.paths()  # the non-ASCII link, fetched
        first_files = warc_files(tmp_path)
        server.hits.clear()
        second = crawl_site(server, tmp_path)
        unchanged = {server.url(hit.path) for hit in server.hits if hit.status == 304}
    assert server.url("/robots.txt") in unchanged and second.not_modified == len(unchanged) - 1 > 0
    new_files = [p for p in warc_files(tmp_path) if p not in first_files]
    assert len(new_files) == 1
    first_dates = {r[1].get_header("WARC-Target-URI"): r[1].get_header("WARC-Date")
                   for r in read_records(first_files) if r[0] == "response"}
    records = read_records(new_files)
    assert records[0][0] == "warcinfo"
    assert b"http-header-user-agent: archiver-test/2 (+mailto:me@x.example)" in records[0][3]
    revisits = {r[1].get_header("WARC-Target-URI"): r[1] for r in records if r[0] == "revisit"}
    assert set(revisits) == unchanged  # robots.txt and every page asked again
    for uri, headers in revisits.items():
        assert headers.get_header("WARC-Refers-To-Target-URI") == uri
        assert headers.get_header("WARC-Refers-To-Date")[:19] == first_dates[uri][:19]
    assert [r[0] for r in records].count("response") == 0
    for path in warc_files(tmp_path):
        assert warcio_cli("check", str(path)).returncode == 0
        assert warcio_cli("index", str(path)).returncode == 0
