"""Where a page's text is, judged from its shape rather than its class names.

An element's *prose* is the text it holds outside links, in blocks (paragraphs, list items,
headings, rows) that are not mostly links. The article's own wrapper holds most of the page's
prose whatever a theme called it ("entry-content no-share", "widget Blog", "elementor-widget");
a share bar, a related-stories list or a sign-up box holds little. So a class word may remove a
box only when the box is small by this measure.

    Shape(blocks) -> prose per element, the densest block
    prune_boxes(root, names, blocks) -> how many elements were removed
    prose_size(text, blocks) -> words of a text that are not the page's link lists
    lead_prose(blocks) -> the densest block's own paragraphs: on most pages, the article's
    share_kept(text, parts) -> how much of those paragraphs a text holds
    text_size(text) -> its length in words, counting scripts written without spaces
"""

from __future__ import annotations

import re

from lxml import etree

from archiver.parse.blocks import Block
from archiver.parse.clean import drop

# A block whose text is at least this share links is navigation (a list of headlines, a tag
# cloud): none of its text is prose.
LINK_DENSE = 0.5
# A box named like chrome may hold at most this share of the page's prose, or a sentence or two
# (on a short page every box is over a tenth); more, and it is a wrapper of the article or of
# much of it, whatever its name says.
SMALL_BOX = 0.1
SMALL_BOX_FLOOR = 200
# What a box is: an element that holds blocks. A heading or a paragraph whose class says "toc"
# or "share" is the article's text, not a box around it.
BOX_TAGS = frozenset("div section aside nav header footer form ul ol dl table figure details "
                     "menu".split())
_NOT_ALNUM = re.compile(r"[\W_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])")
# Scripts written without spaces between words: Hiragana, Katakana, Han, Thai, Lao, Myanmar,
# Khmer. (Korean is written with spaces.)
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff"
                       r"\u1000-\u109f\u1780-\u17ff]")


class Shape:
    """How a page's text is spread: per element, the characters of prose under it (each
    block counts for its element and all ancestors), and the densest block — the element
    whose own blocks hold the most prose: the parent of the article's paragraphs, where each
    comment or teaser has a parent of its own."""

    def __init__(self, blocks: list[Block]):
        self.prose: dict = {}
        direct: dict = {}
        for block in blocks:
            if block.link_density >= LINK_DENSE:
                continue
            prose = len(block.text) - block.link_chars
            el = block.el
            holder = _holder(el)
            direct[holder] = direct.get(holder, 0) + prose
            while el is not None:
                self.prose[el] = self.prose.get(el, 0) + prose
                el = el.getparent()
        self.densest = max(direct, key=direct.get) if direct and max(direct.values()) else None


def _holder(el: etree._Element) -> etree._Element:
    return el.getparent() if el.getparent() is not None else el


def prune_boxes(root: etree._Element, names: re.Pattern, blocks: list[Block]) -> int:
    """Remove the small boxes (divs, sections, lists, ... — not headings or paragraphs) whose
    class or id `names` match: those holding at most SMALL_BOX of the page's prose or
    SMALL_BOX_FLOOR characters (a sentence or two). Never the densest block, what is around it,
    or an element holding an <h1>. `blocks` are the page's (blocks_of(root)). Returns how many
    were removed."""
    shape = Shape(blocks)
    around = set(shape.densest.iterancestors()) | {shape.densest} if shape.densest is not None else set()
    limit = max(SMALL_BOX * shape.prose.get(root, 0), SMALL_BOX_FLOOR)
    doomed = []
    walker = etree.iterwalk(root, events=("start",))
    for _, el in walker:
        if el.tag not in BOX_TAGS or el in around:
            continue
        label = f"{el.get('class') or ''} {el.get('id') or ''}"
        if label.strip() and names.search(label) and shape.prose.get(el, 0) <= limit \
                and el.find(".//h1") is None:
            doomed.append(el)
            walker.skip_subtree()
    for el in doomed:
        drop(el)
    return len(doomed)


def lead_prose(blocks: list[Block]) -> list[str]:
    """The texts of the densest block's own prose blocks: where a page keeps the article's
    paragraphs, whatever its markup calls them. Empty when those are table rows: a layout
    table's row holds a whole page (menus, scripts, teasers), not paragraphs."""
    shape = Shape(blocks)
    lead = [b for b in blocks if b.link_density < LINK_DENSE and shape.densest is not None
            and _holder(b.el) is shape.densest]
    return [] if any(b.tag == "tr" for b in lead) else [b.text for b in lead]


def share_kept(text: str | None, parts: list[str]) -> float:
    """The share of the sentences of `parts` (by letters and digits) that `text` holds; 1.0
    for no parts. Sentence by sentence: an extraction may cut a block into lines, or leave
    out its dateline or a caption run into it, and still hold the block."""
    whole = _squash(text or "")
    sentences = [_squash(s) for part in parts for s in _SENTENCE_END.split(part)]
    total = sum(len(s) for s in sentences)
    return sum(len(s) for s in sentences if s in whole) / total if total else 1.0


def prose_size(text: str | None, blocks: list[Block]) -> int:
    """The text_size of a text's lines that are prose: not the text of a page block that is
    mostly links (a listing's headlines, a tag list)."""
    linked = {_squash(b.text) for b in blocks if b.link_density >= LINK_DENSE}
    lines = [line for line in (text or "").split("\n") if _squash(line) not in linked]
    return text_size("\n".join(lines))


def _squash(text: str) -> str:
    """Letters and digits only, lower case: text compared across markup and spacing."""
    return _NOT_ALNUM.sub("", text.lower())


def text_size(text: str | None) -> int:
    """The length of a text in words: whitespace-separated tokens, except that in scripts
    written without spaces (Chinese, Japanese, Thai, ...) every two characters count as one."""
    if not text:
        return 0
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    rest = [token for token in _UNSPACED.sub(" ", text).split() if any(c.isalnum() for c in token)]
    return len(rest) + (unspaced + 1) // 2
