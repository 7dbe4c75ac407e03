"""Site profiles: everything site-specific, as TOML data, in one frozen object.

A profile (src/archiver/profiles/<name>.toml, or any TOML file; see docs/profiles.md) names its
hosts and start pages, URL hints and deny patterns, feeds, newsletter names, the template and label vocabulary, what makes
a page an article, and its extractor. It starts from `profiles/defaults.toml` (or, with
`extends = "<profile>"`, from that profile) and replaces what it gives, table by table. Everything
is checked and compiled once, when the profile loads: a bad regex, CSS selector or XPath is one
error line naming the file and the key.

    get_profile("noctua" | "path/to/site.toml" | Profile | None, url=None) -> Profile
    profile_for_url(url) -> Profile     the built-in profile claiming the URL's host, else the default

An extractor is a function `extract(document, profile, url) -> Article` (NotAnArticle for pages
that are not articles): "layered", "rules" and "generic" are built in; a profile may also name
its own as "package.module:function".
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from cssselect import GenericTranslator, SelectorError
from lxml import etree

from archiver.errors import ArchiverError

DEFAULT_PROFILE = "carlat"  # saved pages without a URL, and hosts no built-in profile claims
DEFAULTS = "defaults"  # profiles/defaults.toml: what every profile starts from
HINT_KINDS = ("article", "issue", "listing", "feed")  # in the order they are tried
EXTRACTORS = {
    "layered": "archiver.parse.layered:extract",
    "rules": "archiver.parse.rules:extract",
    "generic": "archiver.parse.generic:extract",
}
FIELD_NAMES = ("title", "authors", "published", "newsletter", "category", "article_type",
               "disclosure", "citation", "study_type", "body", "keywords", "paywalled",
               "canonical_url", "issue_date", "issue_title", "issue_url", "issue_volume",
               "issue_number", "issue_articles")
RULE_KINDS = ("css", "xpath", "label", "meta", "jsonld", "value")
LABEL_NAMES = ("citation", "study_type", "published", "created", "issue_date", "issue", "issue_links",
               "volume", "category", "keywords", "toc", "disclosure", "interests", "affiliation",
               "role", "speaker", "chrome_line", "breadcrumb", "author_box_end", "paywall", "gate",
               "read_more")

Extractor = Callable[..., object]


# ------------------------------------------------------------------ compiled vocabulary

# Flags of a class/id string (see Vocabulary.class_info).
HIDDEN, CHROME, CONTAINER, PAYWALL, SKIP, TITLE = 1, 2, 4, 8, 16, 32  # TITLE: a "…title…" box
_DRUPAL_FIELD = re.compile(r"^field-{1,2}name-(field-[a-z0-9-]+)$")


def _words(words: list[str], where: str) -> re.Pattern:
    """Whole class-name words, any case."""
    if not words:
        return re.compile(r"(?!x)x")  # matches nothing
    return _regex(r"(?:^|\s)(?:" + "|".join(map(re.escape, words)) + r")(?=$|\s)", where, re.I)


def _regex(pattern: str, where: str, flags: int = 0) -> re.Pattern:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ArchiverError(f"{where}: bad regex: {exc}") from None


class Vocabulary:
    """The template vocabulary, compiled: what a class or id string says an element is."""

    def __init__(self, template: dict, where: str):
        self.hidden = _words(template.get("hidden_class_words", []), f"{where}: template.hidden_class_words")
        self.container = _words(template.get("container_classes", []), f"{where}: template.container_classes")
        self.chrome = _regex(template.get("chrome_class") or r"(?!x)x", f"{where}: template.chrome_class", re.I)
        self.skippable = _regex(template.get("skippable_chrome_class") or r"(?!x)x",
                                f"{where}: template.skippable_chrome_class", re.I)
        self.paywall = _regex(template.get("paywall_class") or r"(?!x)x", f"{where}: template.paywall_class", re.I)
        self.category_path = _regex(template.get("category_path") or r"(?!x)x", f"{where}: template.category_path")
        self.field_of_token = {token.lower(): name for name, tokens in (template.get("fields") or {}).items()
                               for token in reversed(tokens)}
        # Pages repeat the same few hundred class strings: each is judged once.
        self.class_info = lru_cache(maxsize=8192)(self._class_info)
        self.flags = lru_cache(maxsize=8192)(self._flags)
        self.field_of = lru_cache(maxsize=8192)(self._field_of)

    def _class_info(self, names: str) -> tuple[int, str | None]:
        """(flags, template field) of a class attribute."""
        return self._flags(names), self._field_of(names)

    def _flags(self, names: str) -> int:
        flags = 0
        if self.hidden.search(names):
            flags |= HIDDEN
        if self.chrome.search(names):
            flags |= CHROME
            if self.skippable.search(names):
                flags |= SKIP
        if self.container.search(names):
            flags |= CONTAINER
        if self.paywall.search(names):
            flags |= PAYWALL
        if "title" in names:  # a teaser's title box, when listings have no linked headings
            flags |= TITLE
        return flags

    def _field_of(self, names: str) -> str | None:
        """Which field an element holds, judging by its class names (None for most elements)."""
        for token in names.split():
            token = token.lower()
            drupal = _DRUPAL_FIELD.match(token)
            if drupal:
                token = drupal.group(1)
            elif "__" in token:  # BEM: "c-article__byline" names the byline element
                token = token.rsplit("__", 1)[1]
            found = self.field_of_token.get(token)
            if found:
                return found
        return None


class Labels:
    """The label vocabulary, compiled: one regex per label name (see defaults.toml). A site adds
    alternatives to a label under `[labels.more]` instead of repeating the general pattern."""

    def __init__(self, labels: dict, where: str):
        more = labels.get("more") or {}
        for name in LABEL_NAMES:
            patterns = [p for p in (labels.get(name), more.get(name)) if p]
            pattern = "|".join(f"(?:{scoped(p)})" for p in patterns) if len(patterns) > 1 else \
                (patterns[0] if patterns else r"(?!x)x")
            setattr(self, name, _regex(pattern, f"{where}: labels.{name}"))
        self.page_starts = tuple(s.lower() for s in labels.get("page_starts", []))
        # Kinds of article ("Expert Q&A", "Research Update"): by their words, so "Expert Q & A",
        # "EXPERT Q&A" and the slug "expert-qa-..." all name the same kind.
        kinds = list(labels.get("article_types", [])) + list(more.get("article_types", []))
        self.article_types = {kind_key(k): k for k in kinds}
        self.longest_type = max((len(k) for k in kinds), default=0)

    def article_type(self, text: str | None) -> str | None:
        """The kind of article `text` names, written the profile's way; None if none."""
        if not text or len(text) > self.longest_type + 8:
            return None
        return self.article_types.get(kind_key(text))


_INLINE_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")
_KIND_WORDS = re.compile(r"[a-z0-9]+")
_AMPERSAND = re.compile(r"\s*&\s*")  # "Q & A", "Q&A": the same word


def scoped(pattern: str) -> str:
    """A pattern's leading inline flags ("(?i)...") scoped to it ("(?i:...)"), so patterns with
    different flags can be alternatives of one regex."""
    match = _INLINE_FLAGS.match(pattern)
    return f"(?{match.group(1)}:{pattern[match.end():]})" if match else pattern


def kind_key(text: str) -> tuple[str, ...]:
    """The words of a kind of article, lower case, "&" (with its blanks) and apostrophes dropped: "Expert Q&A" ->
    ("expert", "qa"), as its URL slug "expert-qa" writes it."""
    return tuple(_KIND_WORDS.findall(_AMPERSAND.sub("", text.lower()).replace("’", "").replace("'", "")))


class Newsletters:
    """How the site names its newsletters: by issue code prefix, and in running text."""

    def __init__(self, codes: dict, naming: dict, where: str):
        self.by_code = {str(code).lower(): name for code, name in codes.items()}
        self.pattern = _regex(naming["pattern"], f"{where}: newsletter.pattern") if naming.get("pattern") else None
        self.from_label = (_regex(naming["from_label"], f"{where}: newsletter.from_label")
                           if naming.get("from_label") else None)
        self.canonical = naming.get("canonical") or "{0}"
        self.hint = naming.get("hint") or ""
        # Issue URLs that name the issue: groups `volume`, `number` and `code` (a newsletter's
        # code prefix, see [newsletters]).
        issue_urls = naming.get("issue_url") or []
        issue_urls = [issue_urls] if isinstance(issue_urls, str) else issue_urls
        self.issue_urls = tuple(_regex(p, f"{where}: newsletter.issue_url") for p in issue_urls)

    def name_in(self, text: str | None) -> str | None:
        """The newsletter a text names, written the site's way; None when it names none."""
        if self.pattern is None or not text:
            return None
        match = self.pattern.search(text)
        if not match:
            return None
        part = " ".join((match.group(1) if match.groups() else match.group(0)).split())
        return self.canonical.format(part)

    def issue_of_url(self, url: str | None) -> tuple[str | None, str | None, str | None]:
        """(newsletter, volume, number) an issue URL's path names ("/newsletter-issue/tcprv16n1/"
        -> The Carlat Psychiatry Report, "16", "1"); Nones where it names nothing."""
        if not url or not self.issue_urls:
            return None, None, None
        path = urlsplit(url).path
        for pattern in self.issue_urls:
            match = pattern.search(path)
            if match:
                parts = match.groupdict()
                code = parts.get("code")
                return (self.from_code(code) if code else None), parts.get("volume"), parts.get("number")
        return None, None, None

    def from_code(self, code: str) -> str | None:
        code = code.lower()
        for prefix, name in self.by_code.items():
            if code.startswith(prefix):
                return name
        return None


# ------------------------------------------------------------------ the profile

@dataclass(frozen=True, eq=False)
class Profile:
    name: str
    title: str = ""
    source: str = ""
    hosts: frozenset[str] = frozenset()
    base_url: str | None = None
    start_urls: tuple[str, ...] = ()
    # kind -> URL hints on path + ?query, each alternative compiled alone (each may name its `id`)
    links: dict[str, tuple[re.Pattern, ...]] = field(default_factory=dict)
    deny: tuple[re.Pattern, ...] = ()  # links never followed: any of [links.deny] (path + ?query)
    extractor_name: str = "rules"
    extractor: Extractor | None = None
    fields: dict[str, list[dict]] = field(default_factory=dict)  # the rules extractor's rules
    remove: tuple[str, ...] = ()  # CSS selectors of chrome inside the body (rules extractor)
    vocabulary: Vocabulary | None = None
    labels: Labels | None = None
    newsletters: Newsletters | None = None
    site_names: tuple[str, ...] = ()  # lower case
    min_words: int = 60
    min_teaser_words: int = 15
    min_bylined_words: int = 25
    expected_fields: tuple[str, ...] = ()
    guess_sitemap: bool = False  # a crawl also tries each start host's /sitemap.xml
    feeds: tuple[str, ...] = ()  # feeds / sitemaps (paths or URLs) a crawl tries on each start host
    teaser_link: re.Pattern | None = None  # the words of a teaser's link ("Read more")
    min_teasers: int = 3  # article teasers that make an unhinted page a hub

    @classmethod
    def from_data(cls, data: dict, source: str = "") -> Profile:
        where = source or data.get("name") or "profile"
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ArchiverError(f"{where}: a profile needs a name")
        data = _with_base(data, where)
        base = data.get("base_url")
        article = data.get("article") or {}
        discovery = data.get("discovery") or {}
        return cls(
            name=name, title=data.get("title", ""), source=source,
            hosts=frozenset(h.lower() for h in data.get("hosts", [])), base_url=base,
            start_urls=tuple(urljoin(base or "", u) for u in data.get("start_urls", [])),
            links=_links(data.get("links") or {}, where),
            deny=_deny((data.get("links") or {}).get("deny") or {}, where),
            extractor_name=data["extractor"], extractor=_extractor(data["extractor"], where),
            fields=_fields(data.get("fields") or {}, where),
            remove=tuple(_checked_css(s, f"{where}: remove") for s in data.get("remove", [])),
            vocabulary=Vocabulary(data.get("template") or {}, where),
            labels=Labels(data.get("labels") or {}, where),
            newsletters=Newsletters(data.get("newsletters") or {}, data.get("newsletter") or {}, where),
            site_names=tuple(n.lower() for n in (data.get("site") or {}).get("names", [])),
            min_words=int(article.get("min_words", 60)),
            min_teaser_words=int(article.get("min_teaser_words", 15)),
            min_bylined_words=int(article.get("min_bylined_words", 25)),
            expected_fields=tuple(article.get("expected_fields", ())),
            guess_sitemap=bool(discovery.get("guess_sitemap", False)),
            feeds=tuple(_strings(discovery.get("feeds", []), f"{where}: discovery.feeds")),
            teaser_link=_regex(discovery.get("teaser_link") or r"(?!x)x", f"{where}: discovery.teaser_link"),
            min_teasers=int(discovery.get("min_teasers", 3)),
        )

    # -- URLs --------------------------------------------------------------------------------
    def hint(self, url: str) -> str | None:
        """What the URL patterns say a URL is ("article" | "issue" | "listing" | "feed"), judged
        on its path + query so a local mirror's URLs read like the site's; None when none says.
        A hint only orders the crawl and names a page before it is fetched: what a page is, is
        decided by its content."""
        target = _target(url)
        if target is None:
            return None
        for kind in HINT_KINDS:
            if any(pattern.match(target) for pattern in self.links.get(kind, ())):
                return kind
        return None

    def denies(self, url: str) -> bool:
        """Is the URL one the profile's deny patterns keep the crawl away from?"""
        target = _target(url)
        return target is not None and any(pattern.search(target) for pattern in self.deny)

    def claims(self, url: str | None) -> bool:
        """Is the URL on one of the profile's hosts?"""
        try:
            host = urlsplit(url or "").hostname or ""
        except ValueError:
            return False
        return host in self.hosts

    def _article_match(self, url: str | None) -> re.Match | None:
        """The first article pattern with an `id` group matching the URL's path."""
        if not url:
            return None
        try:
            path = urlsplit(url).path
        except ValueError:
            return None
        for pattern in self.links.get("article", ()):
            if "id" in pattern.groupindex:
                match = pattern.match(path)
                if match and (match.group("id") or "").isdigit():
                    return match
        return None

    def article_id(self, url: str | None) -> int | None:
        """The site's article id: the `id` group of whichever article pattern matches."""
        match = self._article_match(url)
        return int(match.group("id")) if match else None

    def article_ref(self, url: str | None) -> str | None:
        """The part of the URL's path that names the article, up to and including its id
        ("/articles/1227" for /articles/1227-slug and /articles/1227): two URLs with the same
        ref are one article. None for URLs without an id."""
        match = self._article_match(url)
        return match.string[:match.end("id")] if match else None

    def newsletter_of_issue(self, url: str | None) -> str | None:
        """The newsletter an issue URL's code names (/newsletter-issue/ccprv12n2)."""
        if not url or self.hint(url) != "issue":
            return None
        return self.newsletters.from_code(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])

    def parse(self, document, url: str | None):
        """The Article of one decoded page (NotAnArticle for other pages)."""
        return self.extractor(document, self, url)


# ------------------------------------------------------------------ loading

def _merged(base: dict, own: dict) -> dict:
    """`own` over `base`: tables merged key by key, everything else replaced."""
    result = dict(base)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            result[key] = _merged(base[key], value)
        else:
            result[key] = value
    return result


def _with_base(data: dict, where: str) -> dict:
    """The profile's data over what it extends: `extends = "<profile>"`, or an `extractor`
    that names a profile (that profile's extractor and vocabulary); else defaults.toml."""
    parent = data.get("extends")
    extractor = data.get("extractor")
    if parent is None and isinstance(extractor, str) and extractor not in EXTRACTORS \
            and ":" not in extractor and extractor in builtin_names():
        parent = extractor
        data = {k: v for k, v in data.items() if k != "extractor"}
    if parent is None:
        return _merged(builtin_data(DEFAULTS), data)
    if not isinstance(parent, str):
        raise ArchiverError(f"{where}: extends must be a profile name or a TOML file")
    base = _profile_data(parent)
    own = {k: v for k, v in data.items() if k != "extends"}
    return _merged({k: v for k, v in base.items() if k not in ("name", "title", "extends")}, own)


def _profile_data(spec: str) -> dict:
    """The whole data of a profile (with what it extends), by built-in name or file path."""
    if spec.endswith(".toml") or "/" in spec:
        data, where = _read_toml(Path(spec)), spec
    elif spec in builtin_names():
        data, where = builtin_data(spec), f"built-in:{spec}"
    else:
        raise ArchiverError(f"no profile named {spec!r} to extend")
    return _with_base(data, where)


def _strings(value, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ArchiverError(f"{where}: must be a string or a list of strings")
    return [v for v in values if v]


def _links(links: dict, where: str) -> dict[str, tuple[re.Pattern, ...]]:
    """Each kind's patterns (a string or a list of alternatives), compiled one by one so that
    every alternative may have its own `id` group."""
    compiled = {}
    for kind, patterns in links.items():
        if kind == "deny":
            continue
        if kind not in HINT_KINDS:
            raise ArchiverError(f"{where}: links.{kind}: unknown kind (one of {', '.join(HINT_KINDS)}, or deny)")
        compiled[kind] = tuple(_regex(p, f"{where}: links.{kind}")
                               for p in _strings(patterns, f"{where}: links.{kind}"))
    return compiled


def _deny(deny, where: str) -> tuple[re.Pattern, ...]:
    """[links.deny]: named patterns (each a regex or a list), searched in path + ?query. Named,
    so a profile adds its own to the defaults' and can switch one off with an empty string."""
    if not isinstance(deny, dict):
        raise ArchiverError(f"{where}: links.deny must be a table of named patterns")
    return tuple(_regex(pattern, f"{where}: links.deny.{name}")
                 for name, value in deny.items()
                 for pattern in _strings(value, f"{where}: links.deny.{name}"))


def _target(url: str | None) -> str | None:
    """path + ?query of a URL (what hints and deny patterns read); None for a malformed URL."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _extractor(spec, where: str) -> Extractor:
    target = EXTRACTORS.get(spec, spec) if isinstance(spec, str) else None
    if not target or ":" not in target:
        raise ArchiverError(f"{where}: unknown extractor {spec!r} (one of {', '.join(EXTRACTORS)}, "
                            "a profile name, or package.module:function)")
    module, function = target.split(":", 1)
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise ArchiverError(f"{where}: extractor {spec!r} cannot be loaded: {exc}") from None


_CSS = GenericTranslator()


def css_to_xpath(selector: str) -> str:
    """The XPath of a CSS selector (cssselect: what lxml's own CSS support uses)."""
    return _CSS.css_to_xpath(selector)


def _checked_css(selector: str, where: str) -> str:
    try:
        etree.XPath(css_to_xpath(selector))
    except (SelectorError, etree.XPathError) as exc:
        raise ArchiverError(f"{where}: bad CSS selector {selector!r}: {exc}") from None
    return selector


def _fields(fields: dict, where: str) -> dict[str, list[dict]]:
    checked = {}
    for key, rules in fields.items():
        if key not in FIELD_NAMES:
            raise ArchiverError(f"{where}: unknown field {key!r} (fields: {', '.join(FIELD_NAMES)})")
        rules = rules if isinstance(rules, list) else [rules]
        checked[key] = [{"css": r} if isinstance(r, str) else dict(r) for r in rules]
        for rule in checked[key]:
            if not rule.keys() & set(RULE_KINDS):
                raise ArchiverError(f"{where}: fields.{key}: a rule needs one of {', '.join(RULE_KINDS)}")
            if "css" in rule:
                _checked_css(rule["css"], f"{where}: fields.{key}")
            if "xpath" in rule:
                try:
                    etree.XPath(rule["xpath"])
                except etree.XPathError as exc:
                    raise ArchiverError(f"{where}: fields.{key}: bad XPath {rule['xpath']!r}: {exc}") from None
            if "pattern" in rule:
                _regex(rule["pattern"], f"{where}: fields.{key}")
    return checked


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArchiverError(f"{path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchiverError(f"{path}: not a valid TOML profile: {exc}") from None


@lru_cache(maxsize=None)
def builtin_data(name: str) -> dict:
    """The TOML of a built-in profile (or of defaults.toml), as written."""
    ref = resources.files("archiver") / "profiles" / f"{name}.toml"
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def builtin_names() -> tuple[str, ...]:
    folder = resources.files("archiver") / "profiles"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir()
                        if p.name.endswith(".toml") and p.name != f"{DEFAULTS}.toml"))


@lru_cache(maxsize=None)
def builtin_profile(name: str) -> Profile:
    return Profile.from_data(builtin_data(name), source=f"built-in:{name}")


def load_profile_file(path: str | Path) -> Profile:
    return Profile.from_data(_read_toml(Path(path)), source=str(path))


def get_profile(spec: str | Path | Profile | None = None, url: str | None = None) -> Profile:
    """A profile by built-in name or TOML file path; by the URL's host when `spec` is None."""
    if isinstance(spec, Profile):
        return spec
    if spec is None or spec == "":
        return profile_for_url(url)
    spec = str(spec)
    if spec.endswith(".toml") or "/" in spec:
        return load_profile_file(spec)
    if spec not in builtin_names():
        raise ArchiverError(f"no profile named {spec!r} (built-in: {', '.join(builtin_names())}; "
                            "or give a .toml file)")
    return builtin_profile(spec)


@lru_cache(maxsize=256)
def _profile_for_host(host: str) -> str:
    for name in builtin_names():
        if host in builtin_profile(name).hosts:
            return name
    return DEFAULT_PROFILE


def profile_for_url(url: str | None) -> Profile:
    """The built-in profile claiming the URL's host; the default profile otherwise — its
    layered rules were built for unseen templates, and local mirrors have no known host."""
    try:
        host = urlsplit(url).hostname or "" if url else ""
    except ValueError:
        host = ""
    return builtin_profile(_profile_for_host(host) if host else DEFAULT_PROFILE)
