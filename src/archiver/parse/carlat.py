"""The Carlat Publishing site profile: what its URLs mean and where its templates put things.

Everything here is data the generic parser and the crawler consult; nothing else in the
package knows the site. If the site moves or is redesigned, this is the file to update.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HOSTS = {"www.thecarlatreport.com", "thecarlatreport.com"}
BASE = "https://www.thecarlatreport.com"

NEWSLETTER_SLUGS = (
    "general-psychiatry", "child-psychiatry", "addiction-treatment", "hospital-psychiatry",
    "geriatric-psychiatry", "psychotherapy-and-social-work",
)
START_URLS = [f"{BASE}/newsletters/{slug}" for slug in NEWSLETTER_SLUGS]

# Regexes on the URL path (+ "?query"). Anything else (store, CME, login, podcasts) is None.
URL_PATTERNS = {
    "article": re.compile(r"^/articles/(?P<id>\d+)(?:-[^/?#]*)?/?$"),
    "issue": re.compile(r"^/newsletter-issue/[A-Za-z0-9_-]+/?$"),
    "listing": re.compile(r"^/newsletters/[a-z0-9-]+/?(?:\?page=\d+)?$"),
}


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def classify(url: str) -> str | None:
    """ "article" | "issue" | "listing" for URLs the crawler follows, None for the rest."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.netloc and parts.netloc.lower().split(":")[0] not in HOSTS:
        return None
    target = _path_and_query(url)
    for kind, pattern in URL_PATTERNS.items():
        if pattern.match(target):
            return kind
    return None


def article_id(url: str | None) -> int | None:
    """The site's numeric article id from /articles/<id>-<slug>, or None."""
    if not url:
        return None
    try:
        match = URL_PATTERNS["article"].match(urlsplit(url).path)
    except ValueError:
        return None
    return int(match["id"]) if match else None


# ------------------------------------------------------------------ template knowledge
# CSS-class words of the known (and likely) templates, tried before generic heuristics.
# Article containers, most specific first (Drupal field names, then common theme names).
CONTAINER_CLASSES = (
    "article-detail", "article-details", "article-content", "article-body", "node-article",
    "field-name-body", "field--name-body", "node__content", "entry-content", "post-content",
    "story-body", "article__body",
)
# Sidebars / boxes whose text is never the article's: whole parts of class or id names
# ("share-buttons" yes, "psychotherapy-and-social-work" no).
CHROME_CLASS = re.compile(
    r"(?:^|[\s_-])(?:breadcrumbs?|carousel|slick(?:-\w+)?|slider|swiper|owl-carousel|share|sharing|"
    r"addthis|sharethis|social-(?:links|share|media|icons|buttons|follow)|subscribe|signup|"
    r"newsletter-signup|author-(?:box|bio|info|profile|card)|about-(?:the-)?author|"
    r"more-from(?:-\w+)?|related|recommended|featured|sidebar|widget|advert|ad-slot|cookies?|"
    r"banner|menu|pager|pagination|issue-links|print(?:er)?|print-links?|comments?|popup|modal|"
    r"links)(?=$|[\s_-])",
    re.I)
HIDDEN_CLASS_WORDS = ("hidden", "d-none", "sr-only", "visually-hidden", "element-invisible",
                      "slick-cloned", "hide", "invisible")

# Newsletter names as the site writes them; the issue code prefix in /newsletter-issue/<code>.
NEWSLETTERS = {
    "tcpr": "The Carlat Psychiatry Report",
    "ccpr": "The Carlat Child Psychiatry Report",
    "catr": "The Carlat Addiction Treatment Report",
    "chpr": "The Carlat Hospital Psychiatry Report",
    "cgpr": "The Carlat Geriatric Psychiatry Report",
    "ctpr": "The Carlat Psychotherapy Report",
}
NEWSLETTER_NAME = re.compile(r"\b(?:The\s+)?Carlat\s+((?:[A-Z][A-Za-z&]*\s+){1,4})Report\b")


def newsletter_from_issue_url(url: str | None) -> str | None:
    if not url or classify(url) != "issue":
        return None
    code = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1].lower()
    for prefix, name in NEWSLETTERS.items():
        if code.startswith(prefix):
            return name
    return None


# Template fields: class names (whole tokens) of elements that hold one field. Drupal names its
# field wrappers "field--name-field-<x>" (8+) / "field-name-field-<x>" (7); other names are the
# usual theme vocabulary.
TEMPLATE_FIELDS = {
    "byline": ("field-byline", "field-author", "field-authors", "byline", "article-byline",
               "article-author", "article-authors", "author-name", "authors", "author"),
    "published": ("field-issue-date", "field-date", "field-publish-date", "article-date",
                  "date-display-single", "published", "pubdate", "post-date", "publish-date",
                  "submitted", "date", "dateline"),
    "newsletter": ("field-newsletter", "field-publication", "newsletter-name", "publication"),
    "disclosure": ("field-disclosure", "field-disclosures", "disclosure", "disclosures",
                   "article-disclosure"),
    "category": ("field-category", "field-section", "article-category", "category",
                 "article-section"),
    "keywords": ("field-keywords", "field-tags", "keywords", "article-keywords", "tags"),
}
_DRUPAL_FIELD = re.compile(r"^field-{1,2}name-(field-[a-z0-9-]+)$")


_FIELD_CACHE: dict[str, str | None] = {}


def template_field(class_attr: str | None) -> str | None:
    """Which field an element holds, judging by its class names (None for most elements)."""
    if not class_attr:
        return None
    try:
        return _FIELD_CACHE[class_attr]
    except KeyError:
        pass
    if len(_FIELD_CACHE) > 20000:
        _FIELD_CACHE.clear()
    _FIELD_CACHE[class_attr] = found = _template_field(class_attr)
    return found


def _template_field(class_attr: str) -> str | None:
    for token in class_attr.split():
        token = token.lower()
        drupal = _DRUPAL_FIELD.match(token)
        if drupal:
            token = drupal.group(1)
        elif "__" in token:  # BEM: "c-article__byline" names the byline element
            token = token.rsplit("__", 1)[1]
        for name, tokens in TEMPLATE_FIELDS.items():
            if token in tokens:
                return name
    return None


# Category pages: /category/<slug> (and the newsletter listings, whose names are categories).
CATEGORY_PATH = re.compile(r"^/(?:category|categories|topics?)/[a-z0-9-]+/?$")
