"""An issue page's own record: its title, date, volume, number and the articles it lists.

    extract_issue(document, profile, url) -> Issue     (NotAnArticle(kind="other") for other pages)

An issue page is one that is not an article (the profile's own verdict says so), has the marks
of an issue — an issue URL, a volume and number, an issue date, "Issue Links", a table of
contents label, JSON-LD PublicationIssue, or a month for a title — and lists articles: teaser
headings that link to them, links under "Read More", or the list after "In this issue". The
eras differ ("Volume 16, Number 1, January 2018", "January, 2013 | Vol: 11 Issue: 1", teasers with
"Read More"); the words are the profile's.
"""

from __future__ import annotations

from archiver.errors import NotAnArticle
from archiver.parse.blocks import blocks_of
from archiver.parse.clean import article_container, remove_chrome, remove_invisible
from archiver.parse.header import header_values
from archiver.parse.labels import label_test, page_labels
from archiver.parse.page import Document, absolute, ld_text, structured_data, text_of, without_query
from archiver.parse.text import collapse, find_date, parse_date
from archiver.record import Issue, IssueArticle

_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_HEADER_LINES = 10  # lines under the title that may say the issue's date, volume and number


def extract_issue(document: Document, profile, url: str | None) -> Issue:
    if _is_article(document, profile, url):
        raise NotAnArticle("an article page, not an issue page", kind="other")
    root = document.tree()
    data = structured_data(root, url)
    base = data.base_url or url or data.canonical or profile.base_url
    marks = remove_invisible(root, profile.vocabulary, label_test(profile))
    page = page_labels(marks, base, profile)
    container, _ = article_container(root, marks)
    title_el = _title_element(root, profile)
    remove_chrome(root, [title_el, container], marks)

    issue = Issue(url=data.canonical or without_query(url))
    header = _header(root, title_el, profile)
    ld = _ld_issue(data)
    issue.title = _title(title_el, data, profile)
    issue.date = (page.issue_date or header.get("issue_date") or header.get("published")
                  or find_date(ld_text(ld, "datePublished")) or header.get("_month_date")
                  or parse_date(issue.title, month_only=True))
    _, url_volume, url_number = profile.newsletters.issue_of_url(url or issue.url)
    issue.volume = header.get("issue_volume") or ld_text(ld, "volumeNumber") or url_volume
    issue.number = header.get("issue_number") or ld_text(ld, "issueNumber") or url_number
    issue.articles = _teasers(root, title_el, base, profile) or page.toc
    marked = any((profile.hint(url or "") == "issue", url_volume, ld, issue.volume, page.issue_date,
                  page.toc, header.get("_issue_links"), parse_date(issue.title, month_only=True)))
    if not marked:
        raise NotAnArticle("no issue marks (volume, issue date, contents)", kind="other")
    if not issue.articles:
        raise NotAnArticle("no articles listed", kind="other")
    return issue


def _is_article(document: Document, profile, url: str | None) -> bool:
    """The profile's own verdict: a page it parses as an article is not an issue page."""
    try:
        profile.parse(document, url)
    except NotAnArticle:
        return False
    return True


def _title_element(root, profile):
    """The page's first <h1> that is not the site's name."""
    for h1 in root.iter("h1"):
        text = collapse(text_of(h1)).lower()
        if text and text not in profile.site_names and not any(a.tag in ("nav", "footer") for a in h1.iterancestors()):
            return h1
    return None


def _title(title_el, data, profile) -> str | None:
    if title_el is not None:
        return collapse(text_of(title_el)) or None
    title = collapse(data.title_tag)
    for separator in (" | ", " – ", " — ", " - "):
        if separator in title:
            head, tail = title.rsplit(separator, 1)
            if any(name in tail.lower() for name in profile.site_names):
                return head.strip() or None
    return title or None


def _ld_issue(data) -> dict:
    for item in ([data.article] if data.article else []):
        for part in [item] + [p for p in (item.get("isPartOf"),) if isinstance(p, dict)]:
            if "publicationissue" in str(part.get("@type", "")).lower():
                return part
    return {}


def _header(root, title_el, profile) -> dict:
    """The fields of the lines under the title, up to the first teaser: "Volume 19, Number 3",
    "January, 2013 | Vol: 11 Issue: 1", a date, "From <newsletter>", "Issue Links: …"."""
    body = root.find("body")
    blocks = blocks_of(body if body is not None else root)
    nodes = set(title_el.iter()) if title_el is not None else set()
    start = next((i + 1 for i, b in enumerate(blocks) if b.el in nodes), 0)
    found: dict = {}
    for block in blocks[start:start + _HEADER_LINES]:
        if block.is_heading:
            break
        if profile.labels.issue_links.match(block.text):
            found["_issue_links"] = True
            continue
        issue_date = profile.labels.issue_date.match(block.text)
        if issue_date:
            found.setdefault("issue_date", parse_date(block.text[issue_date.end():], month_only=True))
            continue
        for name, value, _how, _rank in header_values(block.text, profile) or ():
            if value:
                found.setdefault(name, value)
    # A title that is itself a volume line ("The … Report, Volume 16, Number 1, January 2018")
    # says what lines under it did not.
    title = collapse(text_of(title_el)) if title_el is not None else ""
    for name, value, _how, _rank in header_values(title, profile) or ():
        if value:
            found.setdefault(name, value)
    return found


def _teasers(root, title_el, base, profile) -> list[IssueArticle]:
    """Articles the page lists as teasers: headings that are links, and links with a "Read
    More" under them (titled by the teaser's own link or heading), in page order, from the
    title on. A plain heading after the teasers ("Recommended", "Featured Book") ends them."""
    entries: dict[str, IssueArticle] = {}
    titles: dict[str, str] = {}  # the text of the last link to each URL
    heading_text = None
    seen_title = title_el is None
    started = False
    for el in root.iter(*_HEADINGS, "a"):
        if not seen_title:
            seen_title = el is title_el
            continue
        if el.tag in _HEADINGS:
            link = next((a for a in el.iter("a") if a.get("href")), None)
            text = collapse(text_of(el))
            url = _article_url(link, base, profile) if link is not None else None
            if url and len(collapse(text_of(link))) >= 0.8 * len(text):
                entries.setdefault(url, IssueArticle(collapse(text_of(link)), url))
                started = True
            elif started and text:
                break
            heading_text = text or heading_text
            continue
        if any(a.tag in _HEADINGS for a in el.iterancestors()):
            continue  # a heading's own link, read with it
        url = _article_url(el, base, profile)
        text = collapse(text_of(el))
        if not url or not text:
            continue
        if profile.labels.read_more.match(text):
            if url not in entries:
                title = titles.get(url) or heading_text
                if title:
                    entries[url] = IssueArticle(title, url)
                    started = True
        else:
            titles[url] = text
    return list(entries.values())


def _article_url(link, base, profile) -> str | None:
    """A link's URL if it may lead to an article: on the site, not an issue or listing page."""
    url = absolute(link.get("href"), base)
    if not url or profile.hint(url) in ("issue", "listing"):
        return None
    if base and not _same_site(url, base):
        return None
    return url


def _same_site(url: str, base: str) -> bool:
    def host(u: str) -> str:
        part = u.split("//", 1)[-1].split("/", 1)[0].lower()
        return part[4:] if part.startswith("www.") else part
    return host(url) == host(base)
