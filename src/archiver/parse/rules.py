"""A profile's own field rules, as data: the extractor of `extractor = "rules"` profiles.

Each field has an ordered list of rules; the first that answers wins (and is kept in
``Article.provenance``). A rule is one of

    {css = "h1.headline"}            elements by a CSS selector (cssselect: CSS 3 selectors)
    {xpath = "//h1[@itemprop='headline']"}
    {label = "Study design:"}        the text after a label, on its line or the next one
    {meta = "og:title"}              a <meta> name/property
    {jsonld = "headline"}            a key of the page's JSON-LD article object
    {value = "The Noctua Letter"}    a constant

with options `attr = "datetime"` (an attribute instead of the text), `all = true` (every match:
one author / keyword / table-of-contents entry each) and `pattern = 'regex'` (its first group,
or the whole match, is the value). Elements a css/xpath/label rule read are not body text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from archiver.errors import NotAnArticle
from archiver.parse.blocks import blocks_of, paragraphs
from archiver.parse.clean import drop
from archiver.parse.fields import Found, offer_canonical, to_article
from archiver.parse.labels import block_of, split_keywords, unique
from archiver.parse.page import Document, absolute, structured_data, text_of
from archiver.parse.text import collapse, find_date, parse_citation, parse_date, split_byline
from archiver.parse.verdict import refuse_by_url
from archiver.profile import css_to_xpath
from archiver.record import Author, IssueArticle

TEXT_FIELDS = ("title", "newsletter", "category", "article_type", "disclosure", "study_type",
               "issue_title")
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "button", "form")


@lru_cache(maxsize=512)
def compiled(rule_kind: str, selector: str) -> etree.XPath:
    """A css or xpath rule's selector, compiled once (profiles check them when they load)."""
    return etree.XPath(css_to_xpath(selector) if rule_kind == "css" else selector)


# ------------------------------------------------------------------ rules

class Page:
    """One page's tree and metadata, and the elements rules have read (kept out of the body)."""

    def __init__(self, root, url):
        self.root = root
        self.data = structured_data(root, url)
        self.base = self.data.base_url or url or self.data.canonical
        self.consumed: list = []

    def select(self, rule: dict) -> list:
        kind = "css" if "css" in rule else "xpath"
        found = compiled(kind, rule[kind])(self.root)
        return found if isinstance(found, list) else [found]

    def label(self, label: str) -> list:
        """Elements holding the value after `label`: its own line, or the next element."""
        wanted = label.strip().lower()
        for node in self.root.iter():
            if not isinstance(node.tag, str) or node.tag in _DROP_TAGS:
                continue
            own = collapse(node.text or "")
            if not own.lower().startswith(wanted):
                continue
            block = block_of(node)
            self.consumed.append(block)
            line = collapse(text_of(block))
            rest = line[len(label.strip()):].strip(" :–—-") if line.lower().startswith(wanted) else ""
            if rest:
                return [(block, rest)]
            following = block.getnext()
            if following is not None:
                self.consumed.append(following)
                return [(following, collapse(text_of(following)))]
            return []
        return []


def _values(page: Page, rule: dict) -> list:
    """(element or None, text) pairs a rule answers with."""
    if "value" in rule:
        return [(None, str(rule["value"]))]
    if "meta" in rule:
        values = page.data.meta_all.get(rule["meta"].lower(), [])
        return [(None, v) for v in values if v.strip()]
    if "jsonld" in rule:
        value = (page.data.article or {}).get(rule["jsonld"])
        if isinstance(value, dict):
            value = value.get("name") or value.get("@id")
        values = value if isinstance(value, list) else [value]
        return [(None, v.get("name") if isinstance(v, dict) else v) for v in values
                if isinstance(v, (str, dict)) and v]
    if "label" in rule:
        pairs = page.label(rule["label"])
        if rule.get("all") and pairs:  # the label's links, one value each
            el = pairs[0][0]
            links = [(a, collapse(text_of(a))) for a in el.iter("a")]
            return links or pairs
        return pairs
    pairs = []
    for el in page.select(rule):
        if isinstance(el, str):  # an XPath selecting text or an attribute
            pairs.append((None, el))
            continue
        page.consumed.append(el)
        attr = rule.get("attr")
        pairs.append((el, el.get(attr, "") if attr else collapse(text_of(el))))
    return pairs


def _apply_pattern(rule: dict, text: str) -> str | None:
    if "pattern" not in rule:
        return text
    match = re.search(rule["pattern"], text)
    if not match:
        return None
    return match.group(1) if match.groups() else match.group(0)


def _describe(rule: dict) -> str:
    for key in ("css", "xpath", "label", "meta", "jsonld", "value"):
        if key in rule:
            return f"{key} {rule[key]!r}" + (f" @{rule['attr']}" if rule.get("attr") else "")
    return "rule"


def _field_value(name: str, rule: dict, pairs: list, page: Page):
    """The field's value from what a rule matched, normalised for the field; None if empty."""
    pairs = [(el, _apply_pattern(rule, collapse(text or ""))) for el, text in pairs]
    pairs = [(el, text) for el, text in pairs if text]
    if not pairs:
        return None
    if not rule.get("all"):
        pairs = pairs[:1]
    texts = [text for _, text in pairs]
    if name == "authors":
        authors: list[Author] = []
        for text in texts:
            authors += [a for a in split_byline(text) if a.name not in {b.name for b in authors}]
        return authors or None
    if name == "published":
        return find_date(texts[0])
    if name == "issue_date":  # an issue is a month: "March 2024" is its 1st
        return parse_date(texts[0], month_only=True)
    if name == "keywords":
        words = [t.lower() for t in texts] if len(texts) > 1 else split_keywords(texts[0])
        return unique(words) or None
    if name == "citation":
        return parse_citation(texts[0])
    if name in ("issue_url", "canonical_url"):
        el, text = pairs[0]
        href = el.get("href") if el is not None and not rule.get("attr") and el.get("href") else text
        return absolute(href, page.base)
    if name == "issue_articles":
        return [IssueArticle(text, absolute(el.get("href"), page.base) if el is not None else None)
                for el, text in pairs] or None
    if name == "paywalled":
        return True
    return " ".join(texts) if name in TEXT_FIELDS else texts[0]


def apply_rules(found: Found, page: Page, fields: dict[str, list[dict]]) -> None:
    """Every field's first answering rule."""
    for name, rules in fields.items():
        if name == "body":
            continue
        for rule in rules:
            if found.offer(name, _field_value(name, rule, _values(page, rule), page), _describe(rule)):
                break


# ------------------------------------------------------------------ body

def body_text(page: Page, rules: list[dict], remove: list[str]) -> tuple[str | None, str | None]:
    """The article's text from the first body rule that selects an element with text."""
    for rule in rules:
        containers = [el for el in page.select(rule) if not isinstance(el, str)]
        if not containers:
            continue
        container = containers[0]
        for selector in remove:
            for el in compiled("css", selector)(container):
                drop(el)
        inside = set(container.iter())
        for el in page.consumed:  # label lines and field elements are not the article's text
            if el in inside and el is not container:
                drop(el)
        for el in list(container.iter(*_DROP_TAGS)):
            drop(el)
        text = "\n\n".join(paragraphs(blocks_of(container)))
        if text:
            return text, _describe(rule)
    return None, None


# ------------------------------------------------------------------ the record

def extract(document: Document, profile, url: str | None):
    refuse_by_url(profile, url)
    page = Page(document.tree(), url)
    found = Found()
    apply_rules(found, page, profile.fields)
    body, body_how = body_text(page, profile.fields.get("body", []), profile.remove)
    found.offer("body", body, body_how)
    offer_canonical(found, page.data, url, page.base)
    article = to_article(found, url, profile)
    if not article.title:
        raise NotAnArticle("no title")
    declared = profile.hint(url) == "article" if url else False
    if not body or (article.word_count < profile.min_words and not declared and not article.paywalled):
        raise NotAnArticle(f"no article text ({article.word_count} words)")
    return article
