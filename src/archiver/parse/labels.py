"""Textual labels that survive redesigns, and the page-wide ones read from anywhere on the page.

"Review of:", "Type of study:", "Issue Date:", "KEYWORDS", "Table Of Contents", "From The
Carlat … Report", "… has disclosed …": a redesign may move them or change their markup, but
rarely their words. The sidebar's labels (issue date, table of contents) are noted during the
first walk (`label_kind`) and read here before the sidebar is removed as chrome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archiver.parse import carlat
from archiver.parse.page import absolute, text_of
from archiver.parse.text import collapse, find_date, parse_date
from archiver.record import IssueArticle

# A label is followed by a colon, or stands alone on its line (its value on the next): so
# "Review of the literature shows ..." in the text is not a citation.
CITATION_LABEL = re.compile(r"^Review(?:ed)?\s+of\s*(?::\s*|$)", re.I)
STUDY_TYPE_LABEL = re.compile(r"^(?:Type\s+of\s+study|Study\s+type|Study\s+design)\s*(?::\s*|$)", re.I)
PUBLISHED_LABEL = re.compile(r"^(?:Published|Posted|Publication\s+date|Date\s+published)(?:\s+on)?\s*:\s*", re.I)
ISSUE_DATE_LABEL = re.compile(r"^Issue\s+Date\b\s*:?\s*", re.I)
ISSUE_LINKS_LABEL = re.compile(r"^Issue\s+Links\s*:", re.I)
KEYWORDS_LABEL = re.compile(r"^(?:KEYWORDS\b|TAGS\b|(?:Keywords|Tags|Topics)\s*(?::|$))\s*")
TOC_LABEL = re.compile(r"^(?:Table\s+of\s+Contents|In\s+This\s+Issue|Issue\s+Contents)\s*:?$", re.I)
FROM_NEWSLETTER = re.compile(r"\bFrom\s+((?:The\s+)?Carlat\s+(?:[A-Z][\w&’']*\s+){0,4}Report)\b")
DISCLOSURE = re.compile(
    r"\b(?:has|have)\s+(?:no\s+\w+\s+to\s+)?disclosed\b|^Disclosures?\s*:|"
    r"\bno\s+(?:relevant\s+)?financial\s+(?:relationships|interests|conflicts)\b|"
    r"\bconflicts?\s+of\s+interest\b", re.I)
BREADCRUMB = re.compile(r"^Home\s*(?:»|›|>|/|\|)")
AUTHOR_BOX_END = re.compile(r"^(?:More\s+from\s+this\s+author|About\s+the\s+authors?|Related\s+articles?)\b", re.I)
PAYWALL = re.compile(
    r"\b(?:subscribe\s+(?:now\s+)?to\s+(?:read|continue|view|access|unlock)"
    r"|(?:log|sign)\s*in\s+(?:or\s+subscribe\s+)?to\s+(?:read|continue|view|access)"
    r"|(?:for|to)\s+(?:paid\s+)?subscribers\s+only|subscribers?[-\s]only"
    r"|already\s+(?:a\s+)?subscriber|you\s+must\s+be\s+(?:a\s+subscriber|logged\s+in|signed\s+in)"
    r"|(?:is|are)\s+(?:available|reserved|restricted)\s+(?:only\s+)?(?:to|for)\s+(?:paid\s+)?subscribers"
    r"|to\s+(?:read|continue\s+reading|view|access)\s+(?:the\s+)?(?:full|rest|entire|complete)"
    r"|become\s+a\s+subscriber|subscription\s+required|requires?\s+a\s+(?:paid\s+)?subscription"
    r"|only\s+(?:paid\s+)?subscribers\s+can|free\s+articles?\s+(?:limit|remaining)"
    r"|(?:log|sign)\s*in\s+or\s+subscribe|subscribe\s+or\s+(?:log|sign)\s*in"
    r"|(?:keep|continue)\s+reading\s+(?:with|by)\s+(?:a\s+)?subscri"
    r"|purchase\s+(?:this\s+)?(?:article|issue)\s+to)", re.I)


def newsletter_name(name: str | None) -> str | None:
    match = carlat.NEWSLETTER_NAME.search(name or "")
    if not match:
        return None
    return f"The Carlat {collapse(match.group(1))} Report"


_LEADING_COLON = re.compile(r"^\s*:\s*")
_KEYWORD_SEPARATOR = re.compile(r"\s*[,;|]\s*")


def split_keywords(text: str) -> list[str]:
    text = _LEADING_COLON.sub("", text)
    parts = _KEYWORD_SEPARATOR.split(text) if _KEYWORD_SEPARATOR.search(text) else text.split()
    return unique([p.lower().strip(" .") for p in parts if p.strip(" .")])


def unique(items):
    seen, result = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


@dataclass
class PageLabels:
    issue_date: str | None = None
    toc: list[IssueArticle] = field(default_factory=list)
    toc_issue_url: str | None = None
    keywords: list[str] = field(default_factory=list)
    newsletter: str | None = None
    disclosures: list[str] = field(default_factory=list)
_LABEL_STARTS = ("issue date", "table of contents", "in this issue", "issue contents",
                 "keywords", "tags", "topics")


def label_kind(text: str) -> bool:
    """Cheap test of a text node for a page-wide label (runs on every text node)."""
    if "Carlat" in text or "disclosed" in text or "ubscri" in text:
        return True
    if len(text) < 120:
        stripped = text.lstrip()
        return bool(stripped) and stripped[0] in "IiTtKk" and stripped.lower().startswith(_LABEL_STARTS)
    return False


def page_labels(marks, base) -> PageLabels:
    """Labels anywhere on the page (the sidebar holds the issue date and table of contents),
    noted by the first walk (`label_kind`), read before the sidebar is removed as chrome."""
    labels = PageLabels()
    for el, node in marks.texts:
        text = collapse(node)
        line = block_text(el)
        if ISSUE_DATE_LABEL.match(line) and not labels.issue_date:
            stamps = [t.get("datetime") for t in block_of(el).iter("time") if t.get("datetime")]
            rest = ISSUE_DATE_LABEL.sub("", line)
            # an issue is a month: "Issue Date: March 2023" is its first day
            labels.issue_date = (find_date(stamps[0]) if stamps else None) or parse_date(rest, month_only=True)
        elif TOC_LABEL.match(text) and not labels.toc:
            labels.toc, labels.toc_issue_url = _toc_after(el, base)
        elif KEYWORDS_LABEL.match(text) and len(text) < 400 and not labels.keywords:
            labels.keywords = _keywords_after(el, text)
        elif "Carlat" in text and not labels.newsletter:
            match = FROM_NEWSLETTER.search(line)
            if match:
                labels.newsletter = newsletter_name(match.group(1))
        elif "disclosed" in text and DISCLOSURE.search(line) and line not in labels.disclosures:
            labels.disclosures.append(line)
    return labels


def block_of(el):
    """The nearest enclosing element that is not inline."""
    while el is not None and el.tag in ("a", "span", "strong", "b", "em", "i", "time", "label", "small"):
        parent = el.getparent()
        if parent is None:
            break
        el = parent
    return el


def block_text(el) -> str:
    el = block_of(el)
    return collapse(text_of(el)) if el is not None else ""


def _after(label_el, scope, tags):
    """Elements named `tags` that follow `label_el` inside `scope`, in document order (walking
    forward from the label, not through everything before it)."""
    el = label_el
    while el is not None and el is not scope:
        for sibling in el.itersiblings():
            if sibling.tag in tags:
                yield sibling
            yield from sibling.iterdescendants(*tags)
        el = el.getparent()


def _toc_after(label_el, base):
    """The list of links following a "Table Of Contents" label (in its box or the box's box)."""
    items: list[IssueArticle] = []
    box = label_el.getparent()
    near = box.getparent() if box is not None and box.getparent() is not None else box
    if near is None:
        return items, None
    first_list = next(_after(label_el, near, ("ul", "ol", "table")), None)
    if first_list is not None:
        rows = [row for row in first_list.iter("li", "tr")] or [first_list]
        for row in rows:
            link = next((a for a in row.iter("a") if a.get("href")), None)
            title = collapse(text_of(link)) if link is not None else ""
            if title:
                items.append(IssueArticle(title, absolute(link.get("href"), base)))
            else:
                title = collapse(text_of(row))
                if title:  # an entry without a page of its own
                    items.append(IssueArticle(title, None))
    else:
        for link in _after(label_el, near, ("a",)):
            title = collapse(text_of(link))
            if title and link.get("href") and not title.isupper():
                items.append(IssueArticle(title, absolute(link.get("href"), base)))
    issue_url = None
    for link in near.iter("a"):
        href = link.get("href") or ""
        if "issue" in href:  # cheap test first: most sidebar links are not issue pages
            href = absolute(href, base)
            if href and carlat.classify(href) == "issue":
                issue_url = href
                break
    return items, issue_url


def _keywords_after(label_el, label_text: str) -> list[str]:
    """Keywords: the label's own text after "Keywords:", else the links after the label in its
    box (up to three levels up)."""
    own = split_keywords(KEYWORDS_LABEL.sub("", label_text))
    if own:
        return own
    el = label_el
    for _ in range(3):
        parent = el.getparent()
        if parent is None:
            break
        words, seen_label = [], False
        for node in parent.iter():
            if node is label_el:
                seen_label = True
            elif seen_label and node.tag == "a":
                text = collapse(text_of(node)).lower()
                if text:
                    words.append(text)
        if words:
            return unique(words)
        el = parent
    return []
