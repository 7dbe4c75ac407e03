"""Every fixture page parses to its golden record, field for field (`make golden` rewrites them)."""

import pytest

from golden import NOT_AN_ARTICLE, expected_of, meta_of, page_files

from archiver.errors import NotAnArticle
from archiver.parse import parse_article
from archiver.record import Article

PAGES = page_files()
FIELDS = list(Article().to_dict())


def parse_page(page):
    meta = meta_of(page)
    return parse_article(page.read_bytes(), url=meta.get("url"), headers=meta.get("headers"),
                         profile=meta.get("profile"))


def test_there_are_fixture_pages():
    assert len(PAGES) >= 15


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_parses_to_its_golden_record(page):
    expected = expected_of(page)
    if expected == NOT_AN_ARTICLE:
        with pytest.raises(NotAnArticle):
            parse_page(page)
        return
    actual = parse_page(page).to_dict()
    wrong = {field: (expected.get(field), actual.get(field)) for field in FIELDS
             if expected.get(field) != actual.get(field)}
    assert not wrong, f"{page.stem}: fields differ (expected, parsed): {wrong}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_found_field_says_which_strategy_found_it(page):
    if expected_of(page) == NOT_AN_ARTICLE:
        return
    article = parse_page(page)
    for field in ("title", "authors", "published", "body", "keywords", "category", "newsletter",
                  "disclosure", "citation", "study_type", "article_type", "article_id", "canonical_url"):
        if getattr(article, field):
            assert article.provenance.get(field), f"{page.stem}: no strategy recorded for {field}"
    for part in ("date", "title", "url", "volume", "number", "articles"):
        if article.issue and getattr(article.issue, part):
            assert article.provenance.get(f"issue.{part}"), f"{page.stem}: no strategy recorded for issue.{part}"
    if any(a.affiliation for a in article.authors):
        assert article.provenance.get("authors.affiliation"), f"{page.stem}: no strategy for authors.affiliation"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_str_input_parses_like_bytes(page):
    meta = meta_of(page)
    if expected_of(page) == NOT_AN_ARTICLE or "1252" in page.stem:
        return
    from_str = parse_article(page.read_text(encoding="utf-8"), url=meta.get("url"),
                             profile=meta.get("profile"))
    assert from_str == parse_page(page)
