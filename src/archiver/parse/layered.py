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

from archiver.parse.bio import author_named, authors_before_disclosure, clean_disclosures
from archiver.parse.blocks import Block, blocks_of, paragraphs
from archiver.parse.clean import article_container, remove_chrome, remove_invisible
from archiver.parse.fields import Found, offer_canonical, to_article
from archiver.parse.header import CREATED, FALLBACK, UNLABELLED, label_of
from archiver.parse.labels import PageLabels, block_text, label_test, page_labels, split_keywords, unique
from archiver.parse.page import (Document, Structured, absolute, is_inside, ld_list, ld_parts,
                                 ld_text, structured_data, text_of)
from archiver.parse.reader import Reader
from archiver.parse.text import collapse, find_date, named_authors, parse_date
from archiver.parse.verdict import refuse_by_url, refuse_non_articles
from archiver.profile import kind_key
from archiver.record import Article, Author, IssueArticle


# ------------------------------------------------------------------ entry point

def extract(document: Document, profile, url: str | None) -> Article:
    refuse_by_url(profile, url)  # a listing or issue URL needs no parse to be refused
    root = document.tree()
    data = structured_data(root, url)
    # Links resolve against <base>, the page URL, its canonical URL — or, for a saved page
    # parsed with none of them, the site itself.
    base = next((u for u in (data.base_url, url, data.canonical, data.first("og:url"))
                 if u and u.startswith(("http://", "https://"))), profile.base_url)
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
        # a box the template names like a paywall and as short as a prompt: the prompt itself
        found.values["_paywall_prompts"] = [el for el in marks.paywall if len(text_of(el)) < 600]
    remove_chrome(root, [container, title_el], marks)
    region = Region.build(root, container, title_el, profile.labels)

    structured_fields(found, data, base, profile)
    template_fields(found, region, base, marks, profile)
    title_field(found, data, title_el, profile)
    Reader(found, region, base, profile).read()
    page_fields(found, page)
    fallback_fields(found, data, url, base, profile)

    if paywall_hint and not found.get("paywalled"):
        found.offer("paywalled", True, paywall_hint)
    found.how["container"] = container_how
    article = build_article(found, url, data, base, profile)
    refuse_non_articles(article, data, url, region.root, profile, found.values.get("_teasers", 0),
                        marks.title_boxes)
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
    def build(cls, root, container, title_el, labels) -> Region:
        if container is None:
            container = root.find("body") if root.find("body") is not None else root
        scope = container
        if title_el is not None and not is_inside(title_el, container):
            common = _common_ancestor(title_el, container)
            if common is not None and _precedes(title_el, container, common):
                scope = common
        blocks = blocks_of(scope)
        if scope is not container:  # from the title's block to the container's last block
            inside = _in_container(blocks, container, scope)
            title_nodes = set(title_el.iter())
            start = next((i for i, b in enumerate(blocks) if b.el in title_nodes), None)
            end = max((i for i, flag in enumerate(inside) if flag), default=None)
            if end is not None:
                end = _through_keywords(blocks, end, labels)
            if start is not None and end is not None:
                # with the lines just above the title (a kind label, a date): never body
                start = max(0, start - _ABOVE_TITLE)
                blocks, inside = blocks[start:end + 1], inside[start:end + 1]
            else:
                blocks = [b for b, flag in zip(blocks, inside) if flag]
                inside = [True] * len(blocks)
            for block, flag in zip(blocks, inside):
                block.in_container = flag
        return cls(scope, container, title_el, blocks)


_ABOVE_TITLE = 3  # lines above the title that may belong to the article (kind label, date)


def _through_keywords(blocks: list[Block], end: int, labels) -> int:
    """The container's last block, or the keywords label a few lines after it (with the
    category line above it): the article's footer outside its text's container."""
    for i in range(end + 1, min(end + 5, len(blocks))):
        if labels.keywords.match(blocks[i].text):
            return i
    return end


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
    site = collapse(data.first("og:site_name")).lower()
    candidates = []
    for h1 in root.iter("h1"):
        text = collapse(text_of(h1))
        if not text or _is_site_heading(h1, text, site, container, profile):
            continue
        candidates.append((h1, text))
    if container is not None:
        for h1, _ in candidates:
            if is_inside(h1, container):
                return h1
    # (the structured and <title> titles are worked out only when the container has no <h1>)
    known = _clean_title(ld_text(data.article, "headline", "name") or data.first("og:title"), data, profile)
    page_title = _clean_title(data.title_tag, data, profile)
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
        if ancestor.tag == "header" and (container is None or not is_inside(container, ancestor)) \
                and not (container is not None and is_inside(ancestor, container)):
            return True
    links = list(h1.iter("a"))
    home = (profile.base_url or "").rstrip("/")
    if len(links) == 1 and (links[0].get("href") or "").rstrip("/") in ("", "/", home):
        return True
    lowered = text.lower()
    return bool(site) and lowered == site or lowered in profile.site_names


def title_field(found: Found, data: Structured, title_el, profile) -> None:
    # (each fallback is worked out only while no rule before it answered)
    if found.offer("title", collapse(ld_text(data.article, "headline")), "json-ld headline"):
        return
    if title_el is not None and found.offer("title", collapse(text_of(title_el)), f"<{title_el.tag}> heading"):
        return
    if found.offer("title", _clean_title(data.first("og:title", "twitter:title"), data, profile), "og:title"):
        return
    if found.offer("title", collapse(data.first("citation_title", "dc.title")), "meta citation_title"):
        return
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
    if data.article:
        _json_ld_fields(found, data.article, base, profile)
    _meta_fields(found, data)


def _json_ld_fields(found: Found, ld: dict, base: str | None, profile) -> None:
    authors = []
    for person in ld_list(ld.get("author")) + ld_list(ld.get("creator")):
        if isinstance(person, dict):
            if "organization" in str(person.get("@type", "")).lower():
                continue
            name = person.get("name") or " ".join(
                filter(None, [person.get("givenName"), person.get("familyName")]))
            suffix = person.get("honorificSuffix")
            authors += named_authors(f"{name}, {suffix}" if suffix else name)
        elif isinstance(person, str):
            authors += named_authors(person)
    found.offer("authors", authors, "json-ld author")
    found.offer("published", find_date(ld_text(ld, "datePublished")), "json-ld datePublished")
    found.offer("published", find_date(ld_text(ld, "dateCreated")), "json-ld dateCreated", CREATED)
    # A section that is a kind of article ("Research Update") is its type, not its category.
    section = collapse(ld_text(ld, "articleSection"))
    kind = profile.labels.article_type(section)
    found.offer("article_type", kind, "json-ld articleSection")
    genre = collapse(ld_text(ld, "genre"))
    found.offer("article_type", profile.labels.article_type(genre) or (genre if len(genre) <= 60 else None),
                "json-ld genre")
    found.offer("category", None if kind else section, "json-ld articleSection")
    newsletters = profile.newsletters
    for part in ld_parts(ld):
        types = str(part.get("@type", "")).lower()
        name = collapse(part.get("name") if isinstance(part.get("name"), str) else None)
        if "periodical" in types or "newsletter" in types or newsletters.name_in(name):
            found.offer("newsletter", newsletters.name_in(name), "json-ld isPartOf periodical")
        if "publicationissue" in types:
            found.offer("issue_title", name, "json-ld isPartOf issue")
            found.offer("issue_date", find_date(ld_text(part, "datePublished")), "json-ld isPartOf issue")
            found.offer("issue_number", ld_text(part, "issueNumber"), "json-ld isPartOf issue")
            issue_url = absolute(ld_text(part, "url", "@id"), base)
            if issue_url and profile.hint(issue_url) == "issue":
                found.offer("issue_url", issue_url, "json-ld isPartOf issue")
        if "publicationvolume" in types:
            found.offer("issue_volume", ld_text(part, "volumeNumber"), "json-ld isPartOf volume")


def _meta_fields(found: Found, data: Structured) -> None:
    if "authors" not in found.values:
        meta_authors = []
        for value in data.meta_all.get("citation_author", []) or data.meta_all.get("author", []) \
                or data.meta_all.get("dc.creator", []):
            meta_authors += named_authors(value)
        found.offer("authors", meta_authors, "meta author")
    if "published" not in found.values:
        # Unlabelled on the page: a date the page labels "Published" beats it.
        found.offer("published", find_date(data.first(
            "article:published_time", "citation_publication_date", "citation_date", "dc.date.issued",
            "dc.date", "date", "pubdate", "publish-date", "datepublished")), "meta published date", UNLABELLED)
    if "category" not in found.values:
        found.offer("category", collapse(data.first("article:section")), "meta article:section")


# ------------------------------------------------------------------ template markup

def template_fields(found: Found, region: Region, base: str | None, marks, profile) -> None:
    """Elements the known template names by class (Drupal's field--name-field-*, byline, ...),
    noted by the first walk; only those in the article's region count."""
    if region.root is None:
        return
    for el, name in marks.template:
        if not is_inside(el, region.root):
            continue
        text = collapse(text_of(el))
        if not text or len(text) > 1500:
            continue
        taken = _template_value(found, name, el, text, profile)
        if taken:
            region.consumed.add(el)


def _template_value(found: Found, name: str, el, text: str, profile) -> bool:
    how = _template_how(el.get("class") or "", name, profile.vocabulary)
    label = label_of(text, profile) if len(text) < 200 and text[:1].isalpha() else None
    if label and label[0] in ("published", "created", "category"):
        how, text = f"{how} (label {label[0]})", label[1]  # "Category: X" is X
    if name == "byline" and len(text) <= 300:
        authors = named_authors(text)
        return bool(authors) and (found.offer("authors", authors, how) or True)
    if name == "published":
        stamp = next((t.get("datetime") for t in el.iter("time") if t.get("datetime")), "")
        date = find_date(stamp) or (find_date(text) if len(text) <= 80 else None)
        if not date and len(text) <= 40 and parse_date(text, month_only=True):
            found.values.setdefault("_month_date", parse_date(text, month_only=True))
            return True
        # "Published On: …" is labelled; "Submitted by … on …" is when the page was made
        rank = 0 if label and label[0] == "published" else CREATED if label and label[0] == "created" else UNLABELLED
        return bool(date) and (found.offer("published", date, how, rank) or True)
    if name == "article_type" and len(text) <= 60:
        return found.offer("article_type", profile.labels.article_type(text) or text, how) or True
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


@lru_cache(maxsize=2048)
def _template_how(classes: str, name: str, vocabulary) -> str:
    """ "template .<the class naming the field>" (pages repeat their class strings)."""
    for token in classes.split():
        if vocabulary.field_of(token) == name:
            return f"template .{token}"
    return f"template .{name}"


def _keywords_in(el, label: re.Pattern) -> list[str]:
    """Keywords of a keywords box: its links, else its text after the label, split."""
    words = [collapse(text_of(a)).lower() for a in el.iter("a")]
    words = [w for w in words if w]
    if words:
        return unique(words)
    text = label.sub("", collapse(text_of(el)))
    return split_keywords(text)


# ------------------------------------------------------------------ page-wide labels

_ORIGIN = re.compile(r"^https?://[^/]+")


def page_fields(found: Found, page: PageLabels) -> None:
    found.offer("issue_date", page.issue_date, "label issue_date (page)")
    found.offer("issue_articles", page.toc, "label toc (page)")
    found.offer("issue_url", page.toc_issue_url, "issue link by the table of contents")
    if not found.get("keywords"):
        found.offer("keywords", page.keywords, "label keywords (page)")
    found.offer("newsletter", page.newsletter, "label from_label (page)")
    if not found.get("_disclosures") and page.disclosed:
        disclosures = page.disclosures
        if disclosures:
            found.values["_disclosures"] = disclosures
            found.how.setdefault("disclosure", "label disclosure (page)")


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
    found.offer("published", found.get("issue_date"), "issue date", FALLBACK)
    found.offer("published", found.values.pop("_month_date", None), "month of the date line (1st)", FALLBACK)
    found.offer("category", found.values.pop("_breadcrumb_category", None), "breadcrumb link")
    newsletters = profile.newsletters
    values = found.values
    if "newsletter" not in values:
        found.offer("newsletter", newsletters.name_in(data.first("citation_journal_title")), "meta citation_journal_title")
    if values.get("issue_url"):
        newsletter, volume, number = newsletters.issue_of_url(values["issue_url"])
        found.offer("newsletter", newsletter or profile.newsletter_of_issue(values["issue_url"]), "issue URL code")
        found.offer("issue_volume", volume, "issue URL code")
        found.offer("issue_number", number, "issue URL code")
    if "newsletter" not in values:
        found.offer("newsletter", newsletters.name_in(data.first("og:site_name")), "og:site_name")
    if "article_type" not in values:
        article_type_fallbacks(found, url or found.get("canonical_url") or data.canonical, profile)
    if "keywords" in values:
        return
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


def article_type_fallbacks(found: Found, url: str | None, profile) -> None:
    """A kind of article the title starts with ("Expert Q&A: …", "CME Post-Test - …") or the
    URL's slug does (/articles/1843-expert-qa-…)."""
    labels = profile.labels
    title = found.get("title") or ""
    for separator in (": ", " - ", " – ", " — "):
        if separator in title:
            found.offer("article_type", labels.article_type(title.split(separator, 1)[0]), "title prefix")
    if url and labels.article_types and not found.get("article_type"):
        slug = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        words = kind_key(slug.replace("-", " "))
        if words and words[0].isdigit():  # "1843-expert-qa-…": the id goes first
            words = words[1:]
        kinds = labels.article_types
        found.offer("article_type", next((kinds[words[:size]] for size in range(min(len(words), 6), 0, -1)
                                          if words[:size] in kinds), None), "URL slug")


# ------------------------------------------------------------------ paywall

def paywall_signal(container, ld: dict, marks, profile) -> str | None:
    """Why the page looks like a subscriber teaser, or None. Read before chrome removal (the
    prompt box is often called "subscribe-…")."""
    if container is None:
        return None
    if any(is_inside(el, container) for el in marks.paywall):
        return "paywall markup"
    for el, text in marks.texts:  # noted by the first walk (`label_test`)
        if "ubscri" in text and is_inside(el, container) and profile.labels.paywall.search(block_text(el)):
            return "paywall prompt text"
    if ld.get("isAccessibleForFree") in (False, "False", "false"):
        selector = ld_text(ld.get("hasPart") if isinstance(ld.get("hasPart"), dict) else None, "cssSelector")
        if selector and selector.startswith(".") and not container.xpath(
                f".//*[contains(concat(' ',normalize-space(@class),' '),' {selector[1:]} ')]"):
            return "json-ld isAccessibleForFree=false, paywalled part absent"
    return None


# ------------------------------------------------------------------ assembling the record

def build_article(found: Found, url, data: Structured, base, profile) -> Article:
    """The working notes settled into fields (body, authors, disclosure, canonical URL), then
    the record."""
    body = "\n\n".join(paragraphs(found.values.pop("_body_blocks", [])))
    if body:
        found.offer("body", body, f"paragraphs of the article container ({found.how.get('container')})")
    if not found.get("authors"):
        found.offer("authors", authors_before_disclosure(found.get("_disclosures", [])),
                    "name before the disclosure")
    authors = found.get("authors", [])
    _credentials_from_bylines(found, authors)
    disclosure, in_disclosures = clean_disclosures(found.values.pop("_disclosures", []), profile.labels)
    found.values["disclosure"] = disclosure
    _affiliations(found, authors, in_disclosures)
    offer_canonical(found, data, url, base)
    if "canonical_url" not in found.values:  # a saved page parsed without its URL: its own entry in the issue's contents
        found.offer("canonical_url", _own_toc_entry(found.get("title"), found.get("issue_articles", []), profile),
                    "table of contents entry with this title")
    return to_article(found, url, profile)


def _own_toc_entry(title: str | None, entries: list[IssueArticle], profile) -> str | None:
    urls = {entry.url for entry in entries if title and entry.title == title and entry.url}
    url = urls.pop() if len(urls) == 1 else None
    return url if url and profile.hint(url) == "article" else None


def _affiliations(found: Found, authors: list[Author], in_disclosures: list[tuple]) -> None:
    """Each author's affiliation: the bio box's paragraph after the author's name (or before a
    disclosure), else the sentences before the statement in a disclosure block, else the role
    line under the byline. Matched to the author by name; with one author, it is theirs."""
    def owner(name: str | None, *texts: str) -> Author | None:
        author = next((a for a in authors if a.name == name), None) if name else None
        for text in texts:
            author = author or author_named(text, authors)
        return author or (authors[0] if len(authors) == 1 else None)

    sources = (  # (rule, [(author, text)]) in order of preference
        ("bio box paragraph", [(owner(name, text, disclosure), text)
                               for name, text, disclosure in found.values.pop("_affiliations", [])]),
        ("bio box, before the disclosure", [(owner(_lead_name(names), statement, text), text)
                                            for names, text, statement in in_disclosures]),
        ("role line under the byline", [(owner(name), role) for name, role in found.values.pop("_roles", [])]),
    )
    for how, pairs in sources:
        texts: dict[str, list[str]] = {}
        for author, text in pairs:
            if author is not None and not author.affiliation:
                texts.setdefault(author.name, []).append(text)
        for author in authors:
            if author.name in texts:
                author.affiliation = " ".join(texts[author.name])
                found.how.setdefault("authors.affiliation", how)


def _lead_name(names: list[str]) -> str | None:
    authors = named_authors(names[0]) if names else []
    return authors[0].name if authors else None


def _credentials_from_bylines(found: Found, authors: list[Author]) -> None:
    """Structured data often names authors without credentials; the visible byline has them."""
    for byline in found.values.pop("_bylines", []):
        by_name = {a.name: a.credentials for a in byline}
        for author in authors:
            if not author.credentials and by_name.get(author.name):
                author.credentials = list(by_name[author.name])


