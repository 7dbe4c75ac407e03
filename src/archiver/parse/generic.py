"""The generic extractor: an Article from any article page, with no site profile.

Metadata in layers, the first that answers wins (as in trafilatura's own metadata.py):
JSON-LD -> citation_* (Highwire / Google Scholar tags journals use) -> OpenGraph / article:* /
Dublin Core <meta> -> what trafilatura finds in the markup. The body:

  1. the page's JSON-LD ``articleBody``, when the page really shows it: the page's blocks whose
     text is in articleBody, in page order (so paragraphs keep their breaks), if they cover it;
     articleBody as written if the page's text holds it but in other blocks. A stale or
     truncated articleBody fails the check and is not used.
  2. else trafilatura's main-text extraction (comments excluded, tables kept), converted to our
     body form (paragraphs, list items and table rows as lines), minus lines that repeat the
     title, the byline or the date.

Fields it cannot know (disclosure, study type, ... on most sites) are null and listed in
``warnings``. trafilatura is the optional extra `generic`: pip install "archiver[generic]".
"""

from __future__ import annotations

import re

from lxml import etree

from archiver.errors import ArchiverError, NotAnArticle
from archiver.parse.blocks import blocks_of, paragraphs
from archiver.parse.clean import drop
from archiver.parse.fields import Found, offer_canonical, to_article
from archiver.parse.labels import split_keywords, unique
from archiver.parse.page import (ARTICLE_TYPES, NON_ARTICLE_TYPES, Document, Structured, ld_names,
                                 structured_data, text_of)
from archiver.parse.text import collapse, find_date, split_byline
from archiver.record import Article, Author, Citation

INSTALL_HINT = 'the generic extractor needs trafilatura: pip install "archiver[generic]"'
# trafilatura's XML vocabulary -> the HTML tags blocks_of() knows
_TRAFILATURA_TAGS = {"head": "h2", "list": "ul", "item": "li", "row": "tr", "cell": "td",
                     "quote": "blockquote", "hi": "span", "ref": "a", "lb": "br", "graphic": "img"}
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
# Boxes inside article containers that trafilatura keeps by default (whole parts of class / id).
_CHROME_NAME = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|subscribe|signup|newsletters?|promo|related|"
    r"recommended|popular|most-read|also|comments?|respond|reply|advert|ad-slot|ads|sponsored|"
    r"cookies?|banner|breadcrumbs?|pagination|pager|toolbar|tools|util|feedback|rating|widget|"
    r"sidebar|rail|more-stories|embed-card|permissions|similar|toc|jump)(?=$|[\s_-])", re.I)
_NEVER_PRUNED = frozenset(("html", "body", "main", "article"))
_BY_LINE = re.compile(r"^(?:by|written by|words by)\s+(?P<names>[^|·•]+?)(?:\s*[|·•].*)?$", re.I)


def _trafilatura():
    try:
        import trafilatura
    except ImportError:
        raise ArchiverError(INSTALL_HINT) from None
    return trafilatura


# ------------------------------------------------------------------ metadata layers

def _ld_value(item: dict, key: str):
    value = item.get(key)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("@id")
    return value


def _authors_from(names: list[str]) -> list[Author]:
    authors: list[Author] = []
    for name in names:
        if name.startswith(("http://", "https://")):  # article:author is often a profile URL
            continue
        for author in split_byline(name) if "," in name or " and " in name else [Author(collapse(name))]:
            if author.name and author.name not in {a.name for a in authors}:
                authors.append(author)
    return authors


def metadata(found: Found, data: Structured, doc) -> None:
    ld = data.article or {}
    meta = data.meta_all

    def first(*names):
        return data.first(*names)

    found.offer("title", collapse(_ld_value(ld, "headline") or _ld_value(ld, "name") or ""), "json-ld headline")
    found.offer("title", first("citation_title", "dc.title"), "meta citation_title")
    found.offer("title", first("og:title", "twitter:title"), "og:title")
    found.offer("authors", _authors_from(ld_names(ld.get("author"))), "json-ld author")
    found.offer("authors", _authors_from(meta.get("citation_author", [])), "meta citation_author")
    found.offer("authors", _authors_from(meta.get("author", []) + meta.get("article:author", [])
                                          + meta.get("dc.creator", [])), "meta author")
    for key, how in (("datePublished", "json-ld datePublished"), ("dateCreated", "json-ld dateCreated")):
        found.offer("published", find_date(str(ld.get(key) or "")), how)
    found.offer("published", find_date(first("citation_publication_date", "citation_date",
                                              "citation_online_date")), "meta citation_publication_date")
    found.offer("published", find_date(first("article:published_time", "dc.date", "date",
                                              "dc.date.issued", "pubdate")), "meta article:published_time")
    part_of = ld.get("isPartOf") if isinstance(ld.get("isPartOf"), dict) else {}
    found.offer("newsletter", first("citation_journal_title"), "meta citation_journal_title")
    found.offer("newsletter", collapse(_ld_value(part_of, "name") or ""), "json-ld isPartOf")
    found.offer("newsletter", collapse(_ld_value(ld, "publisher") or "") if isinstance(ld.get("publisher"), dict) else None,
                 "json-ld publisher")
    found.offer("newsletter", first("og:site_name", "citation_publisher", "dc.publisher"), "og:site_name")
    section = ld.get("articleSection")
    found.offer("category", collapse(section[0] if isinstance(section, list) and section else
                                      section if isinstance(section, str) else ""), "json-ld articleSection")
    found.offer("category", first("article:section"), "meta article:section")
    keywords = ld.get("keywords")
    if isinstance(keywords, str):
        keywords = re.split(r"\s*[,;]\s*", keywords)
    found.offer("keywords", unique([collapse(k).lower() for k in keywords or [] if isinstance(k, str) and collapse(k)]),
                 "json-ld keywords")
    tags = meta.get("article:tag", []) + meta.get("citation_keywords", [])
    found.offer("keywords", unique([collapse(t).lower() for t in tags if collapse(t)]), "meta article:tag / citation_keywords")
    found.offer("keywords", split_keywords(first("keywords", "news_keywords") or ""), "meta keywords")
    found.offer("citation", _own_citation(data, found), "meta citation_* / json-ld")
    if doc is not None:  # trafilatura's own findings, last
        found.offer("title", collapse(doc.title or ""), "trafilatura title")
        found.offer("authors", _authors_from(re.split(r"\s*;\s*", doc.author or "")), "trafilatura author")
        found.offer("published", find_date(doc.date or ""), "trafilatura date")
        found.offer("newsletter", collapse(doc.sitename or ""), "trafilatura sitename")
        found.offer("category", collapse((doc.categories or [""])[0]), "trafilatura categories")
        found.offer("keywords", unique([collapse(t).lower() for t in doc.tags or [] if collapse(t)]), "trafilatura tags")


def _own_citation(data: Structured, found: Found) -> Citation | None:
    """The page's own bibliographic reference (journals' citation_* tags, JSON-LD DOI)."""
    ld = data.article or {}
    doi = data.first("citation_doi", "dc.identifier", "prism.doi") or str(ld.get("doi") or "")
    match = re.search(r"10\.\d{4,9}/\S+", doi or "")
    doi = match.group(0) if match else None
    journal = data.first("citation_journal_title", "citation_journal_abbrev", "prism.publicationname")
    if not (doi or journal):
        return None
    year = (find_date(data.first("citation_publication_date", "citation_date")) or "")[:4]
    first_page, last_page = data.first("citation_firstpage"), data.first("citation_lastpage")
    pages = f"{first_page}–{last_page}" if first_page and last_page else first_page
    authors = "; ".join(data.meta_all.get("citation_author", [])) or None
    volume, issue = data.first("citation_volume"), data.first("citation_issue")
    text = ", ".join(p for p in (authors, journal) if p)
    if year:
        text += f" {year}" + (f";{volume}" if volume else "") + (f"({issue})" if issue else "") + \
            (f":{pages}" if pages else "")
    if doi:
        text += f". doi:{doi}"
    return Citation(text=text.strip(" ,.") or doi, authors=authors, journal=journal,
                    year=int(year) if year else None, volume=volume, issue=issue, pages=pages,
                    doi=doi, pmid=data.first("citation_pmid"))


def byline_near_title(root, found: Found) -> None:
    """ "By Priya Natarajan | June 3, 2025": a short "By" line just after the page's <h1>."""
    for h1 in root.iter("h1"):
        seen = 0
        for el in h1.itersiblings():
            seen += 1
            text = collapse(text_of(el))
            match = _BY_LINE.match(text) if len(text) < 160 else None
            if match:
                names = re.split(r",?\s+(?:on\s+)?(?=[A-Z][a-z]{2,8}\.? \d)", match["names"])[0]
                found.offer("authors", split_byline(names), "“By …” line under the title")
                found.offer("published", find_date(text), "date on the “By …” line")
                return
            if seen >= 4:
                break
        return


# ------------------------------------------------------------------ body

def pruned_html(root) -> str:
    """The page without boxes that are never the article's text (share, related, comments,
    sign-up, ...), which trafilatura's defaults keep when they sit inside the article."""
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.tag in _NEVER_PRUNED:
            continue
        names = f"{el.get('class') or ''} {el.get('id') or ''}"
        if names.strip() and _CHROME_NAME.search(names) and el.find(".//h1") is None:
            drop(el)
    return etree.tostring(root, encoding="unicode", method="html")


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def body_from_article_body(root, ld: dict) -> str | None:
    """JSON-LD articleBody, checked against the page: None when the page does not show it."""
    article_body = ld.get("articleBody")
    if not isinstance(article_body, str) or len(article_body.split()) < 20:
        return None
    wanted = _squash(article_body)
    body_el = root.find("body") if root.find("body") is not None else root
    page_blocks = [b for b in blocks_of(body_el) if len(_squash(b.text)) >= 8]
    kept, covered = [], 0
    for block in page_blocks:  # page blocks inside articleBody, in page order
        squashed = _squash(block.text)
        if squashed and squashed in wanted and block.text not in {k.text for k in kept}:
            kept.append(block)
            covered += len(squashed)
    if kept and covered >= 0.9 * len(wanted):
        return "\n\n".join(paragraphs(kept))
    # The page holds the text in blocks of its own cutting: articleBody itself, if it is there.
    page_text = _squash(text_of(body_el))
    chunks = [_squash(s) for s in _SENTENCE.split(collapse(article_body)) if len(s) > 30]
    if chunks and sum(c in page_text for c in chunks) >= 0.9 * len(chunks):
        parts = [collapse(p) for p in re.split(r"\n\s*\n|\n", article_body) if collapse(p)]
        return "\n\n".join(parts)
    return None


def body_from_trafilatura(doc, found: Found) -> str | None:
    tree = getattr(doc, "body", None)
    if tree is None:
        return collapse(doc.text or "") or None
    tree = etree.fromstring(etree.tostring(tree))  # a private copy to rename tags in
    for el in tree.iter():
        if isinstance(el.tag, str) and el.tag in _TRAFILATURA_TAGS:
            el.tag = _TRAFILATURA_TAGS[el.tag]
    lines = paragraphs(blocks_of(tree))
    return "\n\n".join(_without_header_lines(lines, found)) or None


def _without_header_lines(lines: list[str], found: Found) -> list[str]:
    """trafilatura sometimes keeps the headline, the byline or the date line in the text."""
    title = _squash(found.values.get("title") or "")
    names = [a.name for a in found.values.get("authors", [])]
    citation = found.values.get("citation")
    doi = citation.doi if citation else None
    kept = []
    for line in lines:
        squashed = _squash(line)
        if title and squashed == title:
            continue
        if doi and doi in line and len(line) < 300:  # the journal's reference line
            continue
        if len(line) < 120 and names and re.match(r"^(?:by\s+)?", line, re.I) and \
                any(n in line for n in names) and len(line.split()) <= 4 * len(names) + 6:
            continue
        kept.append(line)
    return kept


# ------------------------------------------------------------------ the record

def extract(document: Document, profile, url: str | None) -> Article:
    trafilatura = _trafilatura()
    root = document.tree()
    data = structured_data(root, url)
    if data.types & NON_ARTICLE_TYPES and not data.types & ARTICLE_TYPES:
        raise NotAnArticle(f"JSON-LD type {sorted(data.types & NON_ARTICLE_TYPES)[0]}")
    found = Found()
    metadata(found, data, None)
    byline_near_title(root, found)
    body = body_from_article_body(root, data.article or {})  # before pruning: it checks the page
    doc = trafilatura.bare_extraction(pruned_html(root), url=url, with_metadata=True,
                                      include_comments=False, include_tables=True,
                                      favor_precision=True)
    metadata(found, data, doc)  # trafilatura's findings fill what the page's metadata did not
    found.offer("body", body, "json-ld articleBody, checked against the page")
    if doc is not None and not found.get("body"):
        found.offer("body", body_from_trafilatura(doc, found), "trafilatura main text")
    offer_canonical(found, data, url, data.base_url or url or data.canonical)
    article = to_article(found, url, profile)
    if not article.title:
        raise NotAnArticle("no title")
    declared = bool(data.types & ARTICLE_TYPES) or (data.first("og:type") or "").lower() == "article"
    if not article.body or (article.word_count < profile.min_words and not declared):
        raise NotAnArticle(f"no article text ({article.word_count} words)")
    return article
