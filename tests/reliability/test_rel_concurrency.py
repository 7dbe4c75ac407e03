"""Concurrency: a second crawl on one archive exits 75 at once; an analyst's open sqlite3
connection querying during a crawl neither blocks it nor ever sees a half-written article."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from checks import CLI, check_archive, records, run_cli
from faults import FaultServer
from figures import LARGE, add
from waiting import wait_for

from archiver.mirror import Page, mirror_pages

# Per snapshot: articles whose page is not fully recorded (capture, its queue row marked fetched in
# the same transaction, author and keyword links, index row). A later run re-queues articles
# (state 'pending'), so the queue row's last_status is what says it was recorded.
HALF_WRITTEN = """
SELECT count(*) FROM articles a
WHERE a.capture_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM captures c WHERE c.id = a.capture_id)
   OR NOT EXISTS (SELECT 1 FROM crawl_queue q WHERE q.url = a.url AND q.last_status IS NOT NULL)
   OR NOT EXISTS (SELECT 1 FROM articles_fts f WHERE f.rowid = a.id)
   OR (coalesce(a.authors_text, '') != '') != EXISTS (SELECT 1 FROM article_authors l WHERE l.article_id = a.id)
   OR (coalesce(a.keywords_text, '') != '') != EXISTS (SELECT 1 FROM article_keywords k WHERE k.article_id = a.id)
"""


def crawl_args(server, db: Path, *extra) -> list[str]:
    listings = sorted(p for p in server.pages if p.startswith("/newsletters/") and "?" not in p)
    return [*CLI, "crawl", *[server.url(p) for p in listings], "--db", str(db),
            "--warc-dir", str(db.parent / "warc"), "--retries", "1", "--backoff", "0.01", *extra]


def test_a_second_crawl_exits_75_at_once_while_the_first_runs(tmp_path):
    db = tmp_path / "archive.db"
    # Slow enough (0.15 s a page, one at a time) that the first is surely still running when
    # the second has started up, even on a loaded machine.
    with FaultServer(mirror_pages(), latency=0.15) as server:
        first = subprocess.Popen(crawl_args(server, db, "--delay", "0", "--concurrency", "1", "--quiet"),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert wait_for(lambda: len(server.hits) >= 2, 60)
            hits = len(server.hits)
            started = time.monotonic()
            second = run_cli(*crawl_args(server, db, "--delay", "0")[3:], timeout=60)
            waited = time.monotonic() - started
            assert first.poll() is None  # the first was still running
        finally:
            first.wait(timeout=120)
    assert second.returncode == 75
    assert second.stderr.startswith("error: another crawl is running on") and second.stderr.count("\n") == 1
    assert waited < 5
    assert first.returncode in (0, 1), first.stderr.read()
    assert len(server.hits) > hits + 5  # the first went on to the end
    add("concurrency", second_crawl_exit_status=75, second_crawl_seconds=round(waited, 2))


def test_an_analyst_reading_during_a_crawl_never_blocks_it_nor_sees_half_an_article(tmp_path):
    db = tmp_path / "archive.db"
    seen: dict[str, tuple] = {}
    snapshots, half_written, errors, slowest = [0], [0], [], [0.0]
    stop = threading.Event()

    def analyst():
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    if not db.exists():
                        time.sleep(0.01)
                        continue
                    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
                started = time.monotonic()
                conn.execute("BEGIN")  # one snapshot for all the queries below
                if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'crawl_queue'").fetchone()[0]:
                    half_written[0] += conn.execute(HALF_WRITTEN).fetchone()[0]
                    for key, title, body, authors in conn.execute(
                            "SELECT canonical_url, title, body, authors_text FROM articles"):
                        seen.setdefault(key, (title, body, authors))
                    conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'depression'").fetchone()
                    snapshots[0] += 1
                time.sleep(0.02)  # an analyst holding a read transaction open
                conn.execute("COMMIT")
                slowest[0] = max(slowest[0], time.monotonic() - started - 0.02)
            except sqlite3.OperationalError as exc:
                # Before the first snapshot the file is still being created (its first
                # transaction switches it to WAL): only errors after that would block an analyst.
                if snapshots[0]:
                    errors.append(str(exc))
                time.sleep(0.005)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    reader = threading.Thread(target=analyst, daemon=True)
    reader.start()
    rounds = 3 if LARGE else 1
    try:
        with FaultServer(mirror_pages(), latency=0.03) as server:
            for number in range(rounds):
                for path, page in list(server.pages.items()):
                    if number and path.startswith("/articles/"):  # new bytes: captured, stored again
                        server.pages[path] = Page(page.body + f"<!-- round {number} -->".encode(),
                                                  page.content_type)
                started = time.monotonic()
                result = run_cli(*crawl_args(server, db, "--delay", "0", "--concurrency", "2",
                                             "--quiet")[3:], timeout=120)
                seconds = time.monotonic() - started
                assert result.returncode in (0, 1), result.stderr
                assert "locked" not in result.stderr and "Traceback" not in result.stderr
    finally:
        stop.set()
        reader.join(timeout=10)
    final = records(db)
    check_archive(db)
    assert errors == []
    assert snapshots[0] > 5 and half_written[0] == 0
    assert slowest[0] < 2.0  # a hang detector for the reader's queries, not a speed test
    for key, values in seen.items():
        assert (final[key]["title"], final[key]["body"]) == values[:2], key
    add("concurrency", analyst_snapshots=snapshots[0], analyst_half_written_articles=half_written[0],
        analyst_lock_errors=len(errors), analyst_articles_seen=len(seen), crawl_seconds=round(seconds, 2))
