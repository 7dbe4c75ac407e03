"""Writers on one archive, as real processes: a load and a crawl wait for each other instead of
failing, and Ctrl-C during a load leaves the archive as it was."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from test_archive import make_article
from waiting import wait_for, write_locked

from archiver.archive import BUSY_TIMEOUT, Archive
from archiver.demo import demo_start_paths
from archiver.mirror import SiteServer, mirror_pages
from archiver.frontier import Frontier

CLI = [sys.executable, "-c", "from archiver.cli import main; main(prog_name='archiver')"]
SITE = Path(__file__).parent / "fixtures" / "site"
HOLD = 7.0  # longer than sqlite3's default 5 s busy timeout, which the archive used to have


def records_file(path: Path, count: int, start: int = 1) -> Path:
    path.write_text("".join(make_article(n).to_json() + "\n" for n in range(start, start + count)),
                    encoding="utf-8")
    return path


def crawled_before(db: Path) -> None:
    """An archive a crawl has run on: the crawler's tables exist. (Creating them goes through
    sqlite-utils' Table.create, a deferred BEGIN that cannot wait for another writer.)"""
    with Archive(db) as archive, archive.transaction():
        Frontier(archive.db)


def crawl_command(server, db: Path) -> list[str]:
    starts = [server.url(p) for p in demo_start_paths(server.pages)]
    return [*CLI, "crawl", *starts, "--db", str(db), "--delay", "0", "--concurrency", "2",
            "--no-warc", "--retries", "0", "--quiet"]


def test_the_busy_timeout_is_long_enough_to_wait_for_a_long_write():
    assert BUSY_TIMEOUT >= 30


def test_a_crawl_and_a_load_wait_for_the_writer_holding_the_archive(tmp_path):
    db = tmp_path / "archive.db"
    crawled_before(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer's long transaction
    with SiteServer(mirror_pages(SITE)) as server:
        started = time.monotonic()
        crawl = subprocess.Popen(crawl_command(server, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        load = subprocess.Popen([*CLI, "load", str(records_file(tmp_path / "r.jsonl", 5)), "--db", str(db)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(HOLD)
        assert crawl.poll() is None and load.poll() is None  # both waiting, neither gave up
        holder.execute("COMMIT")
        holder.close()
        crawl_out, crawl_err = crawl.communicate(timeout=120)
        load_out, load_err = load.communicate(timeout=120)
    assert time.monotonic() - started >= HOLD
    assert crawl.returncode == 0, crawl_err
    assert load.returncode == 0 and "5 new" in load_out, load_err
    with Archive(db, read_only=True) as archive:
        assert archive.db["articles"].count > 5


def test_a_load_holding_the_archive_does_not_abort_a_running_crawl(tmp_path):
    db = tmp_path / "archive.db"
    crawled_before(db)
    big = records_file(tmp_path / "big.jsonl", 20_000, start=100_000)
    with SiteServer(mirror_pages(SITE)) as server:
        load = subprocess.Popen([*CLI, "load", str(big), "--db", str(db)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: write_locked(db), 60)
        crawl = subprocess.Popen(crawl_command(server, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        assert load.poll() is None, "the load ended before the crawl started: make it bigger"
        load_out, load_err = load.communicate(timeout=300)
        crawl_out, crawl_err = crawl.communicate(timeout=300)
    assert load.returncode == 0, load_err
    assert crawl.returncode == 0, crawl_err  # not 75
    with Archive(db, read_only=True) as archive:
        assert archive.db["articles"].count > 20_000
        assert archive.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_ctrl_c_during_a_load_exits_130_and_leaves_the_archive_as_it_was(tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        archive.load([make_article(n) for n in range(1, 4)])
    big = records_file(tmp_path / "big.jsonl", 20_000, start=10)
    load = subprocess.Popen([*CLI, "load", str(big), "--db", str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: write_locked(db), 60)
    time.sleep(0.3)  # well inside its one transaction
    assert load.poll() is None, "the load ended before the interrupt: make it bigger"
    load.send_signal(signal.SIGINT)
    out, err = load.communicate(timeout=120)
    assert load.returncode == 130
    assert err == "error: interrupted: nothing was loaded, the archive is as it was\n"
    assert "Traceback" not in err
    with Archive(db) as archive:
        assert archive.db["articles"].count == 3
        assert archive.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        archive.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
