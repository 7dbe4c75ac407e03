"""The generic extractor: an Article from any article page, with no site profile.

Metadata in layers, the first that answers wins (as in trafilatura's own metadata.py):
JSON-LD -> citation_* (Highwire / Google Scholar tags journals use) -> OpenGraph / article:* /
Dublin Core <meta> -> what trafilatura finds in the markup. The body, by a few general rules:

  1. Pruning: a box (div, section, list, ...) whose class or id names chrome (share, related,
     newsletter, comments, sidebar, ...) is removed only when it is small — a tenth of the page's
     prose at most, or a sentence or two — and it is never the page's densest text block or
     around it (density.py): the article's own wrapper stays whatever a theme named it.
  2. trafilatura's precise extraction (comments excluded, tables kept) of the pruned page;
     its balanced extraction instead when the precise one is too short to be an article (the
     profile's min_words) and the balanced one longer, or when the precise one lost the
     densest block's paragraphs (it holds under half of them) and the balanced one holds them.
     Converted to our body form (paragraphs; list items and table rows as lines), minus lines
     that repeat the title or <h1>, the byline or the reference.
  3. JSON-LD ``articleBody`` instead, when it covers that text and the page shows it: the
     page's blocks whose text is in it, in page order. A teaser or a stale one is not used.
  4. A page is refused only when it has no main text: less prose (text that is not the page's
     link lists; scripts without spaces counted by characters) than min_words and no article
     type declared, or an error title ("Page not found") over a few lines. A FAQ or product
     page with a body is parsed; `article_type` names the schema.org type it declares.

Fields it cannot know (disclosure, study type, ... on most sites) are null and listed in
``warnings``. trafilatura is the optional extra `generic`: pip install "archiver[generic]".
"""

from __future__ import annotations

import re

from lxml import etree

from archiver.errors import ArchiverError, NotAnArticle
from archiver.parse.blocks import blocks_of, paragraphs
from archiver.parse.density import lead_prose, prose_size, prune_boxes, share_kept, text_size
from archiver.parse.fields import Found, offer_canonical, to_article
from archiver.parse.labels import split_keywords, unique
from archiver.parse.page import (ARTICLE_TYPES, NON_ARTICLE_TYPES, Document, Structured, ld_names,
                                 structured_data, text_of)
from archiver.parse.text import collapse, find_date, split_byline
from archiver.parse.verdict import ERROR_TITLE, LISTING_TYPES
from archiver.record import Article, Author, Citation

INSTALL_HINT = 'the generic extractor needs trafilatura: pip install "archiver[generic]"'
# trafilatura's XML vocabulary -> the HTML tags blocks_of() knows
_TRAFILATURA_TAGS = {"head": "h2", "list": "ul", "item": "li", "row": "tr", "cell": "td",
                     "quote": "blockquote", "hi": "span", "ref": "a", "lb": "br", "graphic": "img"}
_NOT_ALNUM = re.compile(r"[\W_]+")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
# Class / id words of boxes that are never the article's text (whole parts of names), which
# trafilatura's defaults keep when they sit inside the article. Only a hint: density.prune_boxes
# removes such a box only when it is small. Not "widget": Elementor calls every block one.
_CHROME_NAME = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|subscribe|signup|newsletters?|promo|related|"
    r"recommended|popular|most-read|also|comments?|respond|reply|advert|ad-slot|ads|sponsored|"
    r"cookies?|banner|breadcrumbs?|pagination|pager|toolbar|tools|util|feedback|rating|"
    r"sidebar|rail|more-stories|embed-card|permissions|similar|toc|jump)(?=$|[\s_-])", re.I)
# A precise extraction holding less than this share of the densest block's paragraphs has lost
# the article (trafilatura's precision rules deleted its wrapper); one holding more kept it,
# though it may leave a paragraph or a caption out.
LEAD_KEPT = 0.5
# articleBody must cover this share of the text the page shows.
COVERS = 0.9
# A page titled like an error ("404", "Page not found") with less prose than this is one (the
# layered extractor's figure).
ERROR_PAGE_WORDS = 150
_SCHEMA_NAMES = {n.lower(): n for n in (
    "Article NewsArticle ScholarlyArticle MedicalScholarlyArticle BlogPosting Report TechArticle "
    "AnalysisNewsArticle OpinionNewsArticle ReportageNewsArticle ReviewNewsArticle Posting "
    "SocialMediaPosting LiveBlogPosting CollectionPage ItemList SearchResultsPage ProfilePage "
    "ContactPage AboutPage FAQPage Product PublicationIssue Periodical Event Course CheckoutPage "
    "QAPage").split()}
# "By A and B | June 3", "By A - 06/11/25 03:02 PM": the names end at a bar, bullet or spaced dash.
_BY_LINE = re.compile(r"^(?:by|written by|words by)\s+(?P<names>[^|·•]+?)(?:\s*[|·•].*|\s+[-–—]\s.*)?$", re.I)


def _trafilatura():
    try:
        import trafilatura
    except ImportError:
        raise ArchiverError(INSTALL_HINT) from None
    return trafilatura


def trafilatura_load_html(html: str):
    """The page as trafilatura's own tree, parsed once for its two extractions."""
    from trafilatura.utils import load_html
    return load_html(html)


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

def _squash(text: str) -> str:
    """Letters and digits only, lower case: text compared across markup and spacing."""
    return _NOT_ALNUM.sub("", text.lower())


def _size(text: str | None) -> int:
    return len(_squash(text or ""))


def body_from_article_body(blocks, ld: dict, main_text: str | None) -> str | None:
    """JSON-LD articleBody, checked against the page, or None. Used only when it covers the
    main text the page shows (a short articleBody is a teaser or a description, never the body
    because it exists) and the page shows it (a stale one fails): then the page's blocks whose
    text is in it, in page order (so paragraphs keep their breaks), or articleBody as written
    when the page holds its sentences in blocks of its own cutting."""
    article_body = ld.get("articleBody")
    if not isinstance(article_body, str) or not article_body.strip():
        return None
    wanted = _squash(article_body)
    if len(wanted) < COVERS * _size(main_text):
        return None
    kept, seen, covered = [], set(), 0
    for block in blocks:  # page blocks inside articleBody, in page order
        squashed = _squash(block.text)
        if len(squashed) >= 8 and squashed in wanted and squashed not in seen:
            kept.append(block)
            seen.add(squashed)
            covered += len(squashed)
    if covered >= COVERS * len(wanted):
        return "\n\n".join(paragraphs(kept))
    page_text = "".join(_squash(b.text) for b in blocks)
    sentences = [_squash(s) for s in _SENTENCE.split(collapse(article_body)) if len(s) > 30]
    if sentences and sum(s in page_text for s in sentences) >= COVERS * len(sentences):
        parts = [collapse(p) for p in re.split(r"\n\s*\n|\n", article_body) if collapse(p)]
        return "\n\n".join(parts)
    return None


def body_from_trafilatura(doc, found: Found) -> str | None:
    tree = getattr(doc, "body", None) if doc is not None else None
    if tree is None:
        return collapse(getattr(doc, "text", None) or "") or None
    tree = etree.fromstring(etree.tostring(tree))  # a private copy to rename tags in
    for el in tree.iter():
        if isinstance(el.tag, str) and el.tag in _TRAFILATURA_TAGS:
            el.tag = _TRAFILATURA_TAGS[el.tag]
    wrapper = etree.Element("div")  # a page of bare text comes back as one <span>, no block
    wrapper.append(tree)
    lines = paragraphs(blocks_of(wrapper))
    return "\n\n".join(_without_header_lines(lines, found)) or None


def _without_header_lines(lines: list[str], found: Found) -> list[str]:
    """trafilatura sometimes keeps the headline (the title, or the page's <h1> when the title
    has the site's name appended), the byline or the date line in the text."""
    headlines = {_squash(found.values.get("title") or "")} | set(found.values.get("_headlines", []))
    headlines.discard("")
    names = [a.name for a in found.values.get("authors", [])]
    citation = found.values.get("citation")
    doi = citation.doi if citation else None
    kept = []
    for line in lines:
        squashed = _squash(line)
        if squashed in headlines:
            continue
        if doi and doi in line and len(line) < 300:  # the journal's reference line
            continue
        if len(line) < 120 and names and re.match(r"^(?:by\s+)?", line, re.I) and \
                any(n in line for n in names) and len(line.split()) <= 4 * len(names) + 6:
            continue
        kept.append(line)
    return kept


def main_text(trafilatura, page, url: str | None, data: Structured, found: Found,
              min_words: int, lead: list[str] = ()) -> str | None:
    """trafilatura's precise extraction, or its balanced one: when the precise one is too
    short to be an article (under `min_words`) and the balanced one longer, or when the
    precise one holds under LEAD_KEPT of the `lead` paragraphs (the densest block's) and the
    balanced one holds them. Precision mode's class rules sometimes delete the article's
    wrapper (a site name with "bar" in it) and keep a reprint notice, a ticker strip.
    trafilatura's metadata fills what the page's did not."""
    options = dict(url=url, include_comments=False, include_tables=True)
    doc = trafilatura.bare_extraction(page, favor_precision=True, with_metadata=True, **options)
    metadata(found, data, doc)
    body = body_from_trafilatura(doc, found)
    short = text_size(body) < min_words
    lost = text_size(" ".join(lead)) >= min_words and share_kept(body, lead) < LEAD_KEPT
    if short or lost:
        other = body_from_trafilatura(trafilatura.bare_extraction(page, **options), found)
        if _size(other) > _size(body) and (short or share_kept(other, lead) >= LEAD_KEPT):
            body = other
    return body


# ------------------------------------------------------------------ the record

def declared_type(data: Structured) -> str | None:
    """The schema.org type the page declares itself (an article type first)."""
    for kinds in (ARTICLE_TYPES, NON_ARTICLE_TYPES):
        for name in sorted(data.types & kinds):
            return _SCHEMA_NAMES.get(name, name)
    return None


def extract(document: Document, profile, url: str | None) -> Article:
    trafilatura = _trafilatura()
    root = document.tree()
    data = structured_data(root, url)
    found = Found()
    metadata(found, data, None)
    byline_near_title(root, found)
    found.offer("article_type", declared_type(data), "json-ld @type")
    found.offer("_headlines", [_squash(text_of(h1)) for h1 in root.iter("h1")], "<h1>")
    blocks = blocks_of(root)
    prune_boxes(root, _CHROME_NAME, blocks)
    page = trafilatura_load_html(etree.tostring(root, encoding="unicode", method="html"))
    body = main_text(trafilatura, page, url, data, found, profile.min_words,
                     lead_prose(blocks)) if page is not None else None
    found.offer("title", data.title_tag, "<title>")
    found.offer("body", body_from_article_body(blocks, data.article or {}, body),
                "json-ld articleBody, checked against the page")
    found.offer("body", body, "trafilatura main text")
    offer_canonical(found, data, url, data.base_url or url or data.canonical)
    article = to_article(found, url, profile)
    refuse_without_main_text(article, data, profile, prose_size(article.body, blocks))
    return article


def refuse_without_main_text(article: Article, data: Structured, profile, prose: int) -> None:
    """NotAnArticle unless the page has main text: at least the profile's min_words of prose
    (text that is not the page's link lists), or any when the page declares itself an article;
    an error page ("Page not found") has a few lines of prose and is refused too."""
    declared = bool(data.types & ARTICLE_TYPES) or (data.first("og:type") or "").lower() == "article"
    if not article.body or (prose < profile.min_words and not declared):
        kind = "listing" if data.types & LISTING_TYPES and not declared else "other"
        what = f"; JSON-LD type {article.article_type}" if article.article_type and not declared else ""
        raise NotAnArticle(f"no article text ({prose} words of prose{what})", kind=kind)
    if ERROR_TITLE.search(f"{article.title or ''} {data.title_tag or ''}") and prose < ERROR_PAGE_WORDS:
        raise NotAnArticle(f"an error page: {collapse(article.title or data.title_tag)[:60]}", kind="error")
    if not article.title:
        raise NotAnArticle("no title")
