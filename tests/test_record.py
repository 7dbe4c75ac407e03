from archiver.record import Article, Author, Citation, Issue, IssueArticle


def full_article() -> Article:
    return Article(
        url="https://www.thecarlatreport.com/articles/1-x",
        canonical_url="https://www.thecarlatreport.com/articles/1-x",
        article_id=1,
        title="T",
        authors=[Author("Ann Lee", ["MD", "PhD"])],
        published="2019-01-01",
        issue=Issue(date="2019-01-01", title="January 2019", articles=[IssueArticle("T", "/articles/1-x")]),
        citation=Citation(text="Doe J et al, Lancet 2018;1:2", journal="Lancet", year=2018),
        keywords=["a", "b"],
        provenance={"title": "h1"},
    )


def test_json_round_trip_keeps_every_field():
    article = full_article()
    assert Article.from_json(article.to_json()) == article


def test_json_form_has_the_documented_keys_and_no_provenance():
    data = Article().to_dict()
    assert "provenance" not in data
    for key in ["url", "canonical_url", "article_id", "title", "authors", "published", "issue",
                "newsletter", "category", "disclosure", "citation", "study_type", "body",
                "keywords", "paywalled", "word_count", "parser_version", "warnings"]:
        assert key in data
    assert data["authors"] == [] and data["citation"] is None and data["keywords"] == []


def test_from_dict_ignores_unknown_keys():
    assert Article.from_dict({"title": "x", "future_field": 1}).title == "x"
