"""The crawl end to end against a real local server (archiver.mirror.SiteServer) serving the fixture
article pages behind listing and issue pages, into a real SQLite archive in tmp_path."""

from __future__ import annotations

import json
from collections import Counter
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.archive import Archive
from archiver.config import CrawlConfig
from archiver.crawl import Report, coverage_alarms, crawl, crawl_lock
from archiver.mirror import Page, SiteServer
from archiver.errors import ArchiveLocked, ArchiverError
from archiver.fetch import HostPacer
from archiver.profile import get_profile
from archiver.record import Article

PAGES = Path(__file__).parent / "fixtures" / "pages"
ARTICLE_PATH = re.compile(r"^/articles/\d+")
MISSING = "/newsletters/no-such-newsletter"  # linked, answers 404
COOKIE_VALUE = "planted-cookie-value-7731"


def fixture_articles() -> dict[str, tuple[bytes, dict]]:
    """path -> (html, expected record) for every fixture article page with a URL."""
    articles = {}
    for meta_path in sorted(PAGES.glob("*.meta.json")):
        meta = json.loads(meta_path.read_text())
        expected = json.loads(meta_path.with_name(meta_path.name.replace(".meta.", ".expected.")).read_text())
        path = re.sub(r"^https?://[^/]+", "", meta.get("url") or "")
        if "error" in expected or not ARTICLE_PATH.match(path):
            continue
        html = meta_path.with_name(meta_path.name.replace(".meta.json", ".html")).read_bytes()
        articles[path] = (html, expected)
    return articles


def links_page(title: str, paths: list[str]) -> Page:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return Page(f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
                f"<ul>{items}</ul></body></html>".encode())


def build_site(off_scope_url: str) -> tuple[dict[str, Page], dict[str, dict]]:
    """A listing with pagination, an issue page, the fixture articles; every page they link to
    that the crawler follows exists, except nothing (so a clean crawl has no failures)."""
    articles = fixture_articles()
    paths = sorted(articles)
    pages = {path: Page(html) for path, (html, _) in articles.items()}
    pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /articles/9999\n", "text/plain")
    pages["/newsletters/general-psychiatry"] = links_page("General Psychiatry", [
        "/newsletter-issue/tcprv19n3", "/newsletters/general-psychiatry?page=1", "/store/books",
        off_scope_url, "/articles/9999-disallowed-by-robots#top", MISSING])
    pages["/newsletters/general-psychiatry?page=1"] = links_page("General Psychiatry, page 2", paths[:3])
    pages["/newsletter-issue/tcprv19n3"] = links_page("Issue", paths[3:])
    # Every other listing / issue page the fixture articles link to, so no link is dangling.
    linked = set()
    for html, _ in articles.values():
        linked |= set(re.findall(rb'href="(/newsletter(?:s|-issue)/[^"?#]+)"', html))
    for path in sorted(p.decode() for p in linked):
        pages.setdefault(path, links_page(path, []))
    linked_articles = set()
    for html, _ in articles.values():
        linked_articles |= {p.decode() for p in re.findall(rb'href="(/articles/\d+[^"?#]*)"', html)}
    for path in sorted(linked_articles - set(pages)):
        pages[path] = Page(b"<html><body>gone</body></html>", status=410)
    # The site's other pages that a crawl follows (its home page, FAQs, categories...): plain
    # pages with no links, so that only MISSING and the 410s answer "not found".
    profile = get_profile("carlat")
    for html, _ in articles.values():
        for href in re.findall(rb'href="(/[^"#]*)"', html):
            path = href.decode().replace("&amp;", "&")
            if path not in pages and not profile.denies(path) and not path.startswith("/articles/"):
                pages[path] = links_page(path, [])
    pages["/rss/articles"] = Page(b'<?xml version="1.0"?><rss version="2.0"><channel><title>New</title>'
                                  b"</channel></rss>", "application/rss+xml")
    return pages, {path: expected for path, (_, expected) in articles.items()}


@pytest.fixture
def site():
    with SiteServer({}) as other:
        pages, expected = build_site(other.url("/articles/1-elsewhere"))
        with SiteServer(pages) as server:
            server.expected = expected
            server.other = other
            yield server


def config(tmp_path, **settings) -> CrawlConfig:
    base = dict(delay=0, jitter=0, concurrency=3, retries=1, backoff=0.01, timeout=5,
                db=str(tmp_path / "archive.db"), warc_dir=str(tmp_path / "warc"))
    return CrawlConfig(**{**base, **settings})


def run(site, tmp_path, **settings) -> Report:
    cfg = config(tmp_path, **settings)
    with Archive(cfg.db) as archive:
        return crawl([site.url("/newsletters/general-psychiatry")], archive, cfg)


def archived(tmp_path) -> dict[str, dict]:
    with Archive(tmp_path / "archive.db") as archive:
        return {a.canonical_url: a.to_dict() for a in archive.iter_articles()}


def query(tmp_path, sql):
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute(sql).fetchall()


def article_paths(site) -> list[str]:
    return [p for p in site.paths() if ARTICLE_PATH.match(p)]


def test_first_crawl_archives_every_article_politely_and_in_scope(site, tmp_path):
    report = run(site, tmp_path)
    expected = site.expected
    stored = archived(tmp_path)
    assert report.new == len(expected) == len(stored)
    assert sorted(r["title"] for r in stored.values()) == sorted(r["title"] for r in expected.values())
    # Pages that answer 404 or 410 are final answers, not failures: their own report line, a
    # row that says so, exit status 0.
    gone = {site.url(p) for p, page in site.pages.items() if page.status == 410} | {site.url(MISSING)}
    assert (report.failed, report.failures) == (0, [])
    assert report.gone == len(gone) and {url for url, _ in report.gone_pages} == gone
    assert dict(report.gone_pages)[site.url(MISSING)] == "HTTP 404"
    assert query(tmp_path, f"SELECT state, reason, last_status FROM crawl_queue WHERE url = '{site.url(MISSING)}'") \
        == [("gone", "HTTP 404", 404)]
    assert f"  gone            {len(gone)} " in report.format()
    assert f"    {site.url(MISSING)}: HTTP 404" in report.format()
    # Scope and robots: nothing off-scope, nothing disallowed, nothing the profile does not follow.
    assert site.other.hits == []
    assert "/articles/9999-disallowed-by-robots" not in site.paths()
    assert "/store/books" not in site.paths()
    assert report.blocked == 1
    # Each page exactly once; robots.txt first.
    assert site.paths()[0] == "/robots.txt"
    assert len(site.paths()) == len(set(site.paths()))
    assert report.articles_parsed == len(expected)
    assert report.coverage()["title"] == 1.0
    # + robots.txt, kept so the next run asks for it conditionally.
    assert query(tmp_path, "SELECT count(*) FROM captures")[0][0] == report.fetched + 1


def test_second_crawl_is_all_not_modified_and_writes_nothing(site, tmp_path):
    first = run(site, tmp_path)
    captures = query(tmp_path, "SELECT count(*) FROM captures")[0][0]
    site.hits.clear()
    second = run(site, tmp_path)
    # Every page asked again answers 304; the gone ones are not asked (recheck_gone_days).
    assert second.not_modified == first.fetched - first.gone
    assert (second.fetched, second.new, second.changed, second.gone) == (0, 0, 0, 0)
    assert query(tmp_path, "SELECT count(*) FROM captures")[0][0] == captures
    for hit in site.hits:
        if hit.path != "/robots.txt":
            assert hit.headers.get("If-None-Match"), hit.path
            assert hit.status == 304
    assert second.bytes_received < first.bytes_received / 10
    assert "not modified    " + str(second.not_modified) in second.format()


def test_changed_article_is_stored_as_a_new_version(site, tmp_path):
    run(site, tmp_path)
    path = next(p for p in site.expected if p != "/articles/1866-augmenting-ssris-with-pramipexole-a-closer-look")
    original = site.pages[path].body
    site.pages[path] = Page(original.replace(b"</p>", b" An added sentence.</p>", 1))
    assert site.pages[path].body != original
    report = run(site, tmp_path)
    assert (report.changed, report.new, report.fetched - report.failed) == (1, 0, 1)
    assert query(tmp_path, "SELECT count(*) FROM article_versions")[0][0] == 1


def test_failures_are_reported_and_retried_next_run(site, tmp_path):
    path = sorted(site.expected)[0]
    good = site.pages[path]
    site.pages[path] = Page(b"overloaded", status=503, headers=(("Retry-After", "0"),))
    report = run(site, tmp_path, retries=2)
    assert [path in url for url, _ in report.failures].count(True) == 1
    reason = next(r for url, r in report.failures if url.endswith(path))
    assert reason == "HTTP 503 (after 3 attempts)"
    assert query(tmp_path, f"SELECT state, attempts FROM crawl_queue WHERE url LIKE '%{path}'") == [("failed", 1)]
    site.pages[path] = good
    report = run(site, tmp_path)
    assert report.new == 1
    assert len(archived(tmp_path)) == len(site.expected)


def test_max_pages_stops_and_the_next_run_continues(site, tmp_path):
    first = run(site, tmp_path, max_pages=4)
    assert first.requests == 4
    assert len(archived(tmp_path)) < len(site.expected)
    run(site, tmp_path)
    assert len(archived(tmp_path)) == len(site.expected)


def crawl_command(site, tmp_path, *extra):
    return [sys.executable, "-c", "from archiver.cli import main; main()", "crawl",
            site.url("/newsletters/general-psychiatry"), "--db", str(tmp_path / "archive.db"),
            "--warc-dir", str(tmp_path / "warc"), "--retries", "1", "--backoff", "0.01", *extra]


def test_kill_9_mid_crawl_then_resume_loses_and_duplicates_nothing(site, tmp_path):
    process = subprocess.Popen(crawl_command(site, tmp_path, "--delay", "0.1", "--concurrency", "1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while len(article_paths(site)) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_after = len(article_paths(site))
    assert 4 <= killed_after < len(site.expected)
    before = len(archived(tmp_path))
    assert 0 < before < len(site.expected)
    result = subprocess.run(crawl_command(site, tmp_path, "--delay", "0"), capture_output=True, text=True)
    assert "resumed after an interruption" in result.stdout
    stored = archived(tmp_path)
    assert len(stored) == len(site.expected)
    # Only the page in flight at the kill (if any) is fetched twice.
    assert len(article_paths(site)) - len(set(article_paths(site))) <= 1
    assert query(tmp_path, "PRAGMA integrity_check") == [("ok",)]
    assert query(tmp_path, "SELECT count(*) - count(DISTINCT canonical_url) FROM articles") == [(0,)]
    # Same result as an uninterrupted crawl.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    run(site, fresh)
    # Every field, the issue's table of contents included (the archive keeps the most complete
    # copy, whatever order the pages came in).
    uninterrupted, resumed = archived(fresh), stored
    assert uninterrupted.keys() == resumed.keys()
    differing = {(key, f) for key in uninterrupted for f in uninterrupted[key]
                 if uninterrupted[key][f] != resumed[key][f]}
    assert differing == set()


def test_a_second_crawl_on_the_same_archive_exits_75_at_once(site, tmp_path):
    db = tmp_path / "archive.db"
    with crawl_lock(db):
        started = time.monotonic()
        result = subprocess.run(crawl_command(site, tmp_path), capture_output=True, text=True)
        assert result.returncode == 75
        assert time.monotonic() - started < 10
        assert result.stderr.startswith("error: another crawl is running on")
        assert len(result.stderr.strip().splitlines()) == 1
        with Archive(db) as archive, pytest.raises(ArchiveLocked):
            crawl([site.url("/newsletters/general-psychiatry")], archive, config(tmp_path))
    assert site.hits == []
    assert run(site, tmp_path).new == len(site.expected)  # released: the next crawl runs


def test_cookies_reach_the_server_but_no_file_we_write(site, tmp_path):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f"# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tSESS\t{COOKIE_VALUE}\n")
    log = tmp_path / "crawl.log"
    result = subprocess.run(crawl_command(site, tmp_path, "--cookies", str(cookies), "--log", str(log),
                                          "--delay", "0"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # the 410 pages are gone: no failure
    assert all(COOKIE_VALUE in hit.headers.get("Cookie", "") for hit in site.hits)
    outputs = [result.stdout, result.stderr, log.read_text()]
    assert log.read_text().count(" 200 ") >= len(site.expected)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != cookies]
    assert any(p.suffix == ".gz" for p in written)
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".gz":
            import gzip
            data = gzip.decompress(data)
        assert COOKIE_VALUE.encode() not in data, path
    assert all(COOKIE_VALUE not in text for text in outputs)


def test_warc_holds_a_request_and_response_for_every_download(site, tmp_path):
    report = run(site, tmp_path)
    uris = []
    for path in sorted((tmp_path / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            uris += [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream)
                     if r.rec_type == "response"]
    assert len(uris) == report.fetched + 1  # + robots.txt
    files = sorted((tmp_path / "warc").iterdir())
    site.pages["/newsletters/general-psychiatry"] = links_page("Changed listing", [])
    assert run(site, tmp_path, warc=False).fetched == 1
    assert sorted((tmp_path / "warc").iterdir()) == files


def test_coverage_alarm_when_a_field_disappears(site, tmp_path):
    run(site, tmp_path)
    for path in site.expected:
        html = site.pages[path].body
        html = re.sub(rb'<a[^>]*href="/keywords/[^"]*"[^>]*>.*?</a>', b"", html, flags=re.S)
        html = re.sub(rb'<meta[^>]*name="keywords"[^>]*>', b"", html)
        site.pages[path] = Page(html)
    result = subprocess.run(crawl_command(site, tmp_path, "--delay", "0"), capture_output=True, text=True)
    assert result.returncode == 3, result.stdout + result.stderr
    assert re.search(r"ALARM: keywords found in \d+% of articles, usually 9\d%", result.stdout)
    assert result.stderr.startswith("error: field coverage fell: keywords")
    alarm = query(tmp_path, "SELECT alarm FROM crawl_runs ORDER BY id DESC LIMIT 1")[0][0]
    assert alarm.startswith("keywords")


def test_coverage_alarm_needs_history_and_enough_articles():
    cfg = CrawlConfig(coverage_drop=0.3, coverage_min_articles=2)
    good, bad = Report(), Report()
    for _ in range(4):
        good.count_article(Article(title="T", keywords=["k"], body="b"))
        bad.count_article(Article(title="T", body="b"))
    assert coverage_alarms(bad, [], cfg) == []
    alarms = coverage_alarms(bad, [good.to_dict()], cfg)
    assert len(alarms) == 1 and alarms[0].startswith("keywords found in 0% of articles, usually 100%")
    few = Report()
    few.count_article(Article(title="T"))
    assert coverage_alarms(few, [good.to_dict()], cfg) == []


def test_bad_usage_is_one_line_and_exit_2(tmp_path):
    base = [sys.executable, "-c", "from archiver.cli import main; main()", "crawl", "--db", str(tmp_path / "a.db")]
    bad_config = tmp_path / "archiver.toml"
    bad_config.write_text("delya = 1\n")
    for extra, message in (
        (["ftp://example.org/x"], "not an http(s) URL"),
        (["--config", str(bad_config), "http://127.0.0.1:9/"], "unknown key 'delya'"),
        (["--concurrency", "0", "http://127.0.0.1:9/"], "concurrency must be at least 1"),
        (["--cookies", str(tmp_path / "none.txt"), "http://127.0.0.1:9/"], "no such cookies file"),
    ):
        result = subprocess.run(base + extra, capture_output=True, text=True)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(ArchiverError):
        crawl(["file:///etc/passwd"], None, CrawlConfig())


def test_rows_of_hosts_outside_this_crawls_scope_wait_untouched(site, tmp_path):
    run(site, tmp_path)
    with SiteServer(dict(site.pages)) as mirror:  # the same site on another port: another host
        cfg = config(tmp_path)
        with Archive(cfg.db) as archive:
            report = crawl([mirror.url("/newsletters/general-psychiatry")], archive, cfg)
        assert report.failed == 0 and report.gone == len([p for p in site.pages.values() if p.status == 410]) + 1
        assert all(hit.port == mirror.port for hit in mirror.hits)
    # Same canonical URLs: nothing new archived (a page without one is keyed by its URL).
    assert report.changed == 0 and report.new + report.unchanged == len(site.expected)
    local_keys = [key for key in archived(tmp_path) if key.startswith(site.base_url)]
    assert report.new == len(local_keys) < len(site.expected) / 2
    site.hits.clear()
    assert run(site, tmp_path).not_modified > 0
    assert not any(reason.startswith("out of scope") for _, reason in report.failures)


def test_only_html_is_parsed_and_other_types_are_kept_as_captures(site, tmp_path):
    paths = sorted(site.expected)
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 20
    site.pages[paths[0]] = Page(pdf, "text/html")  # a PDF that claims to be HTML
    site.pages[paths[1]] = Page(site.pages[paths[1]].body, "application/octet-stream")  # HTML, mislabelled
    site.pages[paths[2]] = Page(pdf, "application/pdf")
    site.pages[paths[3]] = Page(b"")  # an empty 200
    report = run(site, tmp_path)
    # Final answers, each with its reason in the report's "skipped" line; none is a failure.
    skipped = dict(report.skipped_pages)
    assert skipped[site.url(paths[0])] == "PDF document, not an HTML page"
    assert skipped[site.url(paths[2])] == "not HTML (application/pdf)"
    assert skipped[site.url(paths[3])] == "empty page"
    assert report.failures == [] and report.skipped == 3
    assert f"    {site.url(paths[2])}: not HTML (application/pdf)" in report.format()
    for path in (paths[0], paths[2], paths[3]):
        assert query(tmp_path, f"SELECT state FROM crawl_queue WHERE url = '{site.url(path)}'") == [("skipped",)]
    assert report.new == len(site.expected) - 3
    bodies = [row[0] for row in query(tmp_path, "SELECT size FROM capture_bodies")]
    assert len(pdf) in bodies  # kept raw all the same


def test_a_page_the_archive_refuses_is_rolled_back_and_reported_not_fatal(site, tmp_path):
    with Archive(tmp_path / "archive.db") as archive:  # a constraint that refuses one article
        archive.db.execute("CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title LIKE '%Ketamine%' "
                           "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
    report = run(site, tmp_path)
    refused = [(url, reason) for url, reason in report.failures if "refused" in reason]
    assert len(refused) == 1 and "ketamine" in refused[0][0]
    assert refused[0][1] == "not stored: IntegrityError: refused by a test trigger"
    assert report.new == len(site.expected) - 1
    # The refused page left nothing behind but its failed queue row: no capture, no article.
    url = refused[0][0]
    assert query(tmp_path, f"SELECT count(*) FROM captures WHERE url = '{url}'") == [(0,)]
    assert query(tmp_path, f"SELECT state FROM crawl_queue WHERE url = '{url}'") == [("failed",)]


class SendLog(HostPacer):
    """The crawl's pacer, noting when each request's bytes start going out."""

    sent: list[float] = []

    @contextmanager
    def turn(self, host, delay):
        with super().turn(host, delay):
            SendLog.sent.append(self.clock())
            yield


def test_per_host_delay_holds_across_threads_in_a_crawl(site, tmp_path, monkeypatch):
    monkeypatch.setattr("archiver.fetch.HostPacer", SendLog)
    SendLog.sent = []
    delay = 0.03
    report = run(site, tmp_path, delay=delay, concurrency=4)
    assert report.requests > 20
    # What the crawler controls, its send times: exact, no tolerance.
    sends = SendLog.sent
    assert len(sends) == len(site.hits)
    assert min(b - a for a, b in zip(sends, sends[1:])) >= delay
    # What the server saw: its arrival times are noted by handler threads that must be scheduled
    # and win the GIL from the crawl's threads in this one process, so under load one request can
    # be noted late, shortening the gap after it by as much as it lengthens the one before. Lags
    # do not add up: the whole span is short by at most the first request's lag (allowed: a delay).
    times = [hit.at for hit in site.hits]
    assert times[-1] - times[0] >= (len(times) - 2) * delay


def test_robots_crawl_delay_raises_the_delay(site, tmp_path, monkeypatch):
    monkeypatch.setattr("archiver.fetch.HostPacer", SendLog)
    SendLog.sent = []
    site.pages["/robots.txt"] = Page(b"User-agent: *\nCrawl-delay: 0.05\nDisallow: /articles/9999\n", "text/plain")
    run(site, tmp_path, delay=0, concurrency=4, max_pages=8)
    sends = SendLog.sent
    assert len(sends) == len(site.hits)
    assert min(b - a for a, b in zip(sends, sends[1:])) >= 0.05
    # The server's view, with the tolerance explained in the test above.
    times = [hit.at for hit in site.hits]
    assert times[-1] - times[0] >= (len(times) - 2) * 0.05


def test_articles_are_rechecked_only_when_due(site, tmp_path):
    first = run(site, tmp_path, recheck_articles_days=1)
    site.hits.clear()
    second = run(site, tmp_path, recheck_articles_days=1)
    assert article_paths(site) == []  # checked less than a day ago: not asked again
    assert second.not_modified == len([p for p in site.paths() if p != "/robots.txt"]) > 0
    assert {hit.status for hit in site.hits if hit.path != "/robots.txt"} == {304}
    assert second.requests < first.requests


def test_quiet_prints_nothing_on_success(site, tmp_path):
    # A run where every page answers: the start listing, with no links to follow.
    site.pages["/newsletters/general-psychiatry"] = links_page("Empty listing", [])
    result = subprocess.run(crawl_command(site, tmp_path, "--quiet", "--delay", "0"),
                            capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert query(tmp_path, "SELECT count(*) FROM crawl_runs WHERE finished_at IS NOT NULL") == [(1,)]


def test_demo_runs_twice_offline_and_the_second_run_is_all_not_modified(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ARCHIVER_DEMO_PORT": str(port)}
    runs = [subprocess.run([sys.executable, "-m", "archiver.demo"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120) for _ in range(2)]
    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "$ archiver stats" in result.stdout and "$ archiver search" in result.stdout
    downloaded = int(re.search(r"downloaded\s+(\d+)", runs[0].stdout)[1])
    gone = int(re.search(r"gone\s+(\d+)", runs[0].stdout)[1])  # dangling links: asked again in 30 days
    assert downloaded > 10
    assert re.search(r"articles\s+(\d+) new", runs[0].stdout)[1] == "14"  # every article robots.txt allows
    assert re.search(r"not modified\s+(\d+)", runs[1].stdout)[1] == str(downloaded - gone)
    assert re.search(r"downloaded\s+(\d+)", runs[1].stdout)[1] == "0"
    assert (tmp_path / "data" / "archive.db").exists() and list((tmp_path / "data" / "warc").iterdir())


def test_random_5xx_and_429_still_archive_every_article(site, tmp_path):
    import random

    chance = random.Random(7)
    injected = []
    in_a_row = Counter()
    retries = 4

    def fault(path):
        # At most `retries` faults in a row per page: the crawl promises to ride those out within
        # the run (more is a failure retried next run, tested elsewhere). Without the cap, thread
        # timing decides which page draws which roll, and 0.3 ** 5 per page sometimes hit one.
        roll = chance.random()
        if in_a_row[path] < retries and roll < 0.3:
            in_a_row[path] += 1
            if roll < 0.2:
                injected.append(503)
                return Page(b"busy", status=503)
            injected.append(429)
            return Page(b"slow down", status=429, headers=(("Retry-After", "0"),))
        in_a_row[path] = 0
        return None

    site.fault = fault
    report = run(site, tmp_path, retries=retries, backoff=0.001)
    assert len(injected) > 10
    assert len(archived(tmp_path)) == len(site.expected)
    assert report.failures == []


def test_a_long_retry_after_pauses_the_host_until_a_later_run(site, tmp_path):
    site.fault = lambda path: Page(b"maintenance", status=503, headers=(("Retry-After", "7200"),)) \
        if path.startswith("/articles/") else None
    report = run(site, tmp_path, max_backoff=5)
    article_hits = article_paths(site)
    # The first answer paused the host: only the requests already in flight (concurrency 3).
    assert 1 <= len(article_hits) <= 3
    assert report.failed >= len(site.expected)
    waits = query(tmp_path, "SELECT DISTINCT next_try_at > datetime('now', '+1 hour') FROM crawl_queue "
                            "WHERE url LIKE '%/articles/%' AND state = 'failed' AND url NOT LIKE '%9999%'")
    assert waits == [(1,)]
    site.fault = None
    site.hits.clear()
    assert run(site, tmp_path).new == 0  # the next run respects next_try_at
    assert article_paths(site) == []


# -- the mirrors: three generations of the site, crawled with the default profile and settings --
MIRRORS = Path(__file__).parent / "fixtures" / "mirrors"
FIXTURE_SITE = Path(__file__).parent / "fixtures" / "site"


def mirror_expected(site_dir: Path, pages: dict[str, Page]) -> dict:
    """EXPECTED.json of a mirror; for the fixture mirror, its articles robots.txt allows."""
    if (site_dir / "EXPECTED.json").exists():
        return json.loads((site_dir / "EXPECTED.json").read_text(encoding="utf-8"))
    from protego import Protego

    rules = Protego.parse(pages["/robots.txt"].body.decode())
    articles = [p for p in pages if p.startswith("/articles/") and rules.can_fetch("http://x" + p, "archiver")]
    return {"articles": sorted(articles), "not_articles": ["/", "/sites/default/files/pdfs/TCPRV19N3.pdf"]}


def cli_crawl(server, tmp_path, *extra) -> subprocess.CompletedProcess:
    """`archiver crawl <home page>` with the default profile and settings (only the delay and
    the number of threads lowered, for speed)."""
    return subprocess.run([sys.executable, "-c", "from archiver.cli import main; main()", "crawl",
                           server.url("/"), "--db", str(tmp_path / "archive.db"), "--warc-dir",
                           str(tmp_path / "warc"), "--delay", "0", "--concurrency", "2", *extra],
                          capture_output=True, text=True, timeout=300)


def queue_rows(tmp_path) -> dict[str, tuple]:
    """path (+ ?query) -> (kind, state, reason) of every queue row."""
    rows = query(tmp_path, "SELECT url, kind, state, reason FROM crawl_queue")
    return {re.sub(r"^https?://[^/]+", "", url): tuple(rest) for url, *rest in rows}


def downloads(server) -> Counter:
    return Counter(hit.path for hit in server.hits if hit.status == 200 and hit.path != "/robots.txt")


@pytest.mark.parametrize("name", ["site", "current", "wordpress"])
def test_the_default_crawl_of_each_generation_finds_every_article_once(name, tmp_path):
    from archiver.mirror import mirror_pages

    site_dir = FIXTURE_SITE if name == "site" else MIRRORS / name
    pages = mirror_pages(site_dir)
    expected = mirror_expected(site_dir, pages)
    articles = set(expected["articles"])
    with SiteServer(pages) as server:
        first = cli_crawl(server, tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "failed          0" in first.stdout
        fetched = downloads(server)
        server.hits.clear()
        second = cli_crawl(server, tmp_path)
        again = [hit for hit in server.hits if hit.path != "/robots.txt"]
    # Every article URL fetched exactly once; no page downloaded twice.
    assert articles <= set(fetched)
    assert max(fetched.values()) == 1, [p for p, n in fetched.items() if n > 1]
    stored = {re.sub(r"^https?://[^/]+", "", url) for (url,) in query(tmp_path, "SELECT url FROM articles")}
    rows = queue_rows(tmp_path)
    assert stored == articles
    assert stored <= articles  # no page that is not an article: home, listings, FAQ, policy, podcast
    for path in expected["not_articles"]:
        assert path not in stored
    # Pages the profile keeps the crawl away from are never asked for.
    denied = [p for p in pages if get_profile("carlat").denies(p)]
    assert denied and not set(denied) & set(fetched)
    for path in expected.get("gone", []):
        assert rows[path][1] == "gone" and f"{path}: HTTP 404" in first.stdout
    if "only_in_feed" in expected:  # found through the feed the profile names (/rss/articles)
        assert expected["only_in_feed"] in stored
    if "only_in_sitemap" in expected:  # found through the sitemap robots.txt names
        assert rows[expected["only_in_sitemap"]][1] in ("done", "skipped")
        assert rows["/sitemap_index.xml"][:2] == ("feed", "done")
    for path in expected.get("beyond_the_hop_bound", []):
        assert path not in rows
    # The next run asks again only with validators, gets 304s, and exits 0.
    assert second.returncode == 0, second.stdout + second.stderr
    assert again and {hit.status for hit in again} == {304}
    assert re.search(r"downloaded\s+0\n", second.stdout)


@pytest.mark.parametrize("name", ["site", "current", "wordpress"])
def test_issue_pages_fill_the_issues_and_their_contents_link_to_the_archived_articles(name, tmp_path):
    # The mirror serves from 127.0.0.1; the pages' contents link the real site's host (or are
    # relative): an entry links to the archived article by its path on the site's hosts.
    from archiver.mirror import mirror_pages

    site_dir = FIXTURE_SITE if name == "site" else MIRRORS / name
    with SiteServer(mirror_pages(site_dir)) as server:
        assert cli_crawl(server, tmp_path).returncode == 0
    issue_pages = [url for (url,) in query(tmp_path, "SELECT url FROM crawl_queue WHERE kind = 'issue'")]
    issues = query(tmp_path, "SELECT title, url, date, volume, number FROM issues WHERE capture_id IS NOT NULL")
    assert issue_pages and len(issues) == len(issue_pages)
    assert all(title and url and date for title, url, date, _, _ in issues), issues
    entries = query(tmp_path, "SELECT issue_articles.url, issue_articles.article_id FROM issue_articles "
                              "JOIN issues ON issues.id = issue_id WHERE issues.capture_id IS NOT NULL")
    archived = {re.sub(r"^https?://[^/]+", "", url).rstrip("/"): id_ for id_, url in
                query(tmp_path, "SELECT id, canonical_url FROM articles")}
    listed = [(re.sub(r"^https?://[^/]+", "", url or "").rstrip("/"), id_) for url, id_ in entries]
    assert listed and all(id_ == archived.get(path) for path, id_ in listed if path in archived)
    assert sum(1 for path, id_ in listed if id_ is not None) >= len(listed) // 2


def renamed(pages: dict[str, Page], names: dict[str, str]) -> dict[str, Page]:
    """The same site under URLs no pattern of the profile knows."""
    def moved(text: str) -> str:
        for old, new in names.items():
            text = text.replace(old, new)
        return text

    result = {}
    for path, page in pages.items():
        headers = tuple((k, moved(v)) for k, v in page.headers)
        result[moved(path)] = Page(moved(page.body.decode("utf-8")).encode("utf-8"), page.content_type,
                                   page.status, headers)
    return result


def test_a_layout_no_url_pattern_knows_is_crawled_by_what_its_pages_hold(tmp_path):
    from archiver.mirror import mirror_pages

    site_dir = MIRRORS / "current"
    names = {"/articles/": "/read/", "/newsletters": "/journals", "/rss/articles": "/syndication/newest"}
    pages = renamed(mirror_pages(site_dir), names)
    expected = json.loads((site_dir / "EXPECTED.json").read_text())
    articles = {p.replace("/articles/", "/read/") for p in expected["articles"]}
    profile = get_profile("carlat")
    assert not any(profile.hint(p) for p in pages if p != "/")  # nothing is named by its URL
    with SiteServer(pages) as server:
        cfg = config(tmp_path, concurrency=2)
        with Archive(cfg.db) as archive:
            report = crawl([server.url("/")], archive, cfg)
        fetched = downloads(server)
    stored = {re.sub(r"^https?://[^/]+", "", url) for (url,) in query(tmp_path, "SELECT url FROM articles")}
    assert stored == articles  # the issue pages of "Read More" teasers are hubs, not articles
    assert max(fetched.values()) == 1
    rows = queue_rows(tmp_path)
    assert rows["/journals/1/issues/85"][:2] == ("issue", "done")  # a hub by its content
    assert rows["/syndication/newest"][:2] == ("feed", "done")  # announced by every page's <head>
    assert report.failed == 0


@pytest.mark.parametrize("hops, asked", [(0, []), (1, ["/faqs/technical"]),
                                         (2, ["/faqs/technical", "/faqs/technical/browsers"])])
def test_links_are_followed_through_at_most_max_other_hops_pages_that_are_neither(hops, asked, tmp_path):
    from archiver.mirror import mirror_pages

    with SiteServer(mirror_pages(MIRRORS / "current")) as server:
        cfg = config(tmp_path, concurrency=2, max_other_hops=hops)
        with Archive(cfg.db) as archive:
            crawl([server.url("/")], archive, cfg)
        paths = set(server.paths())
    # /faqs is linked from hubs and articles (fetched, neither); /faqs/technical only from it.
    assert "/faqs" in paths
    assert sorted(p for p in paths if p.startswith("/faqs/")) == asked
    assert queue_rows(tmp_path)["/faqs"][:2] == ("other", "done")


def test_permanent_fetch_errors_are_final_answers_asked_again_only_when_due(tmp_path):
    """Off-scope redirects, loops, too many hops, unusable URLs: recorded once with their reason,
    exit 0, not asked again on the next run (issue 15); asked again after recheck_gone_days."""
    with SiteServer({}) as other:
        hops = {f"/chain/{n}": Page(b"", status=302, headers=(("Location", f"/chain/{n + 1}"),)) for n in range(12)}
        pages = {
            "/robots.txt": Page(b"User-agent: *\n", "text/plain"),
            "/": links_page("Home", ["/away", "/loop/a", "/chain/0", "/zero\u200bwidth", "/newsletters/1"]),
            "/newsletters/1": links_page("Newsletter", []),
            "/away": Page(b"", status=301, headers=(("Location", other.url("/x")),)),
            "/loop/a": Page(b"", status=302, headers=(("Location", "/loop/b"),)),
            "/loop/b": Page(b"", status=302, headers=(("Location", "/loop/a"),)),
            **hops,
        }
        with SiteServer(pages) as server:
            first = cli_crawl(server, tmp_path)
            reasons = {url.removeprefix(server.base_url): reason for url, reason in
                       re.findall(r"^    (\S+): (.+)$", first.stdout, flags=re.M)}
            asked_first = len(server.hits)
            second = cli_crawl(server, tmp_path)
            asked_second = [hit.path for hit in server.hits[asked_first:]]
            third = cli_crawl(server, tmp_path, "--recheck-gone-days", "0")
            asked_third = [hit.path for hit in server.hits[asked_first + len(asked_second):]]
    assert first.returncode == 0, first.stdout + first.stderr
    assert reasons["/away"].startswith("redirect off scope")
    assert reasons["/loop/a"].startswith("redirect loop")
    assert reasons["/chain/0"] == "more than 10 redirects"
    assert reasons["/zero\u200bwidth"].startswith("invalid URL")
    assert re.search(r"skipped\s+4 ", first.stdout) and re.search(r"failed\s+0 ", first.stdout)
    rows = queue_rows(tmp_path)
    assert {rows[p][1] for p in ("/away", "/loop/a", "/chain/0", "/zero\u200bwidth")} == {"skipped"}
    assert second.returncode == 0 and not {"/away", "/loop/a", "/chain/0"} & set(asked_second)
    assert third.returncode == 0 and {"/away", "/loop/a", "/chain/0"} <= set(asked_third)


def test_deleting_the_archive_during_a_crawl_stops_it_with_one_line_and_exit_74(site, tmp_path):
    db = tmp_path / "archive.db"
    process = subprocess.Popen(crawl_command(site, tmp_path, "--delay", "0.1", "--concurrency", "1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while len(article_paths(site)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    for path in tmp_path.glob("archive.db*"):
        if path.suffix != ".lock":
            path.unlink()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 74, out + err
    assert err.startswith("error: ") and "was deleted or replaced during the crawl" in err
    assert len(err.strip().splitlines()) == 1
    assert not db.exists()  # nothing wrote a new, empty archive in its place
    assert len(article_paths(site)) < len(site.expected)  # it stopped


def redirect(location: str, status: int = 301) -> Page:
    return Page(b"", status=status, headers=(("Location", location),))


def test_one_get_per_page_whatever_url_names_it(tmp_path):
    """A redirect to a page fetched already is not followed; an article's bare-id URL and its full
    URL are one row; a page's canonical URL is its URL too; a permanent redirect's target is the
    row the next run asks at once."""
    (full, (html, _)), (other_full, (other_html, _)) = sorted(fixture_articles().items())[:2]
    bare = re.match(r"/articles/\d+", full).group()
    wp = "/the-carlat-psychiatry-report/a-previous-era-article/"
    pages = {
        "/robots.txt": Page(b"User-agent: *\n", "text/plain"),
        "/newsletters/1": links_page("Newsletter", [full, bare, wp, wp.rstrip("/"), "/old-name"]),
        full: Page(html), bare: redirect(full),
        # no id in its URL: the canonical URL and the redirect without a slash are one page
        wp: Page(other_html.replace(b'rel="canonical" href="', b'rel="canonical" href="' + wp.encode() + b'" data-x="')),
        wp.rstrip("/"): redirect(wp),
        "/old-name": redirect(other_full), other_full: Page(other_html),
    }
    with SiteServer(pages) as server:
        cfg = config(tmp_path, concurrency=1)
        with Archive(cfg.db) as archive:
            report = crawl([server.url("/newsletters/1")], archive, cfg)
        first = server.paths()
        server.hits.clear()
        with Archive(cfg.db) as archive:
            crawl([server.url("/newsletters/1")], archive, cfg)
        second = server.paths()
    assert max(downloads_of(first).values()) == 1
    assert bare not in first  # the same article key as `full`: one queue row, never asked
    rows = queue_rows(tmp_path)
    assert bare not in rows
    # Each redirect asked once; its target downloaded once (followed if not fetched yet, else not).
    assert first.count(wp.rstrip("/")) == first.count("/old-name") == 1
    assert rows[wp.rstrip("/")][1] == rows["/old-name"][1] == "alias"
    assert rows[other_full][:2] == ("article", "done") and rows[wp][:2] == ("article", "done")
    assert report.failed == 0 and report.new == 3
    # The next run asks each page once, by its own URL: no redirect is asked again.
    assert "/old-name" not in second and wp.rstrip("/") not in second and bare not in second
    assert sorted(p for p in second if p != "/robots.txt") == sorted(["/newsletters/1", full, wp, other_full])


def downloads_of(paths: list[str]) -> Counter:
    return Counter(p for p in paths if p != "/robots.txt")


def test_an_old_queue_table_gains_the_new_columns_and_its_rows_keep_working(site, tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db):
        pass
    url = site.url("/newsletters/general-psychiatry")
    with sqlite3.connect(db) as conn:  # the crawl_queue of archives written before this change
        conn.execute("CREATE TABLE crawl_queue (url TEXT PRIMARY KEY, host TEXT, kind TEXT NOT NULL, "
                     "state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER DEFAULT 0, next_try_at TEXT, "
                     "reason TEXT, etag TEXT, last_modified TEXT, discovered_from TEXT, first_seen_at TEXT, "
                     "last_checked_at TEXT, last_changed_at TEXT, last_status INTEGER, run_id INTEGER)")
        conn.execute("INSERT INTO crawl_queue (url, host, kind, state) VALUES (?, ?, 'listing', 'pending')",
                     [url, f"127.0.0.1:{site.port}"])
        article = site.url(sorted(site.expected)[0])
        conn.execute("INSERT INTO crawl_queue (url, host, kind, state) VALUES (?, ?, 'article', 'failed')",
                     [article, f"127.0.0.1:{site.port}"])
    report = run(site, tmp_path)
    assert report.new == len(site.expected)
    columns = {row[1] for row in query(tmp_path, "PRAGMA table_info(crawl_queue)")}
    assert {"canonical_url", "article_key", "hops"} <= columns
    key = query(tmp_path, f"SELECT article_key FROM crawl_queue WHERE url = '{article}'")[0][0]
    assert key == f"127.0.0.1:{site.port}" + re.match(r"/articles/\d+", sorted(site.expected)[0]).group()
