"""What a fetched page is by its content (archiver.parse.hubs) and the links it gives the crawler
(archiver.parse.discover): real pages of the fixture mirrors, parsed with lxml."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from archiver.mirror import mirror_pages
from archiver.parse.discover import feed_links, gunzipped
from archiver.parse.hubs import examine
from archiver.profile import get_profile
from archiver.record import Capture

FIXTURES = Path(__file__).parent / "fixtures"
CURRENT = mirror_pages(FIXTURES / "mirrors" / "current")
WORDPRESS = mirror_pages(FIXTURES / "mirrors" / "wordpress")
CARLAT = get_profile("carlat")
ELSEWHERE = "https://unknown-layout.example"  # no hint of the profile names these URLs


def capture(url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> Capture:
    return Capture(url, 200, {"content-type": content_type}, body, "2026-01-01T00:00:00Z")


def at_unknown_url(path: str, pages=CURRENT, name: str = "/x/page-1"):
    return examine(capture(ELSEWHERE + name, pages[path].body), CARLAT)


def test_an_issue_page_of_read_more_teasers_is_a_hub_wherever_it_lives():
    # At its own URL the hints already say so; at a URL nobody knows its content does: teasers
    # (a kind label, a title, a byline, a paragraph, "Read More") read like one long article.
    assert examine(capture("https://www.thecarlatreport.com/newsletters/1/issues/85",
                           CURRENT["/newsletters/1/issues/85"].body), CARLAT).kind == "issue"
    found = at_unknown_url("/newsletters/1/issues/85")
    assert found.kind == "issue" and found.article is None  # its volume and number say so
    assert "4 teasers" in found.reason
    # An issue of one article too: its one card is most of the page.
    assert at_unknown_url("/newsletters/4/issues/12").kind == "listing"  # nothing marks it an issue
    assert at_unknown_url("/newsletter-issue/tcprv16n2/", WORDPRESS).kind == "issue"


def test_listings_of_linked_headings_are_hubs_and_articles_stay_articles():
    assert at_unknown_url("/newsletters/1").kind == "listing"  # issues as linked headings
    assert at_unknown_url("/", WORDPRESS).kind == "listing"  # teasers with Read More
    article = at_unknown_url("/articles/4021-ketamine-clinics-questions-to-ask-before-referring")
    assert article.kind == "article" and article.article.title.startswith("Ketamine Clinics")
    # The fixture articles carry "READ MORE" buttons (store, videos) and tables of contents in
    # their sidebars: none of it makes them hubs.
    for page in sorted((FIXTURES / "pages").glob("tcpr-*.html"))[:6]:
        meta = json.loads(page.with_suffix(".meta.json").read_text())
        moved = meta["url"].replace("/articles/", "/x/")
        assert examine(capture(moved, page.read_bytes()), CARLAT).kind == "article", page.name


def test_other_pages_error_pages_and_unreadable_answers():
    assert at_unknown_url("/faqs").kind == "other"
    page_not_found = (FIXTURES / "pages" / "page-not-found.html").read_bytes()
    assert examine(capture(ELSEWHERE + "/articles/1-x", page_not_found), CARLAT).kind == "error"
    pdf = examine(capture(ELSEWHERE + "/a", b"%PDF-1.4\n%\xe2\xe3", "application/pdf"), CARLAT, html=False)
    assert (pdf.kind, pdf.reason) == ("unreadable", "not HTML (application/pdf)")
    assert examine(capture(ELSEWHERE + "/a", b"  \n"), CARLAT).reason == "empty page"


def test_links_come_with_what_the_page_says_they_are():
    home = at_unknown_url("/")
    hints = dict(home.links)
    assert hints[ELSEWHERE + "/rss/articles"] == "feed"  # announced in <head>
    assert hints[ELSEWHERE + "/newsletters/1"] is None
    feed = examine(capture(ELSEWHERE + "/rss/articles", CURRENT["/rss/articles"].body,
                           "application/rss+xml"), CARLAT)
    assert feed.kind == "feed" and len(feed.links) == 10
    assert all(hint == "article" for _, hint in feed.links)
    index = examine(capture(ELSEWHERE + "/sitemap_index.xml", WORDPRESS["/sitemap_index.xml"].body,
                            "application/xml"), CARLAT)
    assert dict(index.links) == {ELSEWHERE + "/newsletter-article-sitemap.xml": "feed",
                                 ELSEWHERE + "/page-sitemap.xml": "feed"}


def test_a_gzipped_sitemap_is_read_and_a_gzip_bomb_is_not():
    sitemap = WORDPRESS["/newsletter-article-sitemap.xml"].body
    listed = feed_links(gzip.compress(sitemap), ELSEWHERE + "/sitemap.xml.gz")
    assert listed == feed_links(sitemap, ELSEWHERE + "/sitemap.xml.gz") and len(listed) == 20
    assert gunzipped(gzip.compress(b"\0" * 5_000_000), limit=1_000_000) is None


def test_nothing_is_remembered_between_pages():
    # The same URL listed by a feed of one crawl is nothing special to the next page examined.
    examine(capture(ELSEWHERE + "/rss/articles", CURRENT["/rss/articles"].body, "application/rss+xml"), CARLAT)
    plain = examine(capture(ELSEWHERE + "/x", b"<html><body><a href='/articles/4200'>a</a></body></html>"), CARLAT)
    assert plain.links == [(ELSEWHERE + "/articles/4200", None)]
    import archiver.parse.discover as discover

    assert not [name for name, value in vars(discover).items()
                if isinstance(value, (dict, list, set)) and not name.isupper() and not name.startswith("__")]


@pytest.mark.parametrize("path", sorted(p for p in WORDPRESS if p.startswith("/the-carlat-") and p.count("/") == 3
                                        and WORDPRESS[p].status == 200))
def test_previous_era_article_pages_are_never_taken_for_hubs(path):
    found = examine(capture("https://www.thecarlatreport.com" + path, WORDPRESS[path].body), CARLAT)
    assert found.kind in ("article", "other")  # "other" until the parser reads this era (see test_crawl)
