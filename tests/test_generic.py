"""The generic extractor on varied invented pages (tests/fixtures/generic/): the body is the
article's own text and nothing else; metadata comes from JSON-LD, citation_*, OpenGraph."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from generic_quality import pages, score, truth_of

from archiver.cli import main
from archiver.errors import ArchiverError, NotAnArticle
from archiver.parse import generic, parse_article

PAGES = pages()


def parse(page, **kwargs):
    return parse_article(page.read_bytes(), profile="generic", **kwargs)


def test_there_are_varied_pages():
    names = {p.stem for p in PAGES}
    assert {"news-related-boxes", "blog-with-comments", "journal-citation-meta", "guide-lists-tables",
            "news-stale-articlebody", "news-comments-articlebody"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_body_is_the_articles_own_text_and_nothing_else(page):
    result = score(parse(page).body, truth_of(page))
    assert result["missing"] == [] and result["recall"] == 1.0
    assert result["junk"] == [], "text that is not the article's"
    assert result["chrome"] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_metadata_fields_match_the_page(page):
    truth, article = truth_of(page), parse(page)
    assert article.title == truth["title"]
    assert [a.name for a in article.authors] == truth["authors"]
    assert article.published == truth["published"]
    for field in ("newsletter", "category", "keywords", "canonical_url"):
        if field in truth:
            assert getattr(article, field) == truth[field], field
    assert article.word_count == len(article.body.split())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_unknown_fields_are_null_and_listed_in_warnings(page):
    record = parse(page).to_dict()
    for field in ("title", "authors", "published", "body", "keywords", "disclosure", "newsletter",
                  "category", "citation", "study_type"):
        assert (field in record["warnings"]) == (record[field] in (None, [], "")), field
    assert record["disclosure"] is None and "disclosure" in record["warnings"]


def test_json_ld_article_body_is_used_only_when_the_page_shows_it():
    by_name = {p.stem: p for p in PAGES}
    assert parse(by_name["news-related-boxes"]).provenance["body"].startswith("json-ld articleBody")
    stale = parse(by_name["news-stale-articlebody"])
    assert stale.provenance["body"] == "trafilatura main text"
    assert "a decision is weeks away" not in stale.body


def test_article_body_keeps_the_pages_paragraph_breaks():
    page = next(p for p in PAGES if p.stem == "news-related-boxes")
    assert parse(page).body.split("\n\n") == truth_of(page)["paragraphs"]


def test_journal_citation_tags_give_doi_journal_and_authors():
    page = next(p for p in PAGES if p.stem == "journal-citation-meta")
    article = parse(page)
    assert article.citation.doi == "10.5555/jrrc.2024.0312"
    assert article.citation.journal == "Journal of Rural Respiratory Care"
    assert (article.citation.year, article.citation.volume, article.citation.issue,
            article.citation.pages) == (2024, "12", "3", "145–153")
    assert article.provenance["authors"] == "meta citation_author"


def test_a_listing_page_is_not_an_article():
    listing = """<html><head><title>Local news</title><script type="application/ld+json">
    {"@type": "CollectionPage", "name": "Local news"}</script></head><body><h1>Local news</h1>
    <ul><li><a href="/a">Story one</a></li><li><a href="/b">Story two</a></li></ul></body></html>"""
    with pytest.raises(NotAnArticle, match="CollectionPage|collectionpage"):
        parse_article(listing, profile="generic")
    with pytest.raises(NotAnArticle):
        parse_article("<html><body><h1>Hi</h1><p>Short.</p></body></html>", profile="generic")


def test_missing_trafilatura_is_a_one_line_error_saying_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError("No module named 'trafilatura'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    with pytest.raises(ArchiverError, match=r'pip install "archiver\[generic\]"'):
        parse(PAGES[0])
    result = CliRunner().invoke(main, ["parse", str(PAGES[0]), "--profile", "generic"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {PAGES[0]}: {generic.INSTALL_HINT}"


def test_parse_command_with_generic_profile():
    result = CliRunner().invoke(main, ["parse", str(PAGES[0]), "--profile", "generic", "--explain"])
    assert result.exit_code == 0
    record = json.loads(result.output.splitlines()[0])
    assert record["title"] == truth_of(PAGES[0])["title"]
