"""What a fetched page is, by its content, and its links: what the crawler follows.

    examine(capture, profile, html=True) -> Examined

A feed or sitemap is a hub by its XML. Of an HTML page, the parser's verdict decides: an
Article, or NotAnArticle whose `kind` says "listing", "issue" (hubs: their links lead to
articles), "error" (a "not found" page) or "other". A page the parser calls "other" is still a
hub when its main part (navigation, sidebars and other chrome left out) shows at least
`[discovery] min_teasers` article teasers: headings that are links, links the profile's hints
call articles, and teaser links in `[discovery] teaser_link` words ("Read More"). That is how an
issue page of teasers at a URL no hint knows is crawled like the issue page it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse import parse_capture, parse_issue_capture
from archiver.parse.discover import Link, feed_links, html_links, page_base
from archiver.parse.page import absolute, checked_input, load_tree, text_of
from archiver.profile import CHROME, HIDDEN, Profile
from archiver.record import Article, Capture, Issue

HUB_KINDS = ("listing", "issue", "feed")  # pages whose links lead to articles
CHROME_TAGS = {"nav", "header", "footer", "aside", "menu", "form", "script", "style", "template"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5"}
# A page the parser took for an article is a hub when teaser cards (a heading, a teaser, "Read
# More") hold at least this share of its words: a stray "Read more" box in an article does not.
CARD_SHARE = 0.5


@dataclass
class Examined:
    kind: str  # "article" | "listing" | "issue" | "feed" | "other" | "error" | "unreadable" | "broken"
    reason: str = ""  # why it is not an article, in the parser's words
    article: Article | None = None
    links: list[Link] = field(default_factory=list)
    issue: Issue | None = None  # an issue page's own record (title, date, volume, contents)
    newsletter: str | None = None  # the newsletter that issue belongs to, when the page says


def examine(capture: Capture, profile: Profile, html: bool = True) -> Examined:
    """The page's kind and links. `html`: the response is HTML (the crawler read its type);
    a page that is neither HTML nor a feed is "unreadable", and so is HTML that cannot be read
    (empty, binary). A parser crash is "broken" (its links are still followed)."""
    listed = feed_links(capture.body, capture.url)
    if listed is not None:
        return Examined("feed", links=listed)
    if not html:
        return Examined("unreadable", f"not HTML ({capture.content_type or 'no content type'})")
    try:
        root = load_tree(*checked_input(capture.body, capture.headers))
    except (NotAnArticle, InputTooLarge) as exc:
        return Examined("unreadable", str(exc))
    links = html_links(root, capture.url)
    try:
        article = parse_capture(capture, profile)
    except NotAnArticle as exc:
        kind, reason = exc.kind, str(exc)
    except Exception as exc:  # a parser bug on one page is reported, not fatal
        return Examined("broken", f"parser error: {type(exc).__name__}: {exc}"[:300], links=links)
    else:
        # Teasers that each close with a "Read More" link are an issue or listing page,
        # however much it reads like one article (the parser sees a title, bylines, prose).
        shown = teasers(root, page_base(root, capture.url), profile) if _teaser_links(root, profile) else Teasers()
        if shown.cards and shown.card_words >= CARD_SHARE * article.word_count:
            return _hub(capture, profile, "listing", f"{shown.cards} teasers with a link to the full text",
                        links)
        return Examined("article", article=article, links=links)
    if kind not in HUB_KINDS and kind != "error":
        shown = teasers(root, page_base(root, capture.url), profile)
        if shown.cards >= 2 or shown.total >= profile.min_teasers:
            return _hub(capture, profile, "listing", f"{shown.total} article teasers", links)
        kind = "other"
    if kind in ("listing", "issue"):
        return _hub(capture, profile, kind, reason, links)
    return Examined(kind, reason, links=links)


def _hub(capture: Capture, profile: Profile, kind: str, reason: str, links: list) -> Examined:
    """A listing or issue page; with its issue's record when its content is an issue page's."""
    try:
        issue, newsletter = parse_issue_capture(capture, profile)
    except NotAnArticle:
        return Examined(kind, reason, links=links)
    return Examined("issue", reason, links=links, issue=issue, newsletter=newsletter)


@dataclass
class Teasers:
    total: int = 0  # distinct pages linked as teasers: linked headings, article hints, teaser links
    cards: int = 0  # of which teaser links ("Read More") closing a block that has its own heading
    card_words: int = 0  # words in those blocks


def teasers(root, base: str, profile: Profile) -> Teasers:
    """The article teasers in the main part of the page (chrome, hidden parts and links the
    profile denies left out)."""
    own = absolute(base, None)
    found: set[str] = set()
    cards: dict[str, object] = {}  # url -> its card
    stack = [(root, False)]
    while stack:
        el, in_heading = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in CHROME_TAGS:
            continue
        names = f"{el.get('class') or ''} {el.get('id') or ''}".strip()
        if names and profile.vocabulary.flags(names) & (CHROME | HIDDEN):
            continue
        heading = in_heading or tag in HEADINGS
        if tag == "a":
            url = absolute(el.get("href"), base)
            if url and url != own and not profile.denies(url):
                words = " ".join(text_of(el).split())
                if heading or any(child.tag in HEADINGS for child in el.iter()):
                    if len(words.split()) >= 2:  # a title, not a "»" or a page number
                        found.add(url)
                elif profile.teaser_link.match(words):
                    found.add(url)
                    card = _card_of(el)
                    if card is not None:
                        cards.setdefault(url, card)
                elif profile.hint(url) == "article":
                    found.add(url)
        stack.extend((child, heading) for child in el)
    blocks = {id(card): card for card in cards.values()}.values()
    return Teasers(len(found), len(cards), sum(len(text_of(card).split()) for card in blocks))


def _teaser_links(root, profile: Profile) -> bool:
    """Has the page a link in teaser words at all? (Cheap: most articles have none.)"""
    return any(profile.teaser_link.match(" ".join(text_of(a).split())) for a in root.iter("a"))


def _card_of(link, levels: int = 3):
    """The block (up to `levels` up) around the link that also holds a heading: a teaser card."""
    el = link.getparent()
    for _ in range(levels):
        if el is None:
            return None
        if any(link not in h.iter("a") for h in el.iter(*HEADINGS)):
            return el
        el = el.getparent()
    return None
