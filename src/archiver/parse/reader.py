"""The article region read line by line: labelled lines go to their fields, the header (kind
label, byline, dates, volume line, bio box) and the footer (category, keywords, author box) are
set aside, chrome lines (widgets, captions, credits, menus) are dropped, the rest is the body.

Nothing here depends on markup beyond blocks (paragraphs, list items, headings): the same rules
read a page with Drupal field classes and a page of plain <p> and <div> elements.
"""

from __future__ import annotations

from archiver.parse.bio import PERSON, maybe_disclosure
from archiver.parse.blocks import Block
from archiver.parse.header import SEPARATORS, header_values, label_of, label_values, line_labels
from archiver.parse.labels import split_keywords, unique
from archiver.parse.page import absolute, is_inside, text_of
from archiver.parse.text import collapse

_ORIGIN_CHARS = ("http://", "https://", "www.")
_PENDING = frozenset(("citation", "study_type", "published", "created", "issue_date", "issue", "category"))
_MENU_ITEMS = 8  # a list of at least this many links and nothing else is a menu (topics, tags)


class Reader:
    """One pass over the region's blocks, filling `found`."""

    def __init__(self, found, region, base, profile):
        self.found, self.base, self.profile, self.labels = found, base, profile, profile.labels
        skipped = set()  # elements already read (template fields) and the title's
        for el in region.consumed:
            skipped.update(el.iter())
        title_nodes = set(region.title_el.iter()) if region.title_el is not None else set()
        title_at = next((i for i, b in enumerate(region.blocks) if b.el in title_nodes), 0)
        self.blocks = [b for b in region.blocks if b.el not in skipped and b.el not in title_nodes]
        # the blocks above the title: a first run of the blocks (their order is kept)
        self.above_title = sum(1 for b in region.blocks[:title_at] if b.el not in skipped)
        # which lines are disclosures (a cheap test first: the regex is slow on every paragraph)
        search = self.labels.disclosure.search
        self.strong = [len(t) < 1200 and maybe_disclosure(t) and search(t) is not None
                       for t in (b.text for b in self.blocks)] + [False]
        self.title = found.get("title")
        self.in_header = True
        self.stop = False
        self.pending: str | None = None  # a label alone on its line takes the next line
        self.body: list[Block] = []
        self.last: Block | None = None  # the last line read before the one being read
        self.bio_author: str | None = None  # whose bio box is open (its name line was read)
        self.bylines = 0
        self.affiliations: list[tuple] = []  # (author name or None, text, the disclosure after it)
        self.roles: list[tuple] = []  # (author name, role line)
        self.disclosures = found.values.setdefault("_disclosures", [])
        self.labels_re = line_labels(self.labels, marks=True)
        self.teaser = bool(found.get("_paywalled"))  # the page is known to be a subscriber teaser
        self.prompts = found.values.pop("_paywall_prompts", [])  # the teaser's prompt boxes, by markup
        self.teasers = 0
        self.menus = _link_menus(self.blocks)

    # -- the walk ---------------------------------------------------------------------------
    def read(self) -> None:
        for i, block in enumerate(self.blocks):
            if self.stop:
                break
            self.line(i, block)
            self.last = block
        self.finish()

    def line(self, i: int, block: Block) -> None:
        text, labels = block.text, self.labels
        if self.pending:
            name, self.pending = self.pending, None
            self.offer_all(label_values(name, text, self.profile))
            if name == "issue":
                self.issue_link(block)
            return
        if self.in_header and self.title and text.startswith(self.title):
            if text == self.title:
                return
            if text[len(self.title)] == "\n":  # "<b>Title</b><br>Volume 1, …<br>By …": lines of one block
                block.text = text = text[len(self.title) + 1:]
        packed = self.in_header and ("|" in text or "·" in text or "•" in text) and bool(SEPARATORS.search(text))
        if packed and not labels.keywords.match(text) and self.header(header_values(text, self.profile)):
            return
        match = self.labels_re.match(text)
        if match:
            name = match.lastgroup
            if name == "author_box_end":
                self.stop = True
                return
            if name in ("breadcrumb", "issue_links") or self.labelled(block, name, text[match.end():].strip()):
                return
        elif text[:4] == "From" and len(text) < 120:
            label = label_of(text, self.profile)
            if label and self.labelled(block, *label):
                return
        if (self.strong[i] or self.strong[i + 1]) and self.disclosure(i, block):
            return
        short = len(text) < 600
        if short and _maybe_paywall(text) and labels.paywall.search(text):
            self.found.offer("paywalled", True, "label paywall")
            self.stop = True
            return
        if self.teaser and short and len(text) < 400 and (labels.gate.search(text) or any(is_inside(block.el, box) for box in self.prompts)):
            self.stop = True  # a known teaser: the subscription box ends the visible text
            return
        before_title = i < self.above_title
        if self.in_header:
            if self.kind(text, before_title):
                return
            # (the line starts with no label: the labels were tested above)
            values = None if packed else header_values(text, self.profile, unlabelled=match is None)
            if values is not None and not _only_roles(values) and self.header(values):
                return
            if self.bare_url(text) or self.affiliation(i, block):
                return
            if values is not None and self.bylines and self.header(values):
                return  # a role line under the byline
        if block.link_chars and block.link_chars > 0.9 * len(text):
            if len(text) < 30 and labels.read_more.match(text):
                self.teasers += 1  # "Read More" under a teaser: a listing's or an issue's
            if block.group is None and _short_links(block):
                self.link_line(block)
                return
            if block.group is not None and (block.group in self.menus or self.in_header):
                return  # a topic menu, a row of buttons
        if not block.in_container or before_title:
            return  # between the title and the article: metadata or chrome, never the body
        self.in_header = False
        self.bio_author = None
        self.body.append(block)

    def offer_all(self, values) -> None:
        for name, value, how, rank in values:
            self.found.offer(name, value, how, rank)

    # -- labelled lines -----------------------------------------------------------------------
    def labelled(self, block: Block, name: str, rest: str) -> bool:
        if name == "keywords":
            return self.keywords(block, rest)
        if name == "chrome_line":
            return len(block.text) < 300
        if not rest and name in _PENDING:
            self.pending = name
            return True
        self.offer_all(label_values(name, rest, self.profile))
        if name == "issue":
            self.issue_link(block)
        return True

    def keywords(self, block: Block, rest: str) -> bool:
        """ "KEYWORDS …" closes the article; the previous era's "Topics: A | B" under the title
        is the page's keywords too, and the text goes on."""
        if block.link_density >= 0.5:
            words = unique([w for w in (collapse(text_of(a)).lower() for a in block.el.iter("a")) if w])
        else:
            words = split_keywords(rest) if rest else []
        self.found.offer("keywords", words, "label keywords")
        if not self.in_header:
            self.stop = True
            if self.last is not None and self.body and self.last is self.body[-1] or \
                    (self.last is not None and not self.last.in_container):
                self.category_line(self.last)
        return True

    def category_line(self, block: Block) -> None:
        """A short Title Case line closing the article, just above the keywords."""
        words = block.text.split()
        if (0 < len(words) <= 5 and not block.is_heading and block.group is None
                and block.text[-1] not in ".:;!?"
                and all(w[:1].isupper() or w in ("and", "&", "of", "the") for w in words)):
            if self.found.offer("category", block.text, "line above the keywords") and self.body \
                    and self.body[-1] is block:
                self.body.pop()

    def issue_link(self, block: Block) -> None:
        """The link of an "Issue:" line is the issue's page."""
        for link in block.el.iter("a"):
            self.found.offer("issue_url", absolute(link.get("href"), self.base), "label issue")
            return

    # -- disclosures and bio boxes ----------------------------------------------------------
    def disclosure(self, i: int, block: Block) -> bool:
        text, strong = block.text, self.strong
        # "Dr. A is cofounder of B." then "Dr. C has reviewed … no commercial bias …": one
        # disclosure over two lines
        if strong[i] or (strong[i + 1] and len(text) < 600 and PERSON.match(text)
                         and self.labels.interests.search(text)):
            self.disclosures.append(text)
            self.found.how.setdefault("disclosure", "label disclosure")
            self.bio_author = None
            return True
        return False

    def affiliation(self, i: int, block: Block) -> bool:
        """A bio box's affiliation paragraph: after the author's name, or anyway just before a
        disclosure, in the header."""
        text = block.text
        if len(text) > 700 or block.is_heading or text.endswith("?"):
            return False
        ahead = next((j for j in range(i + 1, min(i + 4, len(self.blocks))) if self.strong[j]), None)
        if ahead is None or not (self.bio_author or self.labels.affiliation.search(text)):
            return False
        self.affiliations.append((self.bio_author, text, self.blocks[ahead].text))
        return True

    # -- header lines -----------------------------------------------------------------------
    def header(self, values: list[tuple] | None) -> bool:
        if values is None:
            return False
        found = self.found
        line_authors = None
        for name, value, how, rank in values:
            if name == "authors":
                line_authors = value
                known = {a.name for a in found.get("authors", [])}
                # the name again, above a bio box, once the byline is known
                self.bio_author = value[0].name if known and all(a.name in known for a in value) else None
                found.offer("authors", value, how)
                found.values.setdefault("_bylines", []).append(value)
                self.bylines += 1
            elif name == "_role":  # its author: named with it, else the last byline's last
                authors = line_authors or found.get("_bylines", [[]])[-1]
                if value[0] or authors:
                    self.roles.append((value[0] or authors[-1].name, value[1]))
            else:
                found.offer(name, value, how, rank)
        return True

    def kind(self, text: str, before_title: bool) -> bool:
        kind = self.labels.article_type(text)
        if kind:
            self.found.offer("article_type", kind, "kind label above the title" if before_title else "kind label")
        return bool(kind)

    def bare_url(self, text: str) -> bool:
        """A line that is only a URL, under the title: the issue's page, or nothing."""
        if not text.startswith(_ORIGIN_CHARS) or " " in text or len(text) > 200:
            return False
        url = absolute(text if "://" in text else "https://" + text, self.base)
        if url and self.profile.hint(url) == "issue":
            self.found.offer("issue_url", url, "issue URL under the title")
        return True

    def link_line(self, block: Block) -> None:
        """A line that is only a link: a category or issue link gives its field; others are chrome."""
        links = [a for a in block.el.iter("a") if a.get("href") is not None]
        if len(links) != 1:
            return
        href = absolute(links[0].get("href"), self.base) or ""
        hint = self.profile.hint(href)
        if hint == "issue" and self.in_header:
            self.found.offer("issue_url", href, "issue link under the title")
        elif self.profile.vocabulary.category_path.match(_path(href)) or hint == "listing":
            self.found.offer("category", block.text, "category link")

    # -- the end ----------------------------------------------------------------------------
    def finish(self) -> None:
        body = []
        speaker = None
        for block in self.body:
            text = block.text
            if len(text) < 40 and self.labels.speaker.match(text):
                speaker = text  # "TCPR:" alone: it leads the next paragraph
                continue
            if speaker:
                block.text = f"{speaker} {text}"
                speaker = None
            elif len(text) < 250 and not block.is_heading and block.el.find(".//img") is not None:
                continue  # a photo with its caption or credit
            body.append(block)
        self.found.values["_body_blocks"] = body
        self.found.values["_affiliations"] = self.affiliations
        self.found.values["_roles"] = self.roles
        self.found.values["_teasers"] = self.teasers


def _only_roles(values: list[tuple]) -> bool:
    return all(name == "_role" for name, *_ in values)


def _path(url: str) -> str:
    start = url.find("/", url.find("//") + 2) if "//" in url else 0
    return url[start:] if start >= 0 else "/"


def _link_menus(blocks: list[Block]) -> set:
    """Lists of many links and nothing else (a "Browse by Topic" menu)."""
    counts: dict = {}
    for block in blocks:
        if block.group is not None:
            entry = counts.setdefault(block.group, [0, 0])
            entry[0] += 1
            entry[1] += block.link_density > 0.9
    return {group for group, (items, links) in counts.items() if items >= _MENU_ITEMS and links == items}


def _short_links(block: Block) -> bool:
    """A line of buttons or menu links: every link's text is short (≤ 8 words)."""
    links = list(block.el.iter("a"))
    return bool(links) and all(len(text_of(a).split()) <= 8 for a in links)


def _maybe_paywall(text: str) -> bool:
    """Cheap test before the paywall regex: substrings that match either case."""
    return ("ubscri" in text or "og in" in text or "ogin" in text or "ign in" in text
            or "full" in text or "urchase" in text or "ree article" in text or "eading" in text)
