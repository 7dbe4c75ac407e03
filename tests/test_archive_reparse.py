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


def retitling_parse(capture):
    """A "new parser version" that words titles differently."""
    article = parse_capture(capture)
    return dataclasses.replace(article, title=(article.title or "") + " (revised)", parser_version="2.0")


def crashing_parse(capture):
    if "ketamine" in capture.url:
        raise RuntimeError("parser bug\nwith a second line")
    return parse_capture(capture)


def without_contents(article):
    if article.issue is None:
        return article
    return dataclasses.replace(article, issue=dataclasses.replace(article.issue, articles=[]))


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
    assert result.captures == result.outcomes["new"] + result.outcomes.get("not_article", 0)
    for key, article in expected.items():
        # An issue's table of contents is kept once per issue (the latest seen), and these
        # invented pages of one issue list different contents; the rest must be identical.
        assert without_contents(archive.get_article(key)) == without_contents(article)
    # every stored article points at the capture it came from
    assert archive.db.execute("SELECT count(*) FROM articles WHERE capture_id IS NULL").fetchone()[0] == 0


def test_reparse_twice_changes_nothing(archive):
    archive.reparse(workers=2)
    again = archive.reparse(workers=1)
    assert set(again.outcomes) <= {"unchanged", "not_article"}
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


def urlless_parse(capture):
    """A parser bug: records without any URL for one page."""
    article = parse_capture(capture)
    if "ketamine" in capture.url:
        article = dataclasses.replace(article, url=None, canonical_url=None)
    return article


def test_a_record_without_url_is_that_pages_failure(archive):
    result = archive.reparse(parse=urlless_parse, workers=1)
    assert result.outcomes["failed"] == 1 and "neither canonical_url nor url" in result.failures[0]
    assert result.outcomes["new"] == len(expected_articles(fixture_captures())) - 1
