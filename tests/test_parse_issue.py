"""parse_issue: an issue page's own record, on issue pages of the three generations, and its
refusal of every other page (articles, listings, error pages, bad input)."""

import json
from dataclasses import asdict

import pytest

from golden import NOT_AN_ARTICLE, expected_of, issue_files, issue_page, meta_of, page_files

from archiver.errors import NotAnArticle
from archiver.parse import parse_article, parse_issue

ISSUES = issue_files()
OTHER_PAGES = [page for page in page_files() if "issue" not in page.stem]


def test_there_are_issue_pages_of_each_generation():
    names = {golden.name for golden in ISSUES}
    assert len(ISSUES) >= 4
    assert any(n.startswith("cur-") for n in names) and any(n.startswith("wp-") for n in names) \
        and any(n.startswith("drupal-") for n in names)


@pytest.mark.parametrize("golden", ISSUES, ids=lambda g: g.name.split(".")[0])
def test_issue_page_parses_to_its_golden_record(golden):
    page, meta = issue_page(golden)
    expected = json.loads(golden.read_text(encoding="utf-8"))
    actual = asdict(parse_issue(page.read_bytes(), url=meta["url"], headers=meta.get("headers")))
    wrong = {key: (expected[key], actual[key]) for key in expected if expected[key] != actual[key]}
    assert not wrong and list(actual) == list(expected)


@pytest.mark.parametrize("golden", ISSUES, ids=lambda g: g.name.split(".")[0])
def test_an_issue_page_is_not_an_article(golden):
    page, meta = issue_page(golden)
    with pytest.raises(NotAnArticle):
        parse_article(page.read_bytes(), url=meta["url"], headers=meta.get("headers"))


@pytest.mark.parametrize("page", OTHER_PAGES, ids=lambda p: p.stem)
def test_articles_listings_and_error_pages_are_not_issue_pages(page):
    meta = meta_of(page)
    with pytest.raises(NotAnArticle) as refused:
        parse_issue(page.read_bytes(), url=meta.get("url"), headers=meta.get("headers"), profile=meta.get("profile"))
    assert refused.value.kind == "other"
    if expected_of(page) != NOT_AN_ARTICLE:
        assert "article page" in str(refused.value)


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02" * 50, "just text, no markup"])
def test_bad_input_is_not_an_issue_page(data):
    with pytest.raises(NotAnArticle):
        parse_issue(data)


def test_refused_issue_pages_say_issue_when_they_name_a_volume():
    # parse_article's refusal tells the crawler which pages to hand to parse_issue
    golden = next(g for g in ISSUES if g.name.startswith("drupal-"))
    page, _meta = issue_page(golden)
    with pytest.raises(NotAnArticle) as refused:  # no URL: the page's own content says it
        parse_article(page.read_bytes())
    assert refused.value.kind == "issue"


TEASER_PAGE = """<html><head><title>March 2024 | Example Letter</title></head><body>
<h1>March 2024</h1>
<div><p><a href="/a/1-first">First Article</a></p><p>Teaser one.</p><p><a href="/a/1-first">Read More</a></p></div>
<div><h2><a href="/a/2-second">Second Article</a></h2><p>Teaser two.</p></div>
<div><p><a href="/authors/9-someone">Someone</a></p></div>
<h2>Recommended</h2><h3><a href="/a/99-elsewhere">Not In This Issue</a></h3>
</body></html>"""


def test_a_month_titled_page_of_teasers_is_an_issue_and_its_teasers_end_at_the_next_section():
    issue = parse_issue(TEASER_PAGE, url="https://letter.example/issues/2024-03")
    assert (issue.title, issue.date) == ("March 2024", "2024-03-01")
    assert [(a.title, a.url) for a in issue.articles] == [
        ("First Article", "https://letter.example/a/1-first"), ("Second Article", "https://letter.example/a/2-second")]


def test_a_page_of_teasers_with_no_issue_marks_is_not_an_issue():
    page = TEASER_PAGE.replace("<h1>March 2024</h1>", "<h1>Latest Articles</h1>").replace("March 2024 |", "News |")
    with pytest.raises(NotAnArticle, match="no issue marks"):
        parse_issue(page, url="https://letter.example/latest")
