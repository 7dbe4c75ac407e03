"""Chrome removal and the choice of the article container.

Two passes, because some chrome carries data: first what is never visible (scripts, styles,
hidden elements, carousel clones); later — after the page-wide labels such as the sidebar's
"Table Of Contents" have been read — navigation, sidebars, share and author boxes.
"""

from __future__ import annotations

from lxml import etree

from archiver.parse import carlat

_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
                   "canvas", "link", "meta", "button", "select", "textarea", "input", "dialog")


def _class_test(words, attr: str = "@class") -> str:
    return " or ".join(
        f"contains(concat(' ',normalize-space({attr}),' '),' {word} ')" for word in words)


# Hidden: the `hidden` attribute, aria-hidden, inline display:none / visibility:hidden, and the
# class names CSS frameworks use to hide things (incl. slick's cloned carousel slides).
_HIDDEN = etree.XPath(
    "//*[@hidden or @aria-hidden='true'"
    " or contains(translate(@style,' DISPLAYNOE','displaynoe'),'display:none')"
    " or contains(translate(@style,' VISBLTYHDN','visbltyhdn'),'visibility:hidden')"
    f" or {_class_test(carlat.HIDDEN_CLASS_WORDS)}]")
_INVISIBLE = etree.XPath("//" + "|//".join(_INVISIBLE_TAGS))
_CHROME_TAGS = etree.XPath("//nav|//header|//footer|//aside|//form|//menu")
# Class or id words (substring of one class token) marking chrome, e.g. "share-buttons".
_CHROME_MARKED = etree.XPath(
    "//*[" + " or ".join(
        f"contains(translate(@class,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{word}')"
        f" or contains(@id,'{word}')" for word in carlat.CHROME_CLASS_WORDS)
    + " or @role='navigation' or @role='banner' or @role='contentinfo' or @role='complementary']")


def _is_chrome(el: etree._Element) -> bool:
    if el.get("role") in ("navigation", "banner", "contentinfo", "complementary"):
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    return bool(carlat.CHROME_CLASS.search(names))
_NEVER_CHROME = frozenset(("html", "body", "main", "article"))


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


def remove_invisible(root: etree._Element) -> None:
    for el in _INVISIBLE(root):
        if el.tag != "script" or "ld+json" not in (el.get("type") or ""):
            drop(el)
    for el in _HIDDEN(root):
        if el.tag not in ("html", "body"):
            drop(el)


def remove_chrome(root: etree._Element, keep: list[etree._Element]) -> None:
    """Drop navigation, sidebars, share/subscribe/author boxes — never anything in `keep`, nor
    an ancestor of it (a theme may call its page wrapper "has-sidebar"), nor the `header` of an
    article that holds its title."""
    protected: set = set()
    for el in keep:
        if el is not None:
            protected.add(el)
            protected.update(el.iterancestors())
    inside_keep = [el for el in keep if el is not None]
    marked = [el for el in _CHROME_MARKED(root) if _is_chrome(el)]
    for el in list(_CHROME_TAGS(root)) + marked:
        if el in protected or el.tag in _NEVER_CHROME or el.getparent() is None:
            continue
        if el.tag == "header" and any(_contains(k, el) for k in inside_keep):
            continue  # an <article>'s own header: title, byline, date
        if el.tag == "header" and any(_contains(el, k) for k in inside_keep if k.tag == "h1"):
            continue
        drop(el)


def _contains(ancestor: etree._Element, el: etree._Element) -> bool:
    return any(a is ancestor for a in el.iterancestors())


# ------------------------------------------------------------------ the article container

_CANDIDATES = etree.XPath(
    "//article|//*[@itemprop='articleBody']|//*[contains(@itemtype,'Article')]|//main|//*[@role='main']|//*["
    + " or ".join(f"contains(concat(' ',normalize-space(@class),' '),' {c} ')"
                  for c in carlat.CONTAINER_CLASSES) + "]")
_PROSE_TEXT = etree.XPath(
    "//text()[not(ancestor::a)][string-length(normalize-space(.)) > 40]")
_P_TEXT = etree.XPath(".//p//text()[not(ancestor::a)]")
_INLINE = frozenset("a abbr b bdi bdo cite code data dfn em font i kbd mark q s samp small span "
                    "strong sub sup time u var label".split())


def prose_length(el: etree._Element) -> int:
    """Characters of prose: text of paragraphs (not links, not tiny fragments)."""
    return sum(len(text.strip()) for text in _P_TEXT(el))


def densest_block(root: etree._Element) -> etree._Element | None:
    """The element holding the most prose directly (readability-style: a paragraph's text
    counts fully for its block parent and half for the grandparent)."""
    scores: dict = {}
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
        if holder is None:
            continue
        scores[holder] = scores.get(holder, 0) + length
        grand = holder.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + length / 2
    if not scores:
        return None
    return max(scores, key=scores.get)


def article_container(root: etree._Element) -> tuple[etree._Element | None, str]:
    """(container, strategy): among the template's and semantic containers, the innermost one
    that still holds most (70%) of the prose of the richest one — so <main> with a sidebar
    loses to the article inside it; with no such markup, the densest text block. The result is
    widened to an enclosing <article>, so the article's own header and footer (byline,
    keywords) come with it."""
    scored = [(prose_length(el), el) for el in _CANDIDATES(root)]
    scored = [(score, el) for score, el in scored if score > 0]
    best, strategy = None, "container markup"
    if scored:
        top = max(score for score, _ in scored)
        good = [el for score, el in scored if score >= 0.7 * top]
        # innermost: a good candidate with no other good candidate inside it
        inner = [el for el in good if not any(o is not el and _contains(el, o) for o in good)]
        best = inner[0] if top >= 200 else None
    if best is None:
        best, strategy = densest_block(root), "densest text block"
        if best is None:
            return None, "none"
    for ancestor in best.iterancestors("article"):
        return ancestor, strategy + " in <article>"
    return best, strategy
