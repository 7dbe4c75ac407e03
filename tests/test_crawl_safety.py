"""The crawl's stops and safety nets, end to end against real local servers and a real archive:
the lock never writes through a link, max_time and Ctrl-C stop cleanly (the next run resumes),
a failed WARC write fails its page and not the crawl, robots.txt is kept and asked for
conditionally."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from archiver.archive import Archive
from archiver.config import CrawlConfig
from archiver.crawl import crawl, crawl_lock
from archiver.mirror import Page, SiteServer
from archiver.errors import ArchiverError

CLI = [sys.executable, "-c", "from archiver.cli import main; main()"]


def query(db: Path, sql: str):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def listing(paths) -> Page:
    links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return Page(f"<html><body><h1>Listing</h1><ul>{links}</ul></body></html>".encode())


def config(tmp_path, **settings) -> CrawlConfig:
    base = dict(delay=0, jitter=0, concurrency=2, retries=0, db=str(tmp_path / "archive.db"),
                warc_dir=str(tmp_path / "warc"))
    return CrawlConfig(**{**base, **settings})


def run(server, tmp_path, **settings):
    cfg = config(tmp_path, **settings)
    with Archive(cfg.db) as archive:
        return crawl([server.url("/newsletters/general-psychiatry")], archive, cfg)


# -- the lock -----------------------------------------------------------------------------------
def test_the_lock_never_writes_through_a_symlink_or_into_a_file_not_ours(tmp_path):
    db = tmp_path / "archive.db"
    lock = Path(f"{db}.lock")
    precious = tmp_path / "precious.txt"
    precious.write_text("the only copy\n")
    lock.symlink_to(precious)
    with pytest.raises(ArchiverError, match="is a symbolic link, not a lock file") as info:
        with crawl_lock(db):
            pass
    assert info.value.exit_code == 2
    result = subprocess.run([*CLI, "crawl", "http://127.0.0.1:9/", "--db", str(db)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    lock.unlink()
    os.link(precious, lock)  # a hard link: writing the pid would overwrite the file
    with pytest.raises(ArchiverError, match="not a lock file of ours"), crawl_lock(db):
        pass
    lock.unlink()
    lock.write_text("not a pid at all\n")
    with pytest.raises(ArchiverError, match="holds something other than a pid"), crawl_lock(db):
        pass
    assert precious.read_text() == "the only copy\n"
    assert lock.read_text() == "not a pid at all\n"
    lock.unlink()
    with crawl_lock(db):  # a lock of ours, from an earlier run or not there yet: taken
        assert lock.read_text() == str(os.getpid())
    with crawl_lock(db):
        assert (lock.stat().st_mode & 0o777) == 0o644


# -- max_time -----------------------------------------------------------------------------------
def slow_site(pages: int = 30) -> dict[str, Page]:
    issues = [f"/newsletter-issue/slow-{n}" for n in range(1, pages + 1)]
    site = {path: Page(f"<html><body><h1>Issue {path}</h1></body></html>".encode()) for path in issues}
    site["/newsletters/general-psychiatry"] = listing(issues)
    site["/robots.txt"] = Page(b"User-agent: *\nDisallow:\n", "text/plain")
    return site


def test_max_time_stops_taking_pages_and_the_next_run_resumes(tmp_path):
    with SiteServer(slow_site(), latency=0.2) as server:
        started = time.monotonic()
        report = run(server, tmp_path, max_time=1.5, concurrency=1)
        took = time.monotonic() - started
        assert report.stopped == "max_time (1.5 s)"
        assert 1.5 <= took < 1.5 + 5
        answered = query(tmp_path / "archive.db", "SELECT count(*) FROM crawl_queue WHERE state != 'pending'")[0][0]
        pending = query(tmp_path / "archive.db", "SELECT count(*) FROM crawl_queue WHERE state = 'pending'")[0][0]
        assert answered == report.fetched and report.failed == 0 and pending > 10
        assert "stopped at max_time (1.5 s)" in report.format()
        # Nothing half-written: every fetched page has its capture; the run stays open.
        assert query(tmp_path / "archive.db", "SELECT count(*) FROM captures WHERE url NOT LIKE '%robots.txt'") \
            == [(report.fetched,)]
        assert query(tmp_path / "archive.db", "SELECT finished_at FROM crawl_runs") == [(None,)]
        result = subprocess.run(
            [*CLI, "crawl", server.url("/newsletters/general-psychiatry"), "--db", str(tmp_path / "archive.db"),
             "--warc-dir", str(tmp_path / "warc"), "--delay", "0", "--retries", "0", "--max-time", "1",
             "--concurrency", "1", "--quiet"], capture_output=True, text=True)
        assert result.returncode == 124, result.stderr
        assert result.stderr == ("error: stopped at --max-time 1 s; the next crawl resumes the "
                                 "pending pages\n")
        final = run(server, tmp_path)
    assert final.resumed and final.stopped == ""
    assert query(tmp_path / "archive.db",
                 "SELECT count(*) FROM crawl_queue WHERE state IN ('pending', 'failed')") == [(0,)]
    assert query(tmp_path / "archive.db", "SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL") == [(0,)]
    # Each page asked for once over the three runs, but for those abandoned in flight.
    paths = [p for p in server.paths() if p.startswith("/newsletter-issue/")]
    assert len(set(paths)) == 30 and len(paths) - 30 <= 2


# -- Ctrl-C -------------------------------------------------------------------------------------
class DrippingSite:
    """A listing linking to one page whose headers arrive a byte at a time, for ever."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.paths: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            path = data.split(b" ")[1].decode()
            self.paths.append(path)
            try:
                if path == "/newsletters/general-psychiatry":
                    body = b'<html><body><a href="/articles/1-slow">slow</a></body></html>'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n%s" % (len(body), body))
                elif path == "/articles/1-slow":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(1200):
                        conn.sendall(b"x")
                        time.sleep(0.05)
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass

    def close(self):
        self.listener.close()


def test_ctrl_c_stops_a_fetch_in_flight_at_once_and_leaves_its_page_pending(tmp_path):
    site = DrippingSite()
    db = tmp_path / "archive.db"
    try:
        process = subprocess.Popen(
            [*CLI, "crawl", site.url("/newsletters/general-psychiatry"), "--db", str(db),
             "--warc-dir", str(tmp_path / "warc"), "--delay", "0", "--retries", "3"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while "/articles/1-slow" not in site.paths:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
        time.sleep(0.3)  # the fetch is in its headers, dripping
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        took = time.monotonic() - interrupted
    finally:
        site.close()
    assert process.returncode == 130, stderr
    assert stderr == "error: interrupted: the next crawl resumes where this one stopped\n"
    assert took < 5  # within a second on an idle machine; the server would drip for a minute
    assert query(db, "SELECT state, reason FROM crawl_queue WHERE url LIKE '%/articles/1-slow'") \
        == [("pending", None)]
    assert query(db, "SELECT finished_at FROM crawl_runs") == [(None,)]


# -- a failed WARC write ------------------------------------------------------------------------
LIMITED_CRAWL = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)), resource.RLIM_INFINITY))
from archiver.cli import main
main()
"""


def test_a_warc_write_that_fails_fails_its_page_not_the_crawl(tmp_path):
    import random

    big = {f"/newsletter-issue/big-{n}": Page(b"<html><body>" + random.Random(n).randbytes(1_500_000)
                                              + b"</body></html>") for n in (1, 2)}
    small = {"/newsletter-issue/small": Page(b"<html><body><h1>Small</h1></body></html>")}
    pages = {**big, **small, "/newsletters/general-psychiatry": listing([*big, *small]),
             "/robots.txt": Page(b"User-agent: *\nDisallow:\n", "text/plain")}
    db, warc = tmp_path / "archive.db", tmp_path / "warc"
    args = ["crawl", "--db", str(db), "--warc-dir", str(warc), "--delay", "0", "--retries", "0",
            "--concurrency", "1"]
    with SiteServer(pages) as server:
        start = server.url("/newsletters/general-psychiatry")
        # No file may grow past 1 MB: the big pages' WARC records cannot be written.
        result = subprocess.run([sys.executable, "-c", LIMITED_CRAWL, "1000000", *args, start],
                                capture_output=True, text=True)
        assert result.returncode == 1, result.stderr
        *failures, summary = result.stderr.splitlines()
        assert failures == [f"error: {server.url(path)}: not recorded in the WARC: OSError: [Errno 27] "
                            "File too large" for path in big]
        assert re.fullmatch(r"error: 2 of \d+ pages failed; they are retried on the next run", summary)
        assert query(db, "SELECT url FROM crawl_queue WHERE state = 'failed' ORDER BY url") == \
            [(server.url(path),) for path in sorted(big)]
        assert query(db, "SELECT count(*) FROM captures WHERE url LIKE '%/big-%'") == [(0,)]
        check = subprocess.run([sys.executable, "-c", "from warcio.cli import main; main()", "check",
                                *map(str, warc.glob("*.warc.gz"))], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        again = subprocess.run([*CLI, *args, start], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert query(db, "SELECT count(*) FROM captures WHERE url LIKE '%/big-%'") == [(2,)]


# -- robots.txt across runs -----------------------------------------------------------------------
def test_robots_txt_is_kept_in_the_archive_and_asked_for_conditionally(tmp_path):
    pages = {"/robots.txt": Page(b"User-agent: *\nDisallow: /articles/2-private\n", "text/plain"),
             "/newsletters/general-psychiatry": listing(["/articles/1-open", "/articles/2-private"]),
             "/articles/1-open": Page(b"<html><body>open</body></html>"),
             "/articles/2-private": Page(b"<html><body>private</body></html>")}
    with SiteServer(pages) as server:
        run(server, tmp_path)
        server.hits.clear()
        second = run(server, tmp_path)
    robots = [hit for hit in server.hits if hit.path == "/robots.txt"]
    assert len(robots) == 1 and robots[0].status == 304
    assert robots[0].headers.get("If-None-Match") == pages["/robots.txt"].etag
    assert "/articles/2-private" not in server.paths() and second.blocked == 1
    assert query(tmp_path / "archive.db", "SELECT count(*) FROM captures WHERE url LIKE '%/robots.txt'") == [(1,)]
