"""The Carlat Publishing site profile, as the layered rules of article.py consult it.

The data lives in `src/archiver/profiles/carlat.toml` (hosts, start pages, URL patterns,
newsletter names, the template vocabulary); this module compiles it once and adds what data
cannot say (class-name lookups with Drupal/BEM unwrapping). If the site moves or is redesigned,
the TOML file is the one to update.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from archiver.parse.profiles import builtin_data

_DATA = builtin_data("carlat")  # src/archiver/profiles/carlat.toml: the site as data

HOSTS = set(_DATA["hosts"])
BASE = _DATA["base_url"]
START_URLS = [BASE + path for path in _DATA["start_urls"]]

# Regexes on the URL path (+ "?query"). Anything else (store, CME, login, podcasts) is None.
URL_PATTERNS = {kind: re.compile(_DATA["links"][kind]) for kind in ("article", "issue", "listing")}


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
_TEMPLATE = _DATA["template"]
# CSS-class words of the known (and likely) templates, tried before generic heuristics.
CONTAINER_CLASSES = tuple(_TEMPLATE["container_classes"])
CHROME_CLASS = re.compile(_TEMPLATE["chrome_class"], re.I)
HIDDEN_CLASS_WORDS = tuple(_TEMPLATE["hidden_class_words"])

# Newsletter names as the site writes them; the issue code prefix in /newsletter-issue/<code>.
NEWSLETTERS = dict(_DATA["newsletters"])
NEWSLETTER_NAME = re.compile(_TEMPLATE["newsletter_name"])


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
TEMPLATE_FIELDS = {name: tuple(tokens) for name, tokens in _TEMPLATE["fields"].items()}
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
CATEGORY_PATH = re.compile(_TEMPLATE["category_path"])
