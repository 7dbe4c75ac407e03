"""WARC output read back with warcio's ArchiveIterator: record pairs, payloads, rotation, redaction."""

from __future__ import annotations

import gzip

from warcio.archiveiterator import ArchiveIterator

from archiver.fetch import Exchange
from archiver.warc import WarcRecorder

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
    assert sorted(r[0] for r in records) == ["request", "response"]
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
    assert data.count(b"\x1f\x8b\x08") >= 6  # request + response per exchange
    assert gzip.decompress(data).count(b"WARC/1.1\r\n") == 6


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
