"""The layered extractor: for each field an ordered list of strategies, the first that answers wins.

    structured data (JSON-LD, <meta>)  ->  the template's markup (Drupal field classes)
    ->  textual labels that survive redesigns ("Review of:", "Issue Date:", "KEYWORDS", ...)
    ->  position and shape (a date line under the title, a byline with credentials)

Everything site-specific it consults — class words, labels, newsletter names, URL hints, the site's
own names — comes from the profile it is given (see archiver.profile and defaults.toml), so any
site's TOML can use it. The strategy that answered each field is recorded in
``Article.provenance`` (shown by ``archiver parse --explain``), so when the site changes its
markup a maintainer sees which rule stopped answering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from archiver.parse.blocks import Block, blocks_of, paragraphs
from archiver.parse.clean import article_container, remove_chrome, remove_invisible
from archiver.parse.fields import Found, offer_canonical, to_article
from archiver.parse.labels import PageLabels, block_text, label_test, page_labels, split_keywords, unique
from archiver.parse.page import (Document, Structured, absolute, ld_list, ld_parts, ld_text,
                                 structured_data, text_of)
from archiver.parse.text import (collapse, find_date, is_date_line, looks_like_name,
                                 parse_citation, parse_date, split_byline)
from archiver.parse.verdict import refuse_by_url, refuse_non_articles
from archiver.record import Article, Author, IssueArticle


# ------------------------------------------------------------------ entry point

def extract(document: Document, profile, url: str | None) -> Article:
    refuse_by_url(profile, url)  # a listing or issue URL needs no parse to be refused
    root = document.tree()
    data = structured_data(root, url)
    # Links resolve against <base>, the page URL, its canonical URL — or, for a saved page
    # parsed with none of them, the site itself.
    base = (data.base_url or url or data.canonical or absolute(data.first("og:url"), None)
            or profile.base_url)
    ld = data.article or {}
    found = Found()
    marks = remove_invisible(root, profile.vocabulary, label_test(profile))

    container, container_how = article_container(root, marks)
    title_el = title_element(root, container, data, profile)
    paywall_hint = paywall_signal(container, ld, marks, profile)
    page = page_labels(marks, base, profile)
    found.offer("_breadcrumb_category", _breadcrumb_category(marks, base, profile), "breadcrumb link")

    if paywall_hint:
        found.values["_paywalled"] = True
    remove_chrome(root, [container, title_el], marks)
    region = Region.build(root, container, title_el)

    structured_fields(found, data, base, profile)
    template_fields(found, region, base, marks, profile)
    title_field(found, data, title_el, profile)
    read_blocks(found, region, base, profile)
    page_fields(found, page)
    fallback_fields(found, data, url, base, profile)

    if paywall_hint and not found.get("paywalled"):
        found.offer("paywalled", True, paywall_hint)
    found.how["container"] = container_how
    article = build_article(found, url, data, base, profile)
    refuse_non_articles(article, data, url, region.root, profile)
    return article


# ------------------------------------------------------------------ the region

@dataclass
class Region:
    """The article's part of the page: from its title to the end of its container."""

    root: etree._Element | None
    container: etree._Element | None
    title_el: etree._Element | None
    blocks: list[Block]
    consumed: set = field(default_factory=set)  # template elements already read into fields

    @classmethod
    def build(cls, root, container, title_el) -> Region:
        if container is None:
            container = root.find("body") if root.find("body") is not None else root
        scope = container
        if title_el is not None and not _is_inside(title_el, container):
            common = _common_ancestor(title_el, container)
            if common is not None and _precedes(title_el, container, common):
                scope = common
        blocks = blocks_of(scope)
        if scope is not container:  # from the title's block to the container's last block
            inside = _in_container(blocks, container, scope)
            title_nodes = set(title_el.iter())
            start = next((i for i, b in enumerate(blocks) if b.el in title_nodes), None)
            end = max((i for i, flag in enumerate(inside) if flag), default=None)
            if start is not None and end is not None:
                blocks, inside = blocks[start:end + 1], inside[start:end + 1]
            else:
                blocks = [b for b, flag in zip(blocks, inside) if flag]
                inside = [True] * len(blocks)
            for block, flag in zip(blocks, inside):
                block.in_container = flag
        return cls(scope, container, title_el, blocks)


def _in_container(blocks: list[Block], container, scope) -> list[bool]:
    """For each block of `scope`, is its element inside `container` (itself inside `scope`)?
    A climb of a few parents per block, stopping at the container or the scope: a set of
    every element of the container cost a third of the region's build (a proxy object kept
    alive per element)."""
    flags = []
    for block in blocks:
        el = block.el
        while el is not container and el is not scope:
            el = el.getparent()
        flags.append(el is container)
    return flags


def _is_inside(el, ancestor) -> bool:
    # A climb with getparent(): a quarter of the cost of any() over iterancestors().
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


def _common_ancestor(a, b):
    ancestors_of_a = {id(x): x for x in a.iterancestors()}
    for x in b.iterancestors():
        if id(x) in ancestors_of_a:
            return x
    return None


def _precedes(a, b, common) -> bool:
    """Is `a` before `b` in document order (both under `common`)?"""
    def child_of_common(el):
        while el.getparent() is not common:
            el = el.getparent()
        return el
    ca, cb = child_of_common(a), child_of_common(b)
    return common.index(ca) < common.index(cb)


# ------------------------------------------------------------------ title

def title_element(root, container, data: Structured, profile):
    """The element showing the title: an <h1> in the container, else the <h1> matching the
    structured or <title> title, else the first <h1> that is not the site's logo, else a
    heading in the container matching the <title>, else one classed as a title."""
    known = _clean_title(ld_text(data.article, "headline", "name") or data.first("og:title"), data, profile)
    page_title = _clean_title(data.title_tag, data, profile)
    site = collapse(data.first("og:site_name")).lower()
    candidates = []
    for h1 in root.iter("h1"):
        text = collapse(text_of(h1))
        if not text or _is_site_heading(h1, text, site, container, profile):
            continue
        candidates.append((h1, text))
    if container is not None:
        for h1, _ in candidates:
            if _is_inside(h1, container):
                return h1
    for h1, text in candidates:
        if text in (known, page_title):
            return h1
    if candidates:
        return candidates[0][0]
    # A title may sit just before the container (old themes), so look in its parent too.
    scope = container.getparent() if container is not None and container.getparent() is not None \
        else (container if container is not None else root)
    headings = list(scope.iter("h2", "h3"))
    for heading in headings:
        if collapse(text_of(heading)) in (known, page_title):
            return heading
    for heading in headings:
        if "title" in (heading.get("class") or "") and len(text_of(heading)) < 200:
            return heading
    return None


def _is_site_heading(h1, text: str, site: str, container, profile) -> bool:
    """An <h1> holding the site's name or logo (old themes), or sitting in navigation."""
    for ancestor in h1.iterancestors():
        if ancestor.tag in ("nav", "footer", "aside"):
            return True
        if ancestor.tag == "header" and (container is None or not _is_inside(container, ancestor)) \
                and not (container is not None and _is_inside(ancestor, container)):
            return True
    links = list(h1.iter("a"))
    home = (profile.base_url or "").rstrip("/")
    if len(links) == 1 and (links[0].get("href") or "").rstrip("/") in ("", "/", home):
        return True
    lowered = text.lower()
    return bool(site) and lowered == site or lowered in profile.site_names


def title_field(found: Found, data: Structured, title_el, profile) -> None:
    found.offer("title", collapse(ld_text(data.article, "headline")), "json-ld headline")
    if title_el is not None:
        found.offer("title", collapse(text_of(title_el)), f"<{title_el.tag}> heading")
    found.offer("title", _clean_title(data.first("og:title", "twitter:title"), data, profile), "og:title")
    found.offer("title", collapse(data.first("citation_title", "dc.title")), "meta citation_title")
    found.offer("title", _clean_title(data.title_tag, data, profile), "<title> minus site name")


def _clean_title(title: str | None, data: Structured, profile) -> str | None:
    """ "Is Ketamine Just Another Opiate? | Publisher" -> the part before the site's name."""
    title = collapse(title)
    if not title:
        return None
    site = collapse(data.first("og:site_name")).lower()
    for separator in (" | ", " – ", " — ", " - ", " :: ", " · "):
        if separator in title:
            head, tail = title.rsplit(separator, 1)
            tail = tail.lower()
            if any(name in tail for name in profile.site_names) or (site and tail == site):
                return head.strip()
    return title


# ------------------------------------------------------------------ structured data

def structured_fields(found: Found, data: Structured, base: str | None, profile) -> None:
    ld = data.article or {}
    authors = []
    for person in ld_list(ld.get("author")) + ld_list(ld.get("creator")):
        if isinstance(person, dict):
            if "organization" in str(person.get("@type", "")).lower():
                continue
            name = person.get("name") or " ".join(
                filter(None, [person.get("givenName"), person.get("familyName")]))
            suffix = person.get("honorificSuffix")
            authors += _named_authors(f"{name}, {suffix}" if suffix else name)
        elif isinstance(person, str):
            authors += _named_authors(person)
    found.offer("authors", authors, "json-ld author")
    found.offer("published", find_date(ld_text(ld, "datePublished", "dateCreated")), "json-ld datePublished")
    found.offer("category", collapse(ld_text(ld, "articleSection")), "json-ld articleSection")
    newsletters = profile.newsletters
    for part in ld_parts(ld):
        types = str(part.get("@type", "")).lower()
        name = collapse(part.get("name") if isinstance(part.get("name"), str) else None)
        if "periodical" in types or "newsletter" in types or newsletters.name_in(name):
            found.offer("newsletter", newsletters.name_in(name), "json-ld isPartOf periodical")
        if "publicationissue" in types:
            found.offer("issue_title", name, "json-ld isPartOf issue")
            found.offer("issue_date", find_date(ld_text(part, "datePublished")), "json-ld isPartOf issue")
            issue_url = absolute(ld_text(part, "url", "@id"), base)
            if issue_url and profile.hint(issue_url) == "issue":
                found.offer("issue_url", issue_url, "json-ld isPartOf issue")
    meta_authors = []
    for value in data.meta_all.get("citation_author", []) or data.meta_all.get("author", []) \
            or data.meta_all.get("dc.creator", []):
        meta_authors += _named_authors(value)
    found.offer("authors", meta_authors, "meta author")
    found.offer("published", find_date(data.first(
        "article:published_time", "citation_publication_date", "citation_date", "dc.date.issued",
        "dc.date", "date", "pubdate", "publish-date", "datepublished")), "meta published date")
    found.offer("category", collapse(data.first("article:section")), "meta article:section")


_BYLINE_WORDS = {"and", "by", "with", "de", "da", "van", "von", "der", "del", "la", "le", "di",
                 "du", "bin", "written", "interviewed"}


def _named_authors(text: str | None) -> list[Author]:
    """Authors from a byline-like string, only if every name looks like a person's."""
    if not text or len(text) > 300:  # a byline is short; splitting prose is wasted work
        return []
    lowercase = 0
    for word in text.split():
        if word[0].islower() and word not in _BYLINE_WORDS:
            lowercase += 1
            if lowercase > 1:  # prose, not names: "Dr. Roe has disclosed ..."
                return []
    authors = split_byline(text)
    if authors and all(looks_like_name(a.name) for a in authors):
        return authors
    return []


# ------------------------------------------------------------------ template markup

def template_fields(found: Found, region: Region, base: str | None, marks, profile) -> None:
    """Elements the known template names by class (Drupal's field--name-field-*, byline, ...),
    noted by the first walk; only those in the article's region count."""
    if region.root is None:
        return
    for el, name in marks.template:
        if not _is_inside(el, region.root):
            continue
        text = collapse(text_of(el))
        if not text or len(text) > 1500:
            continue
        taken = _template_value(found, name, el, text, profile)
        if taken:
            region.consumed.add(el)


def _template_value(found: Found, name: str, el, text: str, profile) -> bool:
    how = f"template .{_class_for(el, name, profile.vocabulary)}"
    if name == "byline" and len(text) <= 300:
        authors = _named_authors(text)
        return bool(authors) and (found.offer("authors", authors, how) or True)
    if name == "published":
        stamp = next((t.get("datetime") for t in el.iter("time") if t.get("datetime")), "")
        date = find_date(stamp) or (find_date(text) if len(text) <= 80 else None)
        if not date and len(text) <= 40 and parse_date(text, month_only=True):
            found.values.setdefault("_month_date", parse_date(text, month_only=True))
            return True
        return bool(date) and (found.offer("published", date, how) or True)
    if name == "newsletter":
        value = profile.newsletters.name_in(text)
        return bool(value) and (found.offer("newsletter", value, how) or True)
    if name == "disclosure":
        found.values.setdefault("_disclosures", []).append(text)
        found.how.setdefault("disclosure", how)
        return True
    if name == "category" and len(text) <= 80:
        return found.offer("category", text, how) or True
    if name == "keywords":
        keywords = _keywords_in(el, profile.labels.keywords)
        return bool(keywords) and (found.offer("keywords", keywords, how) or True)
    return False


def _class_for(el, name: str, vocabulary) -> str:
    for token in (el.get("class") or "").split():
        if vocabulary.field_of(token) == name:
            return token
    return name


def _keywords_in(el, label: re.Pattern) -> list[str]:
    """Keywords of a keywords box: its links, else its text after the label, split."""
    words = [collapse(text_of(a)).lower() for a in el.iter("a")]
    words = [w for w in words if w]
    if words:
        return unique(words)
    text = label.sub("", collapse(text_of(el)))
    return split_keywords(text)


# ------------------------------------------------------------------ the region's blocks

def read_blocks(found: Found, region: Region, base: str | None, profile) -> None:
    """Walk the region's blocks: labelled lines go to their fields, the header (date, byline)
    and footer (category, keywords, author box) are set aside, the rest is the body."""
    skipped = set()  # elements already read (template fields) and the title's
    for el in region.consumed:
        skipped.update(el.iter())
    if region.title_el is not None:
        skipped.update(region.title_el.iter())
    title = found.get("title")
    body: list[Block] = []
    in_header = True
    stop = False
    pending_label = None  # a label alone on its line ("Review of:") takes the next line
    disclosures = found.values.setdefault("_disclosures", [])
    labels, line_labels = profile.labels, _line_labels(profile.labels)
    for block in region.blocks:
        if stop:
            break
        if block.el in skipped:
            continue
        text = block.text
        if in_header and title and text == title:
            continue
        if pending_label:
            _label_value(found, pending_label, text, profile)
            pending_label = None
            continue
        label = _label_of(text, line_labels, profile)
        if label:
            name, rest = label
            if name == "keywords":
                if rest and block.link_density < 0.5:  # "Keywords: a, b, c" as plain text
                    found.offer("keywords", split_keywords(rest), "label “Keywords:” text")
                stop = True
                continue
            if name in ("citation", "study_type") and not rest:
                pending_label = name
                continue
            _label_value(found, name, rest, profile)
            continue
        if len(text) < 1200 and _maybe_disclosure(text) and labels.disclosure.search(text):
            disclosures.append(text)
            found.how.setdefault("disclosure", "text “… has disclosed …”")
            continue
        if labels.breadcrumb.match(text) or labels.issue_links.match(text):
            continue
        if labels.author_box_end.match(text):
            stop = True
            continue
        if len(text) < 600 and _maybe_paywall(text) and labels.paywall.search(text):
            found.offer("paywalled", True, "paywall prompt text")
            stop = True
            continue
        if found.get("_paywalled") and len(text) < 400 and labels.gate.search(text):
            stop = True  # a known teaser: the subscription box ends the visible text
            continue
        if in_header and _header_line(found, block, profile):
            continue
        if block.group is None and block.link_density > 0.9 and _short_links(block):
            _link_line(found, block, base, profile)
            continue
        if not block.in_container:
            continue  # between the title and the article: metadata or chrome, never the body
        in_header = False
        body.append(block)
    # A short Title Case line closing the article, just above the keywords, is its category.
    if stop and body and _is_category_line(body[-1]):
        found.offer("category", body[-1].text, "line above KEYWORDS")
        body.pop()
    found.values["_body_blocks"] = body


def _maybe_disclosure(text: str) -> bool:
    """Cheap test before DISCLOSURE's regex (which is slow on every paragraph)."""
    return "isclos" in text or "inancial" in text or "onflict" in text


def _maybe_paywall(text: str) -> bool:
    """Cheap test before PAYWALL's regex: substrings that match either case."""
    return ("ubscri" in text or "og in" in text or "ogin" in text or "ign in" in text
            or "full" in text or "urchase" in text or "ree article" in text or "eading" in text)


_INLINE_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def _one_of(patterns: dict[str, re.Pattern]) -> re.Pattern:
    """One regex trying `patterns` in order (each with its own flags), the name of the one that
    matched as `lastgroup`: one match call per line instead of one per label."""
    def scoped(pattern: re.Pattern) -> str:
        text = _INLINE_FLAGS.sub("", pattern.pattern)  # "(?i)..." becomes "(?i:...)" below
        return f"(?i:{text})" if pattern.flags & re.I else f"(?:{text})"
    return re.compile("|".join(f"(?P<{name}>{scoped(p)})" for name, p in patterns.items()))


@lru_cache(maxsize=64)
def _line_labels(labels) -> re.Pattern:
    """The labels a line of the article region may start with, as one regex (per profile)."""
    return _one_of({name: getattr(labels, name)
                    for name in ("citation", "study_type", "published", "issue_date", "keywords")})


def _label_of(text: str, line_labels: re.Pattern, profile):
    match = line_labels.match(text)
    if match:
        return match.lastgroup, text[match.end():].strip()
    from_label = profile.newsletters.from_label
    match = from_label.match(text) if from_label is not None and text.startswith("From") else None
    if match and len(text) < 120:
        return "newsletter", match.group(1)
    return None


def _label_value(found: Found, name: str, value: str, profile) -> None:
    if name == "citation":
        found.offer("citation", parse_citation(value), "label “Review of:”")
    elif name == "study_type":
        found.offer("study_type", value, "label “Type of study:”")
    elif name == "published":
        found.offer("published", find_date(value), "label “Published On:”")
    elif name == "issue_date":  # an issue is a month: "Issue Date: March 2021" is its 1st
        found.offer("issue_date", parse_date(value, month_only=True), "label “Issue Date:”")
    elif name == "newsletter":
        found.offer("newsletter", profile.newsletters.name_in(value), FROM_LABEL)


FROM_LABEL = "label “From <newsletter>”"


def _header_line(found: Found, block: Block, profile) -> bool:
    """Lines between the title and the text: a byline, a date, "From The Carlat … Report", or
    several of them on one line ("By A, MD · May 6, 2024"). A line with anything else in it
    is not a header line, and nothing is taken from it."""
    text = block.text
    if len(text) > 300 or text.endswith(("?", "!")):
        return False
    values = []
    for part in filter(None, (p.strip() for p in _HEADER_SEPARATORS.split(text))):
        value = _header_part(part, profile)
        if value is None:
            return False
        values.extend(value)
    for name, value, how in values:
        found.offer(name, value, how)
        if name == "authors":
            found.values.setdefault("_bylines", []).append(value)
    return bool(values)


_HEADER_SEPARATORS = re.compile(r"\s+[·|•]\s+|\s+[–—]\s+(?=[A-Z0-9])|\n")


_VOLUME_ISSUE = re.compile(r"(?i)^vol(?:ume)?\.?\s*\d+,?\s*(?:no\.?|number|issue)\s*\d+$")


def _header_part(part: str, profile):
    """[(field, value, strategy)] for one piece of a header line, or None if it is not one."""
    newsletters = profile.newsletters
    newsletter = newsletters.from_label.search(part) if newsletters.from_label is not None else None
    rest = part.replace(newsletter.group(0), " ").strip() if newsletter else part
    found = []
    if newsletter:
        found.append(("newsletter", newsletters.name_in(newsletter.group(1)), FROM_LABEL))
    if rest and _VOLUME_ISSUE.match(rest):
        # "Volume 37, Number 1": the issue's number, set aside (the issue is known by its date)
        found.append(("_volume", rest, "volume line under the title"))
    elif rest and is_date_line(rest):
        found.append(("published", find_date(rest), "date line under the title"))
    # Length first: the article's first paragraph gets this far, and the four date regexes
    # over a whole paragraph cost more than all the other header tests.
    elif rest and len(rest) < 30 and parse_date(rest, month_only=True):
        found.append(("_month_date", parse_date(rest, month_only=True), "month line under the title"))
    elif rest:
        authors = _named_authors(rest)
        if not authors or not (any(a.credentials for a in authors) or rest[:3].lower() == "by "):
            return None
        found.append(("authors", authors, "byline under the title"))
    return found


_ORIGIN = re.compile(r"^https?://[^/]+")


def _link_line(found: Found, block: Block, base, profile) -> None:
    """A line that is only a link: a category link becomes the category; others are chrome."""
    links = [a for a in block.el.iter("a") if a.get("href") is not None]
    if len(links) == 1:
        href = absolute(links[0].get("href"), base) or ""
        path = _ORIGIN.sub("", href)
        if profile.vocabulary.category_path.match(path) or profile.hint(href) == "listing":
            found.offer("category", block.text, "category link")


def _short_links(block: Block) -> bool:
    """A line of buttons or menu links: every link's text is short (≤ 8 words)."""
    links = list(block.el.iter("a"))
    return bool(links) and all(len(text_of(a).split()) <= 8 for a in links)


def _is_category_line(block: Block) -> bool:
    words = block.text.split()
    return (0 < len(words) <= 5 and not block.is_heading and block.group is None
            and not re.search(r"[.:;!?]$", block.text)
            and all(w[:1].isupper() or w in ("and", "&", "of", "the") for w in words))


# ------------------------------------------------------------------ page-wide labels


def page_fields(found: Found, page: PageLabels) -> None:
    found.offer("issue_date", page.issue_date, "label “Issue Date:”")
    found.offer("issue_articles", page.toc, "label “Table Of Contents”")
    found.offer("issue_url", page.toc_issue_url, "issue link by the table of contents")
    found.offer("keywords", page.keywords, "label “KEYWORDS”")
    found.offer("newsletter", page.newsletter, FROM_LABEL)
    if not found.get("_disclosures") and page.disclosures:
        found.values["_disclosures"] = list(page.disclosures)
        found.how.setdefault("disclosure", "text “… has disclosed …” (page)")


def _breadcrumb_category(marks, base, profile) -> str | None:
    """ "Home » General Psychiatry » Title": a breadcrumb link to a category or listing page."""
    for el in marks.chrome:
        if "breadcrumb" not in f"{el.get('class') or ''} {el.get('id') or ''}".lower():
            continue
        for link in el.iter("a"):
            href = absolute(link.get("href"), base) or ""
            path = _ORIGIN.sub("", href)
            text = collapse(text_of(link))
            if text and (profile.vocabulary.category_path.match(path) or profile.hint(href) == "listing") \
                    and not profile.newsletters.name_in(text):  # a newsletter is not a category
                return text
    return None


def fallback_fields(found: Found, data: Structured, url, base, profile) -> None:
    found.offer("published", found.get("issue_date"), "issue date")
    found.offer("published", found.values.pop("_month_date", None), "month of the date line (1st)")
    found.offer("category", found.values.pop("_breadcrumb_category", None), "breadcrumb link")
    journal = data.first("citation_journal_title")
    found.offer("newsletter", profile.newsletters.name_in(journal), "meta citation_journal_title")
    found.offer("newsletter", profile.newsletter_of_issue(found.get("issue_url")), "issue URL code")
    # Keywords "as displayed": the page's keyword links (template, label) come first; JSON-LD
    # and <meta> keywords only when the page shows none.
    ld_keywords = (data.article or {}).get("keywords")
    if isinstance(ld_keywords, str):
        ld_keywords = re.split(r"\s*[,;]\s*", ld_keywords)
    found.offer("keywords", unique([collapse(k).lower() for k in ld_list(ld_keywords)
                                     if isinstance(k, str) and collapse(k)]), "json-ld keywords")
    keywords = data.first("keywords", "news_keywords")
    if keywords:
        found.offer("keywords", split_keywords(keywords), "meta keywords")


# ------------------------------------------------------------------ paywall

def paywall_signal(container, ld: dict, marks, profile) -> str | None:
    """Why the page looks like a subscriber teaser, or None. Read before chrome removal (the
    prompt box is often called "subscribe-…")."""
    if container is None:
        return None
    if any(_is_inside(el, container) for el in marks.paywall):
        return "paywall markup"
    for el, text in marks.texts:  # noted by the first walk (`label_test`)
        if "ubscri" in text and _is_inside(el, container) and profile.labels.paywall.search(block_text(el)):
            return "paywall prompt text"
    if ld.get("isAccessibleForFree") in (False, "False", "false"):
        selector = ld_text(ld.get("hasPart") if isinstance(ld.get("hasPart"), dict) else None, "cssSelector")
        if selector and selector.startswith(".") and not container.xpath(
                f".//*[contains(concat(' ',normalize-space(@class),' '),' {selector[1:]} ')]"):
            return "json-ld isAccessibleForFree=false, paywalled part absent"
    return None


# ------------------------------------------------------------------ assembling the record

_DISCLOSURE_LABEL = re.compile(r"^Disclosures?\s*:\s*", re.I)
_NAME_BEFORE_HONORIFIC = re.compile(r"^(.{3,160}?)\s+(?=(?:Dr|Mr|Ms|Mrs|Mx|Prof)\.?\s)")


def _clean_disclosure(texts: list[str], authors: list[Author]) -> str | None:
    """Disclosure statements without the author name the site repeats in front of them."""
    statements = []
    for text in texts:
        text = _DISCLOSURE_LABEL.sub("", collapse(text))
        # "Dr. Simon Achebe, MD, PhD Dr. Achebe has disclosed ..." (no full stop after the name)
        lead = _NAME_BEFORE_HONORIFIC.match(text)
        if lead and not lead.group(1).endswith(".") and _is_pure_byline(lead.group(1)):
            text = text[lead.end():]
        sentences = _sentences(text)
        kept = [s for s in sentences if not _is_pure_byline(s)]
        cleaned = " ".join(kept).strip()
        if cleaned and cleaned not in statements:
            statements.append(cleaned)
    return " ".join(statements) or None


_ABBREVIATIONS = re.compile(r"(?:\b(?:Dr|Mr|Ms|Mrs|Mx|Prof|St|vs|Jr|Sr|e\.g|i\.e|al)|(?:^|\s)[A-Z])\.$")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(text: str) -> list[str]:
    pieces = _SENTENCE_END.split(text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATIONS.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def _is_pure_byline(sentence: str) -> bool:
    if len(sentence) >= 200:
        return False
    authors = _named_authors(sentence)
    return bool(authors) and any(a.credentials for a in authors)


def build_article(found: Found, url, data: Structured, base, profile) -> Article:
    """The working notes settled into fields (body, authors, disclosure, canonical URL), then
    the record."""
    body = "\n\n".join(paragraphs(found.values.pop("_body_blocks", [])))
    if body:
        found.offer("body", body, f"paragraphs of the article container ({found.how.get('container')})")
    if not found.get("authors"):
        found.offer("authors", _authors_before_disclosure(found.get("_disclosures", [])),
                    "name before the disclosure")
    _credentials_from_bylines(found, found.get("authors", []))
    found.values["disclosure"] = _clean_disclosure(found.values.pop("_disclosures", []), found.get("authors", []))
    offer_canonical(found, data, url, base)
    # a saved page parsed without its URL: its own entry in the issue's contents
    found.offer("canonical_url", _own_toc_entry(found.get("title"), found.get("issue_articles", []), profile),
                "table of contents entry with this title")
    return to_article(found, url, profile)


def _own_toc_entry(title: str | None, entries: list[IssueArticle], profile) -> str | None:
    urls = {entry.url for entry in entries if title and entry.title == title and entry.url}
    url = urls.pop() if len(urls) == 1 else None
    return url if url and profile.hint(url) == "article" else None


def _authors_before_disclosure(texts: list[str]) -> list[Author]:
    """ "Michael Posternak, MD. Dr. Posternak has disclosed ...": the site repeats the byline in
    front of each statement, which names the authors when no byline is marked."""
    authors: list[Author] = []
    for text in texts:
        for sentence in _sentences(collapse(text)):
            if not _is_pure_byline(sentence):
                break
            authors += [a for a in _named_authors(sentence) if a.name not in {b.name for b in authors}]
    return authors


def _credentials_from_bylines(found: Found, authors: list[Author]) -> None:
    """Structured data often names authors without credentials; the visible byline has them."""
    for byline in found.values.pop("_bylines", []):
        by_name = {a.name: a.credentials for a in byline}
        for author in authors:
            if not author.credentials and by_name.get(author.name):
                author.credentials = list(by_name[author.name])


