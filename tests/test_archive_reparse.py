"""Reparse: stored captures of the fixture pages -> the real parser (on worker processes) -> store."""

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.archive import Archive
from archiver.cli import main
from archiver.errors import NotAnArticle
from archiver.parse import parse_capture
from archiver.record import Capture

PAGES = Path(__file__).parent / "fixtures" / "pages"


def fixture_captures() -> list[Capture]:
    """Every fixture page as the crawler would have captured it (URL and headers from meta)."""
    captures = []
    for html in sorted(PAGES.glob("*.html")):
        meta_path = html.with_name(html.name.replace(".html", ".meta.json"))
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        url = meta.get("url") or f"https://www.thecarlatreport.com/articles/{abs(hash(html.name)) % 10**6}-x"
        headers = meta.get("headers") or {"content-type": "text/html; charset=utf-8"}
        captures.append(Capture(url, 200, headers, html.read_bytes(), "2026-11-01T00:00:00Z"))
    return captures


def expected_articles(captures):
    found = {}
    for capture in captures:
        try:
            article = parse_capture(capture)
        except NotAnArticle:
            continue
        found[article.canonical_url or article.url] = article
    return found


def retitling_parse(capture, profile):
    """A "new parser version" that words titles differently."""
    article = parse_capture(capture, profile)
    return dataclasses.replace(article, title=(article.title or "") + " (revised)", parser_version="2.0")


def crashing_parse(capture, profile):
    if "ketamine" in capture.url:
        raise RuntimeError("parser bug\nwith a second line")
    return parse_capture(capture, profile)


def without_contents(article):
    if article.issue is None:
        return article
    return dataclasses.replace(article, issue=dataclasses.replace(article.issue, articles=[]))


def as_the_page_says(stored, parsed):
    """The stored article with its issue's values only where the parsed page has them: the
    issue row also holds what the issue page itself said (title, url, volume, number)."""
    if stored.issue is None or parsed.issue is None:
        return stored
    own = {name: value if getattr(parsed.issue, name) is not None else None
           for name, value in dataclasses.asdict(stored.issue).items() if name != "articles"}
    return dataclasses.replace(stored, issue=dataclasses.replace(stored.issue, **own))


@pytest.fixture
def archive(tmp_path):
    with Archive(tmp_path / "odd #name? 100%" / "archive.db") as opened:
        for capture in fixture_captures():
            opened.add_capture(capture)
        # Not article pages: an image and a 404 are never handed to the parser.
        opened.add_capture(Capture("https://www.thecarlatreport.com/sites/logo.png", 200,
                                   {"content-type": "image/png"}, b"\x89PNG\r\n", "2026-11-01T00:00:00Z"))
        opened.add_capture(Capture("https://www.thecarlatreport.com/articles/9-gone", 404,
                                   {"content-type": "text/html"}, b"<h1>Not found</h1>", "2026-11-01T00:00:00Z"))
        yield opened


def test_reparse_stores_what_the_parser_finds_on_two_workers(archive):
    expected = expected_articles(fixture_captures())
    assert len(expected) >= 10
    result = archive.reparse(workers=2)
    assert result.outcomes["new"] == len(expected)
    assert result.outcomes.get("failed", 0) == 0 and result.failures == []
    # the issue page among them fills its issue row (title, url, volume, contents)
    assert result.outcomes["issue"] >= 1
    assert result.captures == result.outcomes["new"] + result.outcomes.get("not_article", 0) \
        + result.outcomes["issue"]
    for key, article in expected.items():
        # An issue's table of contents is kept once per issue (the latest seen), and these
        # invented pages of one issue list different contents; the rest must be identical.
        stored = as_the_page_says(archive.get_article(key), article)
        assert without_contents(stored) == without_contents(article)
    # every stored article points at the capture it came from
    assert archive.db.execute("SELECT count(*) FROM articles WHERE capture_id IS NULL").fetchone()[0] == 0


def test_reparse_twice_changes_nothing(archive):
    archive.reparse(workers=2)
    again = archive.reparse(workers=1)
    assert set(again.outcomes) <= {"unchanged", "not_article", "issue"}
    assert again.fields == {}
    assert archive.db["article_versions"].count == 0


def test_a_new_parser_version_updates_and_counts_changed_fields(archive):
    first = archive.reparse(workers=2)
    result = archive.reparse(parse=retitling_parse, workers=2)
    assert result.outcomes["changed"] == first.outcomes["new"]
    assert result.fields == {"title": first.outcomes["new"]}
    reasons = {r for (r,) in archive.db.execute("SELECT reason FROM article_versions")}
    assert reasons == {"reparse"}
    titles = [t for (t,) in archive.db.execute("SELECT title FROM articles")]
    assert all(t.endswith("(revised)") for t in titles)
    assert [r["id"] for r in archive.search("revised")]  # the index follows


def test_the_newest_capture_of_a_page_wins(archive):
    ketamine = next(c for c in fixture_captures() if "ketamine" in c.url)
    later = dataclasses.replace(ketamine, fetched_at="2026-11-20T00:00:00Z",
                                body=ketamine.body.replace(b"Just Another Opiate", b"Only an Opiate"))
    archive.add_capture(later)
    result = archive.reparse(workers=2)
    assert result.outcomes["superseded"] == 1
    stored = archive.get_article(parse_capture(later).canonical_url)
    assert stored.title == parse_capture(later).title and "Only an Opiate" in stored.title
    assert archive.db["article_versions"].count == 0


def test_a_parser_crash_on_one_page_does_not_stop_the_rest(archive):
    expected = expected_articles(fixture_captures())
    result = archive.reparse(parse=crashing_parse, workers=2)
    assert result.outcomes["failed"] == 1 and result.outcomes["new"] == len(expected) - 1
    assert len(result.failures) == 1 and "RuntimeError: parser bug" in result.failures[0]
    assert "\n" not in result.failures[0]


def test_cli_reparse(archive):
    result = CliRunner().invoke(main, ["reparse", "--db", str(archive.path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["outcomes"]["new"] >= 10
    result = CliRunner().invoke(main, ["reparse", "--db", str(archive.path), "--workers", "1"])
    assert result.exit_code == 0 and "unchanged" in result.output


def urlless_parse(capture, profile):
    """A parser bug: records without any URL for one page."""
    article = parse_capture(capture, profile)
    if "ketamine" in capture.url:
        article = dataclasses.replace(article, url=None, canonical_url=None)
    return article


def test_a_record_without_url_is_that_pages_failure(archive):
    result = archive.reparse(parse=urlless_parse, workers=1)
    assert result.outcomes["failed"] == 1 and "neither canonical_url nor url" in result.failures[0]
    assert result.outcomes["new"] == len(expected_articles(fixture_captures())) - 1


# -- every stored page, each with its recorded profile ----------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"


def crawl_into(db, site_dir, profile=None, start_paths=None):
    """A real crawl of a fixture mirror served on 127.0.0.1 (the demo's setting)."""
    from archiver.config import CrawlConfig
    from archiver.crawl import crawl
    from archiver.demo import demo_start_paths
    from archiver.mirror import SiteServer, mirror_pages

    pages = mirror_pages(site_dir)
    config = CrawlConfig(delay=0, jitter=0, concurrency=2, retries=0, timeout=5, warc=False, db=str(db))
    with SiteServer(pages) as server, Archive(db) as archive:
        starts = start_paths or demo_start_paths(pages)
        report = crawl([server.url(p) for p in starts], archive, config, profile=profile)
    assert report.failed == 0
    return report


def test_reparse_of_a_crawled_mirror_reads_every_article_page(tmp_path):
    # The demo serves the site from 127.0.0.1, a host no profile claims: reparse used to keep
    # only the URLs the Carlat profile classifies and said "nothing to do".
    db = tmp_path / "archive.db"
    report = crawl_into(db, FIXTURES / "site")
    with Archive(db) as archive:
        articles = archive.db["articles"].count
        pages = archive.db.execute("SELECT count(*) FROM captures WHERE status = 200 "
                                   "AND url NOT LIKE '%/robots.txt'").fetchone()[0]  # robots.txt: not a page
    assert articles == report.new >= 10
    result = CliRunner().invoke(main, ["reparse", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["captures"] == pages  # listings and issue pages too
    assert outcome["outcomes"].get("unchanged", 0) + outcome["outcomes"].get("changed", 0) == articles
    assert outcome["outcomes"]["not_article"] + outcome["outcomes"].get("issue", 0) == pages - articles
    assert "failed" not in outcome["outcomes"]


def noctua_captures(base_url: str) -> list[Capture]:
    from archiver.mirror import mirror_pages

    pages = mirror_pages(FIXTURES / "profiles" / "noctua" / "site")
    return [Capture(base_url + path, page.status, {"content-type": page.content_type}, page.body,
                    "2026-11-02T00:00:00Z") for path, page in sorted(pages.items())]


def test_reparse_reads_each_page_with_the_profile_recorded_with_it(tmp_path):
    base = "http://127.0.0.1:8766"  # a mirror: its host says nothing about the site
    captures = noctua_captures(base)
    letters = [c for c in captures if "/letter/" in c.url]
    with Archive(tmp_path / "archive.db") as archive:
        for capture in captures:
            archive.add_capture(capture, profile="noctua")
        result = archive.reparse(workers=2)
        assert result.outcomes["new"] == result.articles == len(letters) == 4
        assert "failed" not in result.outcomes
        assert result.captures == len(captures) - 1  # all but robots.txt
        for capture in letters:
            expected = parse_capture(capture, "noctua")
            assert archive.get_article(expected.canonical_url).title == expected.title
    # Without the recorded profile the host decides: 127.0.0.1 is nobody's, so Carlat reads them.
    with Archive(tmp_path / "unrecorded.db") as archive:
        for capture in captures:
            archive.add_capture(capture)
        archive.reparse(workers=1)
        by_host = sorted(json.dumps(a.to_dict(), sort_keys=True) for a in archive.iter_articles())
    assert by_host != sorted(json.dumps(parse_capture(c, "noctua").to_dict(), sort_keys=True) for c in letters)


def test_a_crawled_noctua_mirror_is_reparsed_with_the_profile_given(tmp_path):
    db = tmp_path / "archive.db"
    crawl_into(db, FIXTURES / "profiles" / "noctua" / "site", profile="noctua", start_paths=["/archive"])
    with Archive(db) as archive:
        assert archive.db["articles"].count == 4
    result = CliRunner().invoke(main, ["reparse", "--db", str(db), "--profile", "noctua", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)["outcomes"]
    assert outcome.get("unchanged", 0) + outcome.get("changed", 0) == 4 and "failed" not in outcome
    assert outcome["not_article"] + outcome.get("issue", 0) >= 3  # the archive pages and issue pages


def test_the_profile_given_overrides_the_recorded_one(tmp_path):
    captures = noctua_captures("http://127.0.0.1:8766")
    with Archive(tmp_path / "archive.db") as archive:
        for capture in captures:
            archive.add_capture(capture, profile="carlat")  # recorded wrongly
        result = archive.reparse(workers=1, profile="noctua")
        assert result.outcomes["new"] == 4


def test_a_page_recorded_with_a_profile_that_is_not_built_in_fails_alone(tmp_path):
    captures = noctua_captures("http://127.0.0.1:8766")
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        for capture in captures:
            archive.add_capture(capture, profile="noctua")
        letter = next(c for c in captures if "/letter/" in c.url)
        archive.add_capture(dataclasses.replace(letter, url=letter.url + "?copy"), profile="my-own-site")
    result = CliRunner().invoke(main, ["reparse", "--db", str(db), "--workers", "1"])
    assert result.exit_code == 1
    assert "4 new" in result.output and "1 failed" in result.output
    assert "recorded with profile 'my-own-site', which is not built in: give its file with --profile" \
        in result.output
    assert "Traceback" not in result.output


def test_robots_txt_feeds_and_error_pages_are_not_reparsed(tmp_path):
    with Archive(tmp_path / "archive.db") as archive:
        archive.add_capture(Capture("http://127.0.0.1:1/robots.txt", 200, {}, b"User-agent: *\n",
                                    "2026-11-01T00:00:00Z"))
        archive.add_capture(Capture("http://127.0.0.1:1/feed.xml", 200, {"content-type": "application/rss+xml"},
                                    b"<rss/>", "2026-11-01T00:00:00Z"))
        archive.add_capture(Capture("http://127.0.0.1:1/gone", 410, {"content-type": "text/html"},
                                    b"<h1>Gone</h1>", "2026-11-01T00:00:00Z"))
        assert archive.reparse(workers=1).captures == 0


def test_a_bad_profile_option_is_refused_before_the_archive_is_opened(tmp_path):
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(main, ["reparse", "--db", str(db), "--profile", "nope"])
    assert result.exit_code == 2 and "no profile named 'nope'" in result.output
    assert not db.exists()
