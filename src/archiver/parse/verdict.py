"""Is this page an article?

A page is an article when it has a title AND a body of real prose (the profile's `min_words`;
fewer, `min_bylined_words`, with a byline and a date; `min_teaser_words` for a subscriber
teaser), and nothing says otherwise. Reasons it is not (`NotAnArticle.kind` says which kind of
page it is instead):
  - its URL is one the profile's hints call a listing or issue page;
  - its JSON-LD declares only non-article types (CollectionPage, ItemList, ...);
  - its title or heading is an error ("Page not found", "404") and it has little text;
  - its article region is a list of teasers (linked headings, or links under "Read More") of a
    listing, search or issue page, and those teasers outweigh the text;
  - it has no title, or no prose body;
  - it has none of an article's marks (byline, date, keywords, newsletter, citation,
    disclosure) and does not declare itself one (article URL, og:type, JSON-LD type).
"""

from __future__ import annotations

import re

from archiver.errors import NotAnArticle
from archiver.parse.page import ARTICLE_TYPES, NON_ARTICLE_TYPES, Structured, is_inside, text_of
from archiver.parse.text import collapse
from archiver.record import Article

ERROR_TITLE = re.compile(r"\b(?:404|page not found|not found|access denied|forbidden|server error)\b", re.I)
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "periodical"}


def refuse_by_url(profile, url: str | None) -> None:
    """Listing and issue URLs are never articles: no need to parse them further."""
    kind = profile.hint(url) if url else None
    if kind in ("listing", "issue"):
        raise NotAnArticle(f"its URL is {'an issue' if kind == 'issue' else 'a listing'} page", kind=kind)


def refuse_non_articles(article: Article, data: Structured, url, scope, profile, teasers: int = 0,
                        title_boxes=()) -> None:
    """`teasers`: the "Read More" links of teasers without headings the extractor saw;
    `title_boxes`: the page's elements with "title" in their class (the first walk notes them)."""
    is_typed_article = bool(data.types & ARTICLE_TYPES)
    non_article_types = data.types & NON_ARTICLE_TYPES
    if non_article_types and not is_typed_article:
        kind = ("issue" if "publicationissue" in non_article_types
                else "listing" if non_article_types & LISTING_TYPES else "other")
        raise NotAnArticle(f"JSON-LD type {sorted(non_article_types)[0]}", kind=kind)
    words = article.word_count
    heading = f"{article.title or ''} {data.title_tag or ''}"
    if ERROR_TITLE.search(heading) and words < 150:
        raise NotAnArticle("an error page: " + collapse(article.title or data.title_tag)[:60], kind="error")
    # A page naming an issue's volume or number that is no article is that issue's page.
    names_issue = bool(article.issue and (article.issue.volume or article.issue.number))
    if scope is not None and not is_typed_article:
        listed = max(_listed_articles(scope, profile, words, title_boxes), teasers)
        if listed >= 2 and listed * 60 > words / 2:
            raise NotAnArticle(f"a listing of {listed} teasers", kind="issue" if names_issue else "listing")
    if not article.title:
        raise NotAnArticle("no title")
    minimum = (profile.min_teaser_words if article.paywalled
               else profile.min_bylined_words if article.authors and article.published
               else profile.min_words)
    if words < minimum:
        raise NotAnArticle(f"no article text ({words} words)", kind="issue" if names_issue else "other")
    # An "About us" or "CME information" page has a title and prose too; an article also has
    # a byline, a date, keywords or a newsletter — or says it is one (URL, og:type, JSON-LD).
    described = any((article.authors, article.published, article.keywords, article.newsletter,
                     article.citation, article.disclosure))
    declared = is_typed_article or (url and profile.hint(url) == "article") \
        or (data.first("og:type") or "").lower() == "article"
    if not (described or declared):
        raise NotAnArticle("no byline, date, keywords or newsletter")


def _listed_articles(container, profile, words: int = 0, title_boxes=()) -> int:
    """How many headings of the container are links to other pages (teasers of a listing).
    Counted only when such headings are at least half of the container's headings, and only
    when they could outweigh `words` of text (an article's few headings cannot)."""
    headings = list(container.iter("h2", "h3", "h4", "h5"))
    title_links = [a.get("href") for box in title_boxes if is_inside(box, container)
                   for a in box.iter("a") if a.get("href") is not None]
    if (len(headings) + len(title_links)) * 120 <= words:
        return 0
    linked = set()
    for heading in headings:
        links = [a for a in heading.iter("a") if a.get("href")]
        if not links:
            parent = heading.getparent()  # a card: <a href><h3>Title</h3></a>
            links = [parent] if parent is not None and parent.tag == "a" and parent.get("href") else []
        if not links:
            continue
        text = len("".join(text_of(heading).split()))
        if text and len("".join("".join(text_of(a) for a in links).split())) >= 0.8 * text:
            linked.add(links[0].get("href"))
    if len(linked) < 2:  # teaser titles that are not headings: links in "…title…" boxes
        for href in title_links:
            if "/articles/" in href or profile.hint(href) == "article":
                linked.add(href)
    return len(linked) if len(linked) * 2 >= len(headings) else 0


