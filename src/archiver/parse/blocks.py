"""The visible text of a subtree as a list of blocks (one per paragraph, heading, list item or
table row), in document order, each remembering its element and the list/table it belongs to.

One C-level walk (``etree.iterwalk``) gathers inline text into the current block, so the cost is
a few Python operations per element, not an XPath query per field.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from archiver.parse.page import text_of
from archiver.parse.text import collapse

BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section "
    "summary table tbody td tfoot th thead tr ul caption html".split())
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# <br> is noted as a private character, not "\n": newlines in the page's source are only
# whitespace, and must not become line breaks.
BR = "\x1e"
_GROUP_TAGS = frozenset(("ul", "ol", "dl", "table"))
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template", "svg", "button", "select",
                        "textarea", "input", "iframe", "head", "title", "math"))


@dataclass(slots=True)
class Block:
    text: str
    tag: str  # tag of the block element (p, h3, li, tr, div, ...)
    el: etree._Element  # the block element
    group: etree._Element | None = None  # outermost list/table, whose items are lines of one paragraph
    link_chars: int = 0  # characters of text inside links
    in_container: bool = True  # False for lines between a title and the article container

    @property
    def is_heading(self) -> bool:
        return self.tag in HEADING_TAGS

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))


def blocks_of(root: etree._Element) -> list[Block]:
    blocks: list[Block] = []
    parts: list[str] = []  # inline text of the block being gathered
    link_chars = 0
    link_depth = 0
    stack: list[etree._Element] = []  # open block elements
    groups: list[etree._Element] = []  # open list/table elements

    link_at: list[int] = []  # which parts are link text (for paragraphs split at <br><br>)

    def flush() -> None:
        nonlocal link_chars
        if parts:
            joined = "".join(parts)
            if not stack or joined.isspace():
                parts.clear()
                link_at.clear()
                link_chars = 0
                return
            group = groups[0] if groups else None
            if BR not in joined:
                text = " ".join(joined.split()) if joined.isascii() else collapse(joined)  # (collapse, inlined)
                if text:
                    blocks.append(Block(text, stack[-1].tag, stack[-1], group, link_chars))
            else:  # <br><br> separates paragraphs (old pages have no <p>); one <br> separates lines.
                for chunk, chunk_links in _paragraph_chunks(parts, link_at):
                    text = "\n".join(filter(None, (collapse(line) for line in chunk.split(BR))))
                    if text:
                        blocks.append(Block(text, stack[-1].tag, stack[-1], group, chunk_links))
            parts.clear()
            link_at.clear()
        link_chars = 0

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            if event == "end" and el.tail:
                parts.append(el.tail)
            continue
        if event == "start":
            if tag in _SKIP_TAGS:
                walker.skip_subtree()
                continue  # its "end" still comes and adds the tail
            if tag == "tr":
                if parts:
                    flush()
                row = [collapse(text_of(cell)) for cell in el if cell.tag in ("td", "th")]
                row = [cell for cell in row if cell]
                if row:
                    blocks.append(Block(" | ".join(row), "tr", el, groups[0] if groups else el))
                walker.skip_subtree()
                continue
            if tag in BLOCK_TAGS:
                if parts:  # (nothing gathered means nothing to flush: link_chars is 0 too)
                    flush()
                stack.append(el)
                if tag in _GROUP_TAGS:
                    groups.append(el)
            elif tag == "br":
                parts.append(BR)
            elif tag == "a":
                link_depth += 1
            text = el.text  # read once: each read builds a new string from the tree
            if text and (parts or not text.isspace()):  # (leading blanks are collapsed away)
                parts.append(text)
                if link_depth:
                    link_chars += len(text.strip())
                    link_at.append(len(parts) - 1)
        else:
            if tag in BLOCK_TAGS:
                if parts:
                    flush()
                if stack and stack[-1] is el:
                    stack.pop()
                if groups and groups[-1] is el:
                    groups.pop()
            elif tag == "a" and link_depth:
                link_depth -= 1
            tail = el.tail
            if tail and el is not root and (parts or not tail.isspace()):
                parts.append(tail)
                if link_depth:
                    link_chars += len(tail.strip())
                    link_at.append(len(parts) - 1)
    flush()
    return blocks


def _paragraph_chunks(parts: list[str], link_at: list[int]):
    """(text, characters of link text) of each paragraph of `parts`, split at <br><br>: each
    paragraph counts its own links (a subheading before a paragraph that ends in a link is
    not a link line)."""
    links = set(link_at)
    chunk: list[str] = []
    chunk_links = 0
    after_br = False  # the last part that is not blank was a <br>
    for i, part in enumerate(parts):
        if part == BR:
            if after_br:  # the second <br> of a pair ends the paragraph
                while chunk and chunk[-1] != BR:
                    chunk.pop()  # blanks between the two
                chunk.pop()
                yield "".join(chunk), chunk_links
                chunk, chunk_links, after_br = [], 0, False
                continue
            after_br = True
        elif not part.isspace():
            after_br = False
            if i in links:
                chunk_links += len(part.strip())
        chunk.append(part)
    yield "".join(chunk), chunk_links


def paragraphs(blocks: list[Block]) -> list[str]:
    """Blocks -> paragraphs: items of one list or rows of one table become lines of one."""
    result: list[str] = []
    previous_group = None
    for block in blocks:
        if block.group is not None and block.group is previous_group and result:
            result[-1] += "\n" + block.text
        else:
            result.append(block.text)
        previous_group = block.group
    return result
