"""First answer wins: the one accumulator every extractor fills, and the one place that turns it
into an `Article`.

Each field's rules offer values in order; the first non-empty one is kept together with the
strategy that gave it (``Article.provenance``, shown by ``archiver parse --explain``). Names
starting with "_" are an extractor's working notes and never reach the record.
"""

from __future__ import annotations

from archiver.parse.page import Structured, absolute, clean_canonical, without_query
from archiver.parse.text import word_count
from archiver.record import Article, Issue

# Found's names for the parts of `Article.issue`, and their provenance names.
ISSUE_PARTS = {"issue_date": "date", "issue_title": "title", "issue_url": "url",
               "issue_volume": "volume", "issue_number": "number", "issue_articles": "articles"}
EMPTY = (None, "", [])


class Found:
    """Values and the strategies that gave them; the first answer per field wins — unless a
    later one has a better `rank` (lower): a labelled date ("Published On:") beats the
    template's unlabelled one offered before it, which beats a "Submitted" one."""

    __slots__ = ("values", "how", "ranks")

    def __init__(self):
        self.values: dict = {}
        self.how: dict = {}
        self.ranks: dict = {}

    def offer(self, name: str, value, strategy: str, rank: int = 0) -> bool:
        if value in EMPTY or (name in self.values and rank >= self.ranks.get(name, 0)):
            return False
        self.values[name] = value
        self.how[name] = strategy
        if rank:
            self.ranks[name] = rank
        else:
            self.ranks.pop(name, None)
        return True

    def get(self, name: str, default=None):
        return self.values.get(name, default)


def offer_canonical(found: Found, data: Structured, url: str | None, base: str | None) -> None:
    """<link rel=canonical>, else og:url without tracking parameters, else the page URL without
    its query. Relative ones resolve against `base` (a saved page's base may be the site's own
    URL); one that stays relative is no canonical URL."""
    if found.offer("canonical_url", _web_url(absolute(data.canonical, base)), "<link rel=canonical>"):
        return
    if found.offer("canonical_url", _web_url(clean_canonical(absolute(data.first("og:url"), base))), "og:url"):
        return
    found.offer("canonical_url", without_query(url), "page URL")


def _web_url(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def to_article(found: Found, url: str | None, profile) -> Article:
    """The record: Found's values in the Article's shape, the profile's article id, warnings for
    the profile's expected fields left empty, and the provenance of every field."""
    values = found.values
    issue = None
    if any(values.get(name) for name in ISSUE_PARTS):
        issue = Issue(**{part: values.get(name) for name, part in ISSUE_PARTS.items()
                         if name != "issue_articles"}, articles=values.get("issue_articles", []))
    canonical = values.get("canonical_url")
    body = values.get("body")
    article = Article(
        url=url, canonical_url=canonical,
        article_id=profile.article_id(canonical) or profile.article_id(url),
        title=values.get("title"), authors=values.get("authors", []),
        published=values.get("published"), issue=issue, newsletter=values.get("newsletter"),
        category=values.get("category"), article_type=values.get("article_type"),
        disclosure=values.get("disclosure"), citation=values.get("citation"),
        study_type=values.get("study_type"), body=body, keywords=values.get("keywords", []),
        paywalled=bool(values.get("paywalled")), word_count=word_count(body))
    article.warnings = [name for name in profile.expected_fields if not getattr(article, name)]
    article.provenance = {
        (f"issue.{ISSUE_PARTS[name]}" if name in ISSUE_PARTS else name): how
        for name, how in found.how.items() if not name.startswith("_")}
    if article.article_id is not None:
        article.provenance["article_id"] = "links.article id of the " + (
            "canonical URL" if profile.article_id(canonical) is not None else "page URL")
    return article
