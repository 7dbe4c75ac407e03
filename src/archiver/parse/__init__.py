"""Article pages -> `Article` records; links of any page for the crawler.

    parse_article(html, url=None, headers=None, profile=None) -> Article   (NotAnArticle / InputTooLarge)
    parse_issue(html, url=None, headers=None, profile=None) -> Issue       (NotAnArticle(kind="other"))
    parse_capture(capture, profile=None) -> Article
    parse_issue_capture(capture, profile=None) -> (Issue, newsletter)
    discover_links(html, base_url, headers=None) -> [absolute URLs]

The parse is: bytes -> text (decode.py) -> a `Document` (page.py) -> the profile's extractor:
the layered rules (layered.py), a profile's own field rules (rules.py) or the generic extractor
(generic.py), each called as `extract(document, profile, url)`. `profile` is a Profile
(archiver.profile), a built-in profile's name or a TOML file; when None, the profile claiming
the URL's host (the default profile for other hosts).
"""

from __future__ import annotations

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse.discover import feed_links, html_links
from archiver.parse.issue import extract_issue
from archiver.parse.page import MAX_INPUT_BYTES, Document, checked_input, load_tree
from archiver.profile import Profile, get_profile
from archiver.record import Article, Capture, Issue

__all__ = ["MAX_INPUT_BYTES", "NotAnArticle", "Profile", "discover_links", "get_profile",
           "parse_article", "parse_capture", "parse_issue", "parse_issue_capture"]


def parse_article(html: str | bytes, url: str | None = None, headers: dict | None = None,
                  profile: Profile | str | None = None) -> Article:
    """Parse one article page. Raises NotAnArticle(reason) for pages that are not one."""
    chosen = get_profile(profile, url)
    return chosen.parse(Document.from_input(html, headers), url)


def parse_issue(html: str | bytes, url: str | None = None, headers: dict | None = None,
                profile: Profile | str | None = None) -> Issue:
    """Parse one issue page (its title, date, volume, number and the articles it lists).
    Raises NotAnArticle(kind="other") for pages that are not issue pages (articles included)."""
    chosen = get_profile(profile, url)
    return extract_issue(Document.from_input(html, headers), chosen, url)


def parse_capture(capture: Capture, profile: Profile | str | None = None) -> Article:
    if capture.status and capture.status >= 400:
        raise NotAnArticle(f"HTTP status {capture.status}", kind="error")
    return parse_article(capture.body, url=capture.url, headers=capture.headers, profile=profile)


def parse_issue_capture(capture: Capture, profile: Profile | str | None = None) -> tuple[Issue, str | None]:
    """An issue page's Issue and the newsletter it belongs to: the one its URL's issue code
    names, else the one its title names (None when neither says)."""
    if capture.status and capture.status >= 400:
        raise NotAnArticle(f"HTTP status {capture.status}", kind="error")
    chosen = get_profile(profile, capture.url)
    issue = parse_issue(capture.body, url=capture.url, headers=capture.headers, profile=chosen)
    newsletter = (chosen.newsletters.issue_of_url(issue.url or capture.url)[0]
                  or chosen.newsletters.name_in(issue.title))
    return issue, newsletter


def discover_links(html: str | bytes, base_url: str, headers: dict | None = None) -> list[str]:
    """Absolute http(s) URLs of the page's links, fragments stripped, deduplicated, in order;
    then the feeds it announces. For a sitemap or RSS/Atom feed: the URLs it lists."""
    raw = html if isinstance(html, bytes) else (html or "").encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_INPUT_BYTES:
        listed = feed_links(raw, base_url)
        if listed is not None:
            return [url for url, _ in listed]
    try:
        root = load_tree(*checked_input(html, headers))
    except (NotAnArticle, InputTooLarge):  # nothing to follow in binary, empty or huge input
        return []
    return [url for url, _ in html_links(root, base_url)]
