"""Crashes: `archiver crawl`, `archiver load` and `archiver reparse` killed with SIGKILL at random
moments (and inside a database write), then run again, end with the archive an uninterrupted run
makes: same articles, same field values, integrity_check ok, no duplicate and no orphan rows."""

from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

from checks import CLI, check_archive, records, run_cli
from faults import FaultServer
from figures import LARGE, add
from waiting import wait_for, write_locked

from archiver.archive import Archive
from archiver.mirror import SITE, mirror_pages
from archiver.record import Capture

PAGES = SITE.parent / "pages"
KILLS = 6 if LARGE else 3


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def crawl_args(server, db: Path, *extra) -> list[str]:
    listings = sorted(p for p in server.pages if p.startswith("/newsletters/") and "?" not in p)
    return [*CLI, "crawl", *[server.url(p) for p in listings], "--db", str(db),
            "--warc-dir", str(db.parent / "warc"), "--retries", "1", "--backoff", "0.01",
            "--quiet", *extra]


def test_crawl_killed_at_random_moments_and_inside_a_write_resumes_to_the_same_archive(tmp_path):
    rng = random.Random(2026)
    with FaultServer(mirror_pages(), latency=0.02) as server:
        db = tmp_path / "killed" / "archive.db"
        db.parent.mkdir()
        total = len([p for p in server.pages if p != "/robots.txt"])
        kills, inside_write = [], 0
        for number in range(KILLS):
            process = subprocess.Popen(crawl_args(server, db, "--delay", "0", "--concurrency", "2"),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            before = len(server.hits)
            if number == 0:
                # Inside a write: the moment the crawl holds the archive's write lock.
                wait_for(lambda: len(server.hits) > before + 3, 30)
                assert wait_for(lambda: write_locked(db), 30)
                kill(process)
                inside_write += 1
            else:
                # A few pages in, so every kill lands before the crawl could end.
                target = before + rng.randint(1, max(2, total // (2 * KILLS)))
                wait_for(lambda: len(server.hits) >= target or process.poll() is not None, 60)
                assert process.poll() is None, "the crawl ended before its kill"
                kill(process)
            kills.append(len(server.hits) - before)
            check_archive(db)  # consistent at every kill
        with sqlite3.connect(db) as conn:  # the killed run is the one the next crawl resumes
            assert conn.execute("SELECT count(*) FROM crawl_runs WHERE finished_at IS NULL").fetchone() == (1,)
        final = run_cli(*crawl_args(server, db, "--delay", "0")[3:])
        assert final.returncode in (0, 1), final.stderr
        assert "Traceback" not in final.stderr
        fresh = tmp_path / "fresh" / "archive.db"
        fresh.parent.mkdir()
        clean = run_cli(*crawl_args(server, fresh, "--delay", "0")[3:])
        assert clean.returncode == final.returncode, clean.stderr
    killed_figures = check_archive(db)
    resumed, uninterrupted = records(db), records(fresh)
    assert resumed.keys() == uninterrupted.keys() and len(resumed) > 10
    differing = sorted((key, name) for key in resumed for name in resumed[key]
                       if resumed[key][name] != uninterrupted[key][name])
    assert differing == []
    add("crash", crawl_kills=len(kills), crawl_kills_inside_a_write=inside_write,
        crawl_articles=len(resumed), crawl_articles_lost=len(uninterrupted) - len(resumed),
        crawl_duplicates=killed_figures["duplicates"], crawl_orphans=killed_figures["orphans"],
        crawl_fields_differing=len(differing))


def golden_records() -> list[dict]:
    found = []
    for path in sorted(PAGES.glob("*.expected.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if "error" not in record:
            found.append(record)
    return found


def synthetic_records(count: int) -> list[dict]:
    """`count` distinct records made from the golden ones (new ids, URLs and titles)."""
    base = golden_records()
    made = []
    for number in range(count):
        record = json.loads(json.dumps(base[number % len(base)]))
        site_id = 100_000 + number
        url = f"https://www.thecarlatreport.com/articles/{site_id}-copy-{number}"
        record.update(url=url, canonical_url=url, article_id=site_id,
                      title=f"{record['title']} ({number})")
        made.append(record)
    return made


def test_load_killed_inside_its_transaction_leaves_the_archive_as_before_and_a_rerun_completes(tmp_path):
    count = 60_000 if LARGE else 20_000
    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in synthetic_records(count)), encoding="utf-8")
    db = tmp_path / "killed" / "archive.db"
    db.parent.mkdir()
    first = golden_records()[:5]
    seed = tmp_path / "seed.jsonl"
    seed.write_text("".join(json.dumps(r) + "\n" for r in first), encoding="utf-8")
    assert run_cli("load", seed, "--db", db).returncode == 0
    before = records(db)
    rng = random.Random(7)
    kills = 0
    for _ in range(2):
        process = subprocess.Popen([*CLI, "load", str(jsonl), "--db", str(db)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert wait_for(lambda: write_locked(db), 60)
        wal = Path(f"{db}-wal")
        # Well inside the transaction: pages are being written to the WAL.
        wait_for(lambda: wal.exists() and wal.stat().st_size > 1_000_000 * (1 + rng.random()), 60)
        assert process.poll() is None, "the load finished before the kill: make it bigger"
        kill(process)
        kills += 1
        check_archive(db)
        assert records(db) == before  # the killed transaction left nothing behind
    finished = run_cli("load", jsonl, "--db", db)
    assert finished.returncode == 0, finished.stderr
    fresh = tmp_path / "fresh" / "archive.db"
    fresh.parent.mkdir()
    assert run_cli("load", seed, "--db", fresh).returncode == 0
    assert run_cli("load", jsonl, "--db", fresh).returncode == 0
    figures = check_archive(db)
    resumed, uninterrupted = records(db), records(fresh)
    assert len(resumed) == count + len(first)
    assert resumed == uninterrupted
    add("crash", load_kills_inside_a_write=kills, load_records=count,
        load_records_lost=len(uninterrupted) - len(resumed), load_duplicates=figures["duplicates"],
        load_orphans=figures["orphans"])


def unique_copies(count: int) -> list[Capture]:
    """Captures of the fixture article pages under `count` distinct URLs, each its own article
    (the canonical link and og:url removed, so the page URL is the article's key)."""
    pages = []
    for meta in sorted(PAGES.glob("*.meta.json")):
        expected = json.loads(meta.with_name(meta.name.replace(".meta.", ".expected.")).read_text())
        if "error" in expected:
            continue
        html = meta.with_name(meta.name.replace(".meta.json", ".html")).read_bytes()
        html = re.sub(rb'<link[^>]*rel="canonical"[^>]*>|<meta[^>]*og:url[^>]*>', b"", html)
        headers = json.loads(meta.read_text()).get("headers") or {"content-type": "text/html"}
        pages.append((html, {k.lower(): v for k, v in headers.items()}))
    return [Capture(f"https://www.thecarlatreport.com/articles/{200_000 + n}-copy", 200,
                    pages[n % len(pages)][1], pages[n % len(pages)][0], "2026-11-01T00:00:00Z")
            for n in range(count)]


def archive_of_captures(db: Path, count: int) -> None:
    db.parent.mkdir()
    with Archive(db) as archive, archive.transaction():
        for capture in unique_copies(count):
            archive.add_capture(capture)


def test_reparse_killed_mid_run_then_rerun_equals_an_uninterrupted_reparse(tmp_path):
    count = 1200 if LARGE else 450
    db, fresh = tmp_path / "killed" / "archive.db", tmp_path / "fresh" / "archive.db"
    archive_of_captures(db, count)
    archive_of_captures(fresh, count)

    def stored() -> int:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]

    process = subprocess.Popen([*CLI, "reparse", "--db", str(db), "--workers", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # After the first batch committed, while the next one is being written or parsed.
    assert wait_for(lambda: stored() > 0, 120)
    assert wait_for(lambda: write_locked(db), 30), "never caught the reparse inside a write"
    assert process.poll() is None, "the reparse finished before the kill: make it bigger"
    kill(process)
    partial = stored()
    assert 0 < partial < count
    check_archive(db)
    rerun = run_cli("reparse", "--db", db, "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert run_cli("reparse", "--db", fresh, "--workers", "2").returncode == 0
    figures = check_archive(db)
    resumed, uninterrupted = records(db), records(fresh)
    assert len(resumed) == count
    assert resumed == uninterrupted
    add("crash", reparse_kills=1, reparse_captures=count, reparse_articles_before_kill=partial,
        reparse_articles_lost=len(uninterrupted) - len(resumed),
        reparse_duplicates=figures["duplicates"], reparse_orphans=figures["orphans"])
