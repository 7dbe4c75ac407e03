"""Attacks: an unfriendly server, a careless user and odd input, each run through the real CLI in
its own process against a loopback server of ours; each outcome goes into the reliability table
("attacks"). The numbers follow the issue that listed them, ranked by harm: data loss, hangs, a
crash repeated every run, loads that crash or mangle, robots.txt ignored, secrets on stderr,
credentials in links, a lock that follows symlinks, exit statuses cron cannot trust."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from checks import CLI, check_archive, run_cli
from faults import FaultServer, pdf_page, redirect_to
from figures import record
from waiting import wait_for, write_locked

from archiver.mirror import SITE, Page

PAGES = SITE.parent / "pages"
ARTICLE_HTML = (PAGES / "tcpr-expert-qa.html").read_bytes()
SECOND_HTML = (PAGES / "tcpr-research-doi.html").read_bytes()
THIRD_HTML = (PAGES / "tcpr-omega3-mdphd.html").read_bytes()
PASSWORD = "attack-password-5e81c0"
COOKIE_VALUE = "attack-cookie-value-a4d2"


def hub(*links: str) -> Page:
    anchors = "".join(f'<li><a href="{link}">Article {n}</a></li>' for n, link in enumerate(links))
    return Page(f"<html><head><title>Start</title></head><body><h1>Start</h1><ul>{anchors}</ul>"
                "</body></html>".encode())


def crawl(server, db: Path, start: str = "/start", *extra, timeout: float = 120):
    """`archiver crawl` of the server's start page in a fresh process: (result, seconds)."""
    began = time.monotonic()
    result = run_cli("crawl", server.url(start), "--db", db, "--warc-dir", db.parent / "warc",
                     "--delay", "0", "--retries", "0", "--timeout", "5", "--quiet", *extra,
                     timeout=timeout)
    return result, time.monotonic() - began


def one_line_error(result) -> bool:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr


def golden_lines(count: int) -> list[str]:
    found = []
    for path in sorted(PAGES.glob("*.expected.json")):
        record_ = json.loads(path.read_text(encoding="utf-8"))
        if "error" not in record_:
            found.append(json.dumps(record_, ensure_ascii=False))
    return found[:count]


def articles_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


# -- 1. data loss ---------------------------------------------------------------------------------
def test_1_an_export_onto_the_archive_or_its_companions_is_refused_and_the_archive_kept(tmp_path):
    db = tmp_path / "data" / "archive.db"
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join(golden_lines(8)) + "\n", encoding="utf-8")
    assert run_cli("load", records, "--db", db).returncode == 0
    link = tmp_path / "innocent.jsonl"
    link.symlink_to(db)
    before = db.read_bytes()
    answers = [run_cli("export", "--output", target, "--force", "--db", db)
               for target in (db, f"{db}-wal", f"{db}-shm", link)]
    assert all(a.returncode == 2 and one_line_error(a) for a in answers)
    assert db.read_bytes() == before and check_archive(db)["articles"] == 8
    existing = tmp_path / "mine.csv"
    existing.write_text("notes\n", encoding="utf-8")
    kept = run_cli("export", "--format", "csv", "--output", existing, "--db", db)
    assert kept.returncode == 2 and existing.read_text(encoding="utf-8") == "notes\n"
    record("attacks", **{"1 export onto the archive, -wal, -shm, a link to it": "refused, exit 2; "
                         "archive byte for byte as before (8 articles)",
                         "1 export onto an existing file without --force": "refused, exit 2; file kept"})


# -- 2. hangs -------------------------------------------------------------------------------------
def drip(data: bytes, every: float = 0.1, seconds: float = 120, started=None):
    """An answer sent a byte at a time, for up to `seconds`, until the client hangs up
    (`started`, a threading.Event, is set when it begins)."""
    def answer(handler):
        if started is not None:
            started.set()
        ends = time.monotonic() + seconds
        try:
            for byte in data:
                if time.monotonic() > ends:
                    break
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(every)
        except OSError:  # the client gave up: the point
            pass
        handler.close_connection = True
        return 200
    return answer


def test_2_a_server_dripping_its_headers_or_body_is_cut_at_the_page_deadline(tmp_path):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"x" * 2000 + b"\r\n\r\n"
    body_head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
                 + b"<html><body>" + b"y" * 99_988)
    outcomes = {}
    for name, answer in (("headers", head), ("body", body_head)):
        with FaultServer({"/robots.txt": Page(b"", "text/plain")}) as server:
            server.specials["/start"] = drip(answer)
            db = tmp_path / name / "archive.db"
            db.parent.mkdir()
            result, seconds = crawl(server, db, "/start", "--page-timeout", "3", "--timeout", "2")
        assert result.returncode == 1, result.stderr  # a transient failure, retried next run
        assert seconds < 25, f"a dripping {name} held the crawl {seconds:.0f} s"
        outcomes[f"2 server drips its {name} a byte each 0.1 s (--page-timeout 3)"] = \
            f"crawl gave up after {seconds:.1f} s (process included), exit 1, page pending"
    record("attacks", **outcomes)


def test_2_ctrl_c_stops_a_crawl_inside_a_dripping_fetch_at_once(tmp_path):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Slow: z\r\n" * 500 + b"\r\n"
    dripping = threading.Event()
    with FaultServer({"/robots.txt": Page(b"", "text/plain")}) as server:
        server.specials["/start"] = drip(head, started=dripping)
        db = tmp_path / "archive.db"
        process = subprocess.Popen([*CLI, "crawl", server.url("/start"), "--db", str(db), "--no-warc",
                                    "--delay", "0", "--retries", "0", "--quiet"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert dripping.wait(30), "the crawl never asked for the page"
        time.sleep(0.5)  # well inside the dripping answer
        began = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        seconds = time.monotonic() - began
    assert process.returncode == 130 and "Traceback" not in stderr
    assert seconds < 5
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT state FROM crawl_queue WHERE url LIKE '%/start'").fetchone() == ("pending",)
    record("attacks", **{"2 Ctrl-C during a dripping fetch": f"exit 130 after {seconds:.2f} s; "
                         "the page stays pending for the next run"})


# -- 3. a crash repeated on every run ----------------------------------------------------------------
def raw_answer(status_line: bytes, headers: list[bytes], body: bytes = b""):
    def answer(handler):
        handler.wfile.write(status_line + b"\r\n" + b"".join(h + b"\r\n" for h in headers)
                            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return int(status_line.split()[1])
    return answer


def test_3_non_ascii_urls_reason_phrases_and_locations_are_recorded_not_crashed_on(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    pages = {"/robots.txt": Page(b"", "text/plain"),
             "/start": hub("/articles/6-café", "/articles/8-moved", "/articles/9-odd-reason"),
             "/articles/6-caf%C3%A9": Page(ARTICLE_HTML),
             "/articles/7-na%C3%AFve": Page(SECOND_HTML)}
    with FaultServer(pages) as server:
        server.specials["/articles/8-moved"] = raw_answer(
            b"HTTP/1.1 301 D\xc3\xa9plac\xc3\xa9", [b"Location: /articles/7-na\xc3\xafve"])
        server.specials["/articles/9-odd-reason"] = raw_answer(
            b"HTTP/1.1 200 Sch\xc3\xb6n \xff", [b"Content-Type: text/html; charset=utf-8",
                                                b"X-Note: caf\xc3\xa9 \xfe"], THIRD_HTML)
        db = tmp_path / "archive.db"
        runs = [crawl(server, db)[0] for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    warcs = sorted((tmp_path / "warc").glob("*.warc.gz"))
    targets = []
    for path in warcs:
        checked = subprocess.run([str(Path(CLI[0]).parent / "warcio"), "check", str(path)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with open(path, "rb") as stream:
            targets += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                        if r.rec_type == "response"]
    assert all(target.isascii() for target in targets if target)
    assert any("6-caf%C3%A9" in t for t in targets) and any("7-na%C3%AFve" in t for t in targets)
    check_archive(db)
    record("attacks", **{"3 link /articles/6-café, UTF-8 reason phrase and Location": (
        f"2 runs exit 0; {len(warcs)} WARC files pass `warcio check`; IRIs percent-encoded")})


# -- 4. load that crashes or mangles ----------------------------------------------------------------
BAD_RECORDS = {
    "title as a list": {"title": ["a"]},
    "body as a number": {"body": 7},
    "author name a number": {"authors": [{"name": 5, "credentials": []}]},
    "authors not a list": {"authors": "Ana Writer"},
    "keywords a string": {"keywords": "ketamine"},
    "id of 10**30": {"article_id": 10 ** 30},
    "impossible date": {"published": "2021-99-99"},
    "February 30": {"published": "2021-02-30"},
    "citation a string": {"citation": "Smith 2020"},
    "issue contents not a list": {"issue": {"date": "2021-03-01", "articles": "x"}},
    "paywalled a string": {"paywalled": "yes"},
    "a javascript: URL": {"url": "javascript:alert(1)", "canonical_url": None},
}


def test_4_load_reports_each_bad_record_by_line_and_loads_the_good_ones(tmp_path):
    good = golden_lines(6)
    lines: list[bytes] = []
    for number, (name, change) in enumerate(BAD_RECORDS.items()):
        lines.append(good[number % len(good)].encode())
        lines.append(json.dumps({**json.loads(good[0]), **change, "title": change.get("title", name)},
                                ensure_ascii=False).encode())
    lines += [b'{"title": "lone \\ud800 surrogate", "url": "https://x.example/a", "body": "b"}',
              "{\"title\": \"bad UTF-8 \xff\"}".encode("latin-1"), b"not JSON at all", b"[1, 2, 3]"]
    bad_count = len(BAD_RECORDS) + 4
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "archive.db"
    result = run_cli("load", source, "--db", db)
    reported = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(reported) == bad_count, result.stderr
    assert all(f"{source}:" in line for line in reported)
    assert articles_in(db) == len({line for line in good})  # each good record once
    record("attacks", **{f"4 load of {bad_count} kinds of bad record between good ones": (
        f"each reported on one line with its number, {articles_in(db)} good ones loaded, exit 1, "
        "0 tracebacks")})


def test_4_ctrl_c_during_a_load_exits_130_and_loads_nothing(tmp_path):
    base = json.loads(golden_lines(1)[0])
    many = tmp_path / "many.jsonl"
    with open(many, "w", encoding="utf-8") as out:
        for number in range(30_000):
            url = f"https://www.thecarlatreport.com/articles/{500_000 + number}-copy"
            out.write(json.dumps({**base, "url": url, "canonical_url": url, "article_id": 500_000 + number,
                                  "title": f"{base['title']} {number}"}) + "\n")
    db = tmp_path / "archive.db"
    assert run_cli("load", tmp_path / "nothing.jsonl", "--db", db).returncode == 2  # missing: refused
    seed = tmp_path / "seed.jsonl"
    seed.write_text(golden_lines(3)[2] + "\n", encoding="utf-8")
    assert run_cli("load", seed, "--db", db).returncode == 0
    process = subprocess.Popen([*CLI, "load", str(many), "--db", str(db)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: write_locked(db), 60), "never caught the load inside its transaction"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr
    assert articles_in(db) == 1 and check_archive(db)["articles"] == 1
    record("attacks", **{"4 Ctrl-C inside a 30,000-record load": "exit 130; the load rolled back whole"})


# -- 5. robots.txt ---------------------------------------------------------------------------------
def test_5_a_robots_txt_over_500_kb_still_applies_its_beginning(tmp_path):
    robots = b"User-agent: *\nDisallow: /\n" + b"# padding\n" * 70_000  # ~700 KB
    pages = {"/robots.txt": Page(robots, "text/plain"), "/start": hub("/articles/1-a", "/articles/2-b"),
             "/articles/1-a": Page(ARTICLE_HTML), "/articles/2-b": Page(SECOND_HTML)}
    with FaultServer(pages) as server:
        result, _ = crawl(server, tmp_path / "archive.db")
        asked = sorted({hit.path for hit in server.hits} - {"/robots.txt"})
    assert asked == [] and result.returncode == 0, (asked, result.stderr)
    record("attacks", **{f"5 robots.txt of {len(robots) // 1024} KiB beginning `Disallow: /`":
                         "its first 500 KiB apply: 0 pages requested"})


# -- 6. secrets on stderr, cookies for odd domains -------------------------------------------------
def test_6_cookies_malformed_quote_nothing_and_odd_domains_get_none(tmp_path):
    pages = {"/robots.txt": Page(b"", "text/plain"), "/start": hub("/articles/1-a"),
             "/articles/1-a": Page(ARTICLE_HTML)}
    malformed = tmp_path / "bad-cookies.txt"
    malformed.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\tsoon\tsession\t{COOKIE_VALUE}\n"
                         f"127.0.0.1\tFALSE\t/\t{COOKIE_VALUE}\n", encoding="utf-8")
    odd = tmp_path / "cookies.txt"
    odd.write_text("".join(f"{domain}\tTRUE\t/\tFALSE\t0\todd{n}\t{COOKIE_VALUE}\n"
                           for n, domain in enumerate([".1", ".0.0.1", "", ".com"]))
                   + "127.0.0.1\tFALSE\t/\tFALSE\t0\tmine\tfor-this-host\n", encoding="utf-8")
    with FaultServer(pages) as server:
        refused, _ = crawl(server, tmp_path / "a" / "archive.db", "/start", "--cookies", malformed)
        sent, _ = crawl(server, tmp_path / "b" / "archive.db", "/start", "--cookies", odd)
        cookie_headers = {hit.headers.get("Cookie") for hit in server.hits if hit.path != "/robots.txt"}
    assert refused.returncode == 2 and one_line_error(refused)
    assert COOKIE_VALUE not in refused.stderr + refused.stdout
    assert sent.returncode == 0 and cookie_headers == {"mine=for-this-host"}, cookie_headers
    record("attacks", **{
        "6 malformed cookies.txt (bad expiry, wrong field count)": "one error line naming the line, "
        "no value quoted, exit 2",
        "6 cookies for .1, .0.0.1, an empty domain, .com": "none sent to 127.0.0.1; the host's own sent"})


# -- 7. credentials in links ------------------------------------------------------------------------
def test_7_links_with_credentials_are_never_followed(tmp_path):
    pages = {"/robots.txt": Page(b"", "text/plain"), "/articles/1-a": Page(ARTICLE_HTML)}
    with FaultServer(pages) as server:
        host = server.base_url.split("://", 1)[1]
        pages["/start"] = hub(f"http://user:{PASSWORD}@{host}/articles/1-a")
        db = tmp_path / "archive.db"
        result, _ = crawl(server, db)
        authorized = [hit for hit in server.hits if "Authorization" in hit.headers]
    assert result.returncode == 0 and authorized == []
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert PASSWORD.encode() not in written
    record("attacks", **{"7 a link http://user:pw@host/...": "not followed; no Authorization sent; "
                         "the password in no file"})


# -- 8. the lock -----------------------------------------------------------------------------------
def test_8_a_lock_file_planted_as_a_symlink_is_refused_and_its_target_kept(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("somebody's work\n", encoding="utf-8")
    db = tmp_path / "archive.db"
    Path(f"{db}.lock").symlink_to(precious)
    with FaultServer({"/robots.txt": Page(b"", "text/plain"), "/start": hub()}) as server:
        result, _ = crawl(server, db)
    assert result.returncode == 2 and one_line_error(result)
    assert precious.read_text(encoding="utf-8") == "somebody's work\n"
    record("attacks", **{"8 archive.db.lock -> somebody's file": "refused, exit 2; the file untouched"})


# -- 9. exit statuses cron can trust ------------------------------------------------------------------
def test_9_final_answers_are_recorded_once_and_every_run_exits_0(tmp_path):
    pages = {"/robots.txt": Page(b"", "text/plain"),
             "/start": hub("/loop-a", "/away", "/articles/3-gone", "/articles/4-empty",
                           "/articles/5-pdf", "/articles/6-zero\u200bwidth", "/articles/1-a"),
             "/articles/1-a": Page(ARTICLE_HTML), "/articles/4-empty": Page(b""),
             "/articles/5-pdf": Page(pdf_page(), "application/pdf")}
    with FaultServer(pages) as server:
        server.specials["/loop-a"] = redirect_to("/loop-b")
        server.specials["/loop-b"] = redirect_to("/loop-a")
        server.specials["/away"] = redirect_to("http://elsewhere.invalid/x")
        db = tmp_path / "archive.db"
        first, _ = crawl(server, db)
        asked_first = len(server.hits)
        second, _ = crawl(server, db)
        asked_again = {hit.path for hit in server.hits[asked_first:]} - {"/robots.txt", "/start"}
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert asked_again <= {"/articles/1-a"}, asked_again  # only the article is re-checked
    with sqlite3.connect(db) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM crawl_queue GROUP BY state").fetchall())
    assert states.get("failed", 0) == 0 and states.get("skipped", 0) + states.get("gone", 0) >= 5
    record("attacks", **{"9 redirect loop, off-scope redirect, 404, empty 200, PDF, zero-width link": (
        f"final answers: recorded once ({states.get('gone', 0)} gone, {states.get('skipped', 0)} "
        "skipped), not asked again, both runs exit 0")})


def test_9_deleting_the_archive_during_a_crawl_is_noticed(tmp_path):
    pages = {"/robots.txt": Page(b"", "text/plain")}
    links = [f"/articles/{n}-copy" for n in range(40)]
    pages.update({link: Page(ARTICLE_HTML.replace(b"1843", str(2000 + n).encode()))
                  for n, link in enumerate(links)})
    pages["/start"] = hub(*links)
    db = tmp_path / "archive.db"
    with FaultServer(pages, latency=0.05) as server:
        process = subprocess.Popen([*CLI, "crawl", server.url("/start"), "--db", str(db), "--no-warc",
                                    "--delay", "0", "--concurrency", "1", "--quiet"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: len(server.hits) > 5, 60)
        os.remove(db)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 74 and "Traceback" not in stderr
    record("attacks", **{"9 the archive deleted during a crawl": "noticed: one error line, exit 74"})
