"""Chrome removal and the choice of the article container.

Two passes, because some chrome carries data: first what is never visible (scripts, styles,
hidden elements, carousel clones); later — after the page-wide labels such as the sidebar's
"Table Of Contents" have been read — navigation, sidebars, share and author boxes.
"""

from __future__ import annotations

import re

from lxml import etree

from archiver.profile import CHROME, CONTAINER, HIDDEN, PAYWALL, SKIP, TITLE
from archiver.parse.page import is_inside, text_of

_INVISIBLE_TAGS = frozenset((
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "link", "meta", "button", "select", "textarea", "input", "dialog",
    "audio", "video",  # their text is the fallback a browser shows only when it cannot play them
    "figcaption"))  # visible, but a photo's caption and credit are never the article's text
_CHROME_TAGS = frozenset(("nav", "header", "footer", "aside", "form", "menu"))
_CHROME_ROLES = frozenset(("navigation", "banner", "contentinfo", "complementary", "search"))
_NEVER_CHROME = frozenset(("html", "body", "main", "article"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


_PAGE_CHROME_ROLES = frozenset(("navigation", "banner", "contentinfo"))


def _is_page_level(el) -> bool:
    """A <header>/<footer> of the page, not of an <article> or the <main> part."""
    return not any(a.tag in ("article", "main") for a in el.iterancestors())


def _is_box(el) -> bool:
    """A small box, not a page wrapper that a theme gave a chrome-like class name: no <h1>
    and fewer than five paragraphs inside. (One pass over both tags: two ElementPath
    searches cost twice as much, and this runs for every share bar and menu.)"""
    if el.tag in _NEVER_CHROME:
        return False
    paragraphs = 0
    for inner in el.iterdescendants("h1", "p"):
        if inner.tag == "h1":
            return False
        paragraphs += 1
    return paragraphs < 5


def drop(el: etree._Element) -> None:
    """Remove an element and its content but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


class TextTest:
    """Which visible texts the first walk notes: those containing one of `words`, or shorter
    than `max_length` and starting (after blanks, in any case) with one of `starts` (lower
    case). Data rather than a function, so the walk tests each text without a call."""

    __slots__ = ("words", "starts", "first_chars", "max_length")

    def __init__(self, words, starts, max_length: int = 120):
        self.words = re.compile("|".join(map(re.escape, words))) if words else None
        self.starts = tuple(starts)
        self.first_chars = frozenset(c for s in self.starts for c in (s[:1], s[:1].upper()) if c)
        self.max_length = max_length

    def __call__(self, text: str) -> bool:
        if self.words is not None and self.words.search(text):
            return True
        if len(text) < self.max_length:
            stripped = text.lstrip()
            return stripped[:1] in self.first_chars and stripped.lower().startswith(self.starts)
        return False


# Attributes the first walk reads; an element with none of them is read like one without any.
_WATCHED = frozenset(("class", "id", "hidden", "aria-hidden", "style", "role", "itemprop", "itemtype"))


class Marks:
    """What the first pass over the page noticed, so later steps need not walk it again."""

    def __init__(self):
        self.chrome: list = []  # navigation, sidebars, share/author boxes (removed later)
        self.containers: list = []  # elements marked as the article or its body
        self.paywall: list = []  # elements named like a paywall box
        self.template: list = []  # (element, field) for elements the template names by class
        self.texts: list = []  # (element holding it, text) for texts `remove_invisible` was asked to note
        self.title_boxes: list = []  # elements with "title" in their class (teaser titles of listings)


def remove_invisible(root: etree._Element, vocabulary, notable=None) -> Marks:
    """Drop what a browser never shows, and note chrome and container candidates on the way.

    One walk with plain attribute reads; `vocabulary` (the profile's, see archiver.profile)
    judges each class string once. The per-element cost here is most of the parser's own
    time. `notable(text)` picks visible texts to note (with the element they belong to), so
    page-wide labels need no walk of their own."""
    class_info, id_flags = vocabulary.class_info, vocabulary.flags
    # The <head> (its JSON-LD has been read by now) holds no visible text: only its scripts and
    # styles go, in C, and the walk does not enter it. In the body, the walk drops scripts,
    # styles and forms' controls itself, keeping the text that follows them (a C strip of the
    # whole tree costs ~1.5 µs per tag name; a set lookup per element much less).
    head = root.find("head")
    if head is not None:
        etree.strip_elements(head, "script", "style", "noscript", "template", with_tail=False)
    doomed, marks = [], Marks()
    texts = marks.texts
    # The text test, inlined below (it runs on every visible text).
    if notable is None:
        words, starts, first_chars, max_length = None, (), frozenset(), 0
    elif isinstance(notable, TextTest):
        words, starts, first_chars, max_length = notable.words, notable.starts, notable.first_chars, notable.max_length
    else:  # any function of a text
        words, starts, first_chars, max_length = _AnyText(notable), (), frozenset(), 0
    noting = notable is not None
    # root.iter(), not iterwalk: a third of the cost. A subtree is skipped by jumping to the
    # element after it (`resume`), as nothing inside it is read.
    resume = None
    for el in root.iter():
        if resume is not None:
            if el is not resume:
                continue
            resume = None
        tag = el.tag
        if tag.__class__ is not str:  # comments, processing instructions
            doomed.append(el)
            continue
        if el is head:
            resume = _after_subtree(el)
            if resume is None:
                break
            continue
        if noting:
            tail = el.tail
            if tail and not tail.isspace() and (
                    (words is not None and words.search(tail)) or (len(tail) < max_length and (
                        tail.lstrip()[:1] in first_chars and tail.lstrip().lower().startswith(starts)))):
                parent = el.getparent()  # a tail shows even when its element is hidden
                if parent is not None:
                    texts.append((parent, tail))
        if tag in _INVISIBLE_TAGS:
            doomed.append(el)
            resume = _after_subtree(el)
            if resume is None:
                break
            continue
        if tag == "nav" or (tag in ("header", "footer") and _is_page_level(el)):
            # The page's own navigation, header and footer: chrome, and nothing in them is
            # needed, so the walk does not go inside.
            marks.chrome.append(el)
            resume = _after_subtree(el)
            if resume is None:
                break
            continue
        keys = el.keys()  # (names only: half the cost of items(); most elements have one or two)
        if not keys or _WATCHED.isdisjoint(keys):
            flags = field = 0
            role, semantic = None, False
        else:
            hidden, role, semantic, classes, ident = False, None, False, None, None
            for name in keys:
                if name == "class":
                    classes = el.get("class")
                elif name == "id":
                    ident = el.get("id")
                elif name == "hidden" or (name == "aria-hidden" and el.get(name) == "true"):
                    hidden = True
                elif name == "style":
                    hidden = hidden or bool(_HIDDEN_STYLE.search(el.get("style")))
                elif name == "role":
                    role = el.get("role")
                elif (name == "itemprop" and el.get(name) == "articleBody") or \
                        (name == "itemtype" and "Article" in el.get(name)):
                    semantic = True
            if classes:
                flags, field = class_info(classes)
            else:
                flags, field = 0, None
            if ident:
                flags |= id_flags(ident)
            if (hidden or flags & HIDDEN) and tag not in ("html", "body"):
                doomed.append(el)
                resume = _after_subtree(el)
                if resume is None:
                    break
                continue
            if role in _PAGE_CHROME_ROLES or (flags & SKIP and _is_box(el)):
                # role="navigation" / "banner" / "contentinfo", carousels, share bars, menus
                marks.chrome.append(el)
                resume = _after_subtree(el)
                if resume is None:
                    break
                continue
        if noting:
            text = el.text
            if text and not text.isspace() and (
                    (words is not None and words.search(text)) or (len(text) < max_length and (
                        text.lstrip()[:1] in first_chars and text.lstrip().lower().startswith(starts)))):
                texts.append((el, text))
        if flags:
            if flags & CHROME:
                marks.chrome.append(el)
            elif tag in _CHROME_TAGS or role in _CHROME_ROLES:
                marks.chrome.append(el)
            if flags & PAYWALL:
                marks.paywall.append(el)
            if flags & TITLE:
                marks.title_boxes.append(el)
            if flags & CONTAINER:
                marks.containers.append(el)
            elif semantic or role == "main" or tag in ("article", "main"):
                marks.containers.append(el)
        else:
            if tag in _CHROME_TAGS or role in _CHROME_ROLES:
                marks.chrome.append(el)
            if semantic or role == "main" or tag in ("article", "main"):
                marks.containers.append(el)
        if field:
            marks.template.append((el, field))
    for el in doomed:
        drop(el)
    return marks


class _AnyText:
    """A text test given as a function, in the shape of TextTest's `words` (its `search`)."""

    __slots__ = ("search",)

    def __init__(self, test):
        self.search = test


def _after_subtree(el):
    """The first node after `el`'s subtree in document order (None at the end)."""
    while el is not None:
        following = el.getnext()
        if following is not None:
            return following
        el = el.getparent()
    return None


def remove_chrome(root: etree._Element, keep: list[etree._Element], marks: Marks) -> None:
    """Drop navigation, sidebars, share/subscribe/author boxes — never anything in `keep`, nor
    an ancestor of it (a theme may call its page wrapper "has-sidebar"), nor the `header` of an
    article that holds its title."""
    protected: set = set()
    for el in keep:
        if el is not None:
            protected.add(el)
            protected.update(el.iterancestors())
    inside_keep = [el for el in keep if el is not None]
    for el in marks.chrome:
        if el.getparent() is None or el.tag in _NEVER_CHROME:
            continue
        own = el.tag in ("header", "footer") and any(is_inside(el.getparent(), k) for k in inside_keep)
        titled = el.tag == "header" and any(is_inside(k.getparent(), el) for k in inside_keep if k.tag == "h1")
        if el in protected or own or titled:
            # kept (it holds the article or its title; an <article>'s own header and footer):
            # if the first walk skipped it, its scripts and controls are still there
            if el.tag in ("nav", "header", "footer") or el.get("role") in _PAGE_CHROME_ROLES:
                etree.strip_elements(el, *_INVISIBLE_TAGS, with_tail=False)
            continue
        drop(el)


# ------------------------------------------------------------------ the article container

# The cheap test first: XPath filters by each predicate in turn, and the ancestor walk and
# normalize-space on every text node cost ~60 µs a page (a collapsed text is never longer).
_PROSE_TEXT = etree.XPath("//text()[string-length(.) > 40][not(ancestor::a)][string-length(normalize-space(.)) > 40]")
_INLINE = frozenset("a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span "
                    "strong sub sup time u var label".split())


def prose_length(el: etree._Element, cache: dict | None = None) -> int:
    """Characters of prose: the text of the paragraphs inside `el` (each <p> measured once
    when a `cache` is shared by nested candidates)."""
    total = 0
    for p in el.iter("p"):
        length = cache.get(p) if cache is not None else None
        if length is None:
            length = len(" ".join(text_of(p).split()))
            if cache is not None:
                cache[p] = length
        total += length
    return total


def densest_block(root: etree._Element, chrome=()) -> etree._Element | None:
    """The element holding the most prose directly (readability-style: a paragraph's text
    counts fully for its block parent and half for the grandparent). Text inside `chrome`
    (navigation, footers, sidebars) does not count."""
    scores: dict = {}
    if chrome:
        # Not a page wrapper that a theme happens to call "has-sidebar": the body, or an
        # element holding the page's <h1>, is not chrome.
        wrappers = set()
        for h1 in root.iter("h1"):
            wrappers.update(h1.iterancestors())
        chrome = {el for el in chrome if el.tag not in _NEVER_CHROME and el not in wrappers}
    verdicts: dict = {}  # element -> inside chrome?

    def in_chrome(el) -> bool:
        if el in verdicts:
            return verdicts[el]
        parent = el.getparent()
        verdict = el in chrome or (parent is not None and in_chrome(parent))
        verdicts[el] = verdict
        return verdict

    for text in _PROSE_TEXT(root):
        el = text.getparent()
        if el is None:
            continue
        if text.is_tail:
            el = el.getparent()
        while el is not None and el.tag in _INLINE:
            el = el.getparent()
        if el is None:
            continue
        length = len(text.strip())
        # A <p>'s text belongs to the <p>'s container.
        holder = el.getparent() if el.tag == "p" else el
        if holder is None or (chrome and in_chrome(el)):
            continue
        scores[holder] = scores.get(holder, 0) + length
        grand = holder.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + length / 2
    if not scores:
        return None
    return max(scores, key=scores.get)


def article_container(root: etree._Element, marks: Marks) -> tuple[etree._Element | None, str]:
    """(container, strategy): among the template's and semantic containers, the innermost one
    that still holds most (70%) of the prose of the richest one — so <main> with a sidebar
    loses to the article inside it; with no such markup, the densest text block. The result is
    widened to an enclosing <article>, so the article's own header and footer (byline,
    keywords) come with it."""
    lengths: dict = {}
    scored = [(prose_length(el, lengths), el) for el in marks.containers]
    scored = [(score, el) for score, el in scored if score > 0]
    best, strategy = None, "container markup"
    if scored:
        top = max(score for score, _ in scored)
        good = [el for score, el in scored if score >= 0.7 * top]
        # innermost: a good candidate with no other good candidate inside it, i.e. not an
        # ancestor of one (one set of ancestors instead of a walk up per pair)
        around_good = {ancestor for el in good for ancestor in el.iterancestors()}
        inner = [el for el in good if el not in around_good]
        best = inner[0] if top >= 200 else None
    if best is None:
        best, strategy = densest_block(root, marks.chrome), "densest text block"
        if best is None:
            return None, "none"
    for ancestor in best.iterancestors("article"):
        return ancestor, strategy + " in <article>"
    # No <article>: widen to the outermost marked container around it that is about this
    # article (Drupal 7's "node-article" around "field-name-body") and not the page's <main>.
    score = prose_length(best, lengths)
    wider = [el for s, el in scored if el is not best and is_inside(best.getparent(), el) and s <= 1.3 * score
             and el.tag != "main" and el.get("role") != "main"]
    if wider:
        outer = [el for el in wider if not any(o is not el and is_inside(el.getparent(), o) for o in wider)]
        return outer[0], strategy + " in its article container"
    return best, strategy
