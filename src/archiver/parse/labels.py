"""Textual labels that survive redesigns, and the page-wide ones read from anywhere on the page.

"Review of:", "Type of study:", "Issue Date:", "KEYWORDS", "Table Of Contents", "From <the
newsletter>", "… has disclosed …": a redesign may move them or change their markup, but rarely
their words. The words are the profile's (`profile.labels`, from defaults.toml and the site's
TOML). The sidebar's labels (issue date, table of contents) are noted during the first walk
(`label_test`) and read here before the sidebar is removed as chrome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from archiver.parse.clean import TextTest
from archiver.parse.page import absolute, text_of
from archiver.parse.text import collapse, find_date, parse_date
from archiver.record import IssueArticle


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
    newsletter: str | None = None
    # Read only if no other rule finds them (most pages have them in the article): the
    # keywords label (element, text, regex) and the elements of texts saying "disclosed".
    keywords_label: tuple | None = None
    disclosed: list = field(default_factory=list)

    @property
    def keywords(self) -> list[str]:
        return _keywords_after(*self.keywords_label) if self.keywords_label else []

    @property
    def disclosures(self) -> list[str]:
        lines: list[str] = []
        for el, pattern in self.disclosed:
            line = block_text(el)
            if pattern.search(line) and line not in lines:
                lines.append(line)
        return lines


@lru_cache(maxsize=64)
def label_test(profile) -> TextTest:
    """Which text nodes may hold a page-wide label (the first walk tests every text node):
    the newsletter's hint word, "disclosed", "subscri…", or the start of a page-wide label."""
    hint = profile.newsletters.hint
    return TextTest(tuple(w for w in (hint, "disclosed", "ubscri") if w), profile.labels.page_starts)


def page_labels(marks, base, profile) -> PageLabels:
    """Labels anywhere on the page (the sidebar holds the issue date and table of contents),
    noted by the first walk (`label_test`), read before the sidebar is removed as chrome."""
    labels, words, newsletters = PageLabels(), profile.labels, profile.newsletters
    for el, node in marks.texts:
        text = collapse(node)
        # (the whole line of the text's block is read only when a label needs it)
        if words.issue_date.match(text) and not labels.issue_date:
            line = block_text(el)
            stamps = [t.get("datetime") for t in block_of(el).iter("time") if t.get("datetime")]
            rest = words.issue_date.sub("", line)
            # an issue is a month: "Issue Date: March 2023" is its first day
            labels.issue_date = (find_date(stamps[0]) if stamps else None) or parse_date(rest, month_only=True)
        elif words.toc.match(text) and not labels.toc:
            labels.toc, labels.toc_issue_url = _toc_after(el, base, profile)
        elif words.keywords.match(text) and len(text) < 400 and not labels.keywords_label:
            labels.keywords_label = (el, text, words.keywords)
        elif newsletters.hint and newsletters.hint in text and not labels.newsletter:
            # "From <a>The … Report</a>": the label's "From" is in the text just before the name
            line = text if "From" in text else block_text(el) if "From" in _text_before(el) else ""
            match = newsletters.from_label.search(line) if newsletters.from_label and line else None
            if match:
                labels.newsletter = newsletters.name_in(match.group(1))
        elif "disclosed" in text:
            labels.disclosed.append((el, words.disclosure))
    if not labels.toc:
        labels.toc, labels.toc_issue_url = _toc_in_navigation(marks, base, profile)
    return labels


_LABEL_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "b", "li", "dt")


def _toc_in_navigation(marks, base, profile):
    """A table of contents inside a <nav> (the first walk does not enter navigation)."""
    for el in marks.chrome:
        if el.tag != "nav":
            continue
        for node in el.iter(_LABEL_TAGS):
            if node.text and profile.labels.toc.match(collapse(node.text)):
                return _toc_after(node, base, profile)
    return [], None


def _text_before(el) -> str:
    """The text just before an element: its previous sibling's tail, or its parent's text."""
    previous = el.getprevious()
    if previous is not None:
        return previous.tail or ""
    parent = el.getparent()
    return (parent.text or "") if parent is not None else ""


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


_ALNUM = re.compile(r"\w")
_LISTS = frozenset(("ul", "ol", "table", "dl"))


def _toc_after(label_el, base, profile):
    """The entries following a "Table Of Contents" label (in its box or the box's box): the
    rows of the first list or table after it, or else the links that follow it one per line
    (in <div>s, <p>s, headings or between <br>s) up to the first line of plain text."""
    start = block_of(label_el)
    box = start.getparent()
    near = box.getparent() if box is not None and box.getparent() is not None else box
    if near is None:
        return [], None
    scan = _TocScan(base, profile)
    el = label_el  # from the label itself: its entries may follow it inside its own line's box
    while el is not None and el is not near and not scan.done:
        if el is not label_el and el.tail and _ALNUM.search(el.tail):
            scan.text_line()
        for sibling in el.itersiblings():
            scan.visit(sibling)
            if scan.done:
                break
        el = el.getparent()
    issue_url = None
    for link in near.iter("a"):
        href = link.get("href") or ""
        if "issue" in href:  # cheap test first: most sidebar links are not issue pages
            href = absolute(href, base)
            if href and profile.hint(href) == "issue":
                issue_url = href
                break
    return scan.items, issue_url


class _TocScan:
    """Reads the elements after a table-of-contents label, in document order, until its entries end."""

    def __init__(self, base, profile):
        self.base, self.profile = base, profile
        self.items: list[IssueArticle] = []
        self.done = False

    def visit(self, el) -> None:
        tag = el.tag
        if isinstance(tag, str):
            if tag in _LISTS and not self.items:
                self.items, self.done = _rows(el, self.base), True
                return
            if tag == "a":
                self.link(el)
            else:
                if el.text and _ALNUM.search(el.text):
                    self.text_line()
                for child in el:
                    if self.done:
                        return
                    self.visit(child)
        if el.tail and _ALNUM.search(el.tail) and not self.done:
            self.text_line()

    def text_line(self) -> None:
        """Plain text: before the entries, a date or a note; after them, the next box."""
        if self.items:
            self.done = True

    def link(self, a) -> None:
        title = collapse(text_of(a))
        url = absolute(a.get("href"), self.base)
        if not title or not url:
            return
        if not _alone_on_line(a):  # "Log in | Create account": a line of links, not an entry
            self.text_line()
            return
        if title.isupper():  # "DOWNLOAD NOW", "SUBSCRIBE"
            return
        if self.profile.hint(url) in ("issue", "listing"):  # the issue's own page, a listing
            return
        self.items.append(IssueArticle(title, url))


_INLINE_TAGS = frozenset(("a", "span", "strong", "b", "em", "i", "small", "font", "u"))


def _alone_on_line(a) -> bool:
    """Is the link the only thing on its line (between <br>s or block boundaries)?"""
    el = a
    parent = el.getparent()
    while parent is not None and parent.tag in _INLINE_TAGS and len(parent) == 1 \
            and not _ALNUM.search(parent.text or "") and not _ALNUM.search(el.tail or ""):
        el, parent = parent, parent.getparent()
    before = el.getprevious()
    if _ALNUM.search((before.tail if before is not None else parent.text if parent is not None else "") or ""):
        return False
    after = el.getnext()
    if _ALNUM.search(el.tail or ""):
        return False
    return not any(n is not None and isinstance(n.tag, str) and n.tag in _INLINE_TAGS for n in (before, after))


def _rows(first_list, base) -> list[IssueArticle]:
    """The entries of a list or table: one per item, row or term; an item without a link is an
    entry without a page of its own."""
    items = []
    rows = [row for row in first_list.iter("li", "tr", "dt")] or [first_list]
    for row in rows:
        link = next((a for a in row.iter("a") if a.get("href")), None)
        title = collapse(text_of(link)) if link is not None else ""
        if title:
            items.append(IssueArticle(title, absolute(link.get("href"), base)))
        else:
            title = collapse(text_of(row))
            if title:
                items.append(IssueArticle(title, None))
    return items


def _keywords_after(label_el, label_text: str, label: re.Pattern) -> list[str]:
    """Keywords: the label's own text after "Keywords:", else the links after the label in its
    box (up to three levels up)."""
    own = split_keywords(label.sub("", label_text))
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
