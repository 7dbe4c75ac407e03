"""Site profiles: what a site's URLs mean and where its pages keep each field, as TOML data.

A profile is a TOML file (the built-in ones are `src/archiver/profiles/*.toml`; see
docs/profiles.md). It names its hosts, start pages, URL patterns (article / issue / listing)
and an extractor:

    "rules"    (default) the profile's own per-field rules: CSS / XPath selectors, text labels,
               <meta> names, JSON-LD keys (archiver.parse.rules)
    "carlat"   the layered rules written for the Carlat templates (archiver.parse.article)
    "generic"  trafilatura + JSON-LD / OpenGraph / citation_* metadata, for any site

    get_profile("noctua" | "path/to/site.toml" | None, url=None) -> Profile
    profile_for_url(url) -> Profile     by host; the Carlat profile for unknown hosts and no URL
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from archiver.errors import ArchiverError

DEFAULT_PROFILE = "carlat"  # saved pages without a URL, and hosts no profile claims
LINK_KINDS = ("article", "issue", "listing")
EXTRACTORS = ("rules", "carlat", "generic")
FIELD_NAMES = ("title", "authors", "published", "newsletter", "category", "disclosure", "citation",
               "study_type", "body", "keywords", "paywalled", "canonical_url", "issue_date",
               "issue_title", "issue_url", "issue_articles")


@lru_cache(maxsize=None)
def builtin_data(name: str) -> dict:
    """The parsed TOML of a built-in profile (cached: modules read it at import)."""
    ref = resources.files("archiver") / "profiles" / f"{name}.toml"
    return tomllib.loads(ref.read_text(encoding="utf-8"))


def builtin_names() -> list[str]:
    folder = resources.files("archiver") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


@dataclass
class Profile:
    name: str
    title: str = ""
    hosts: frozenset[str] = frozenset()
    base_url: str | None = None
    start_urls: list[str] = field(default_factory=list)
    links: dict[str, re.Pattern] = field(default_factory=dict)
    extractor: str = "rules"
    fields: dict[str, list[dict]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)  # selectors of chrome inside the body
    data: dict = field(default_factory=dict)  # the whole TOML, for extractor-specific keys
    source: str = ""

    @classmethod
    def from_data(cls, data: dict, source: str = "") -> Profile:
        where = source or data.get("name", "profile")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ArchiverError(f"{where}: a profile needs a name")
        extractor = data.get("extractor", "rules")
        if extractor not in EXTRACTORS:
            raise ArchiverError(f"{where}: unknown extractor {extractor!r} (one of {', '.join(EXTRACTORS)})")
        base = data.get("base_url")
        links = {}
        for kind, pattern in (data.get("links") or {}).items():
            patterns = pattern if isinstance(pattern, list) else [pattern]
            try:  # several patterns of one kind are alternatives
                links[kind] = re.compile("|".join(f"(?:{p})" for p in patterns))
            except re.error as exc:
                raise ArchiverError(f"{where}: links.{kind}: bad regex: {exc}") from None
        fields = {}
        for key, rules in (data.get("fields") or {}).items():
            if key not in FIELD_NAMES:
                raise ArchiverError(f"{where}: unknown field {key!r} (fields: {', '.join(FIELD_NAMES)})")
            rules = rules if isinstance(rules, list) else [rules]
            fields[key] = [{"css": r} if isinstance(r, str) else dict(r) for r in rules]
            for rule in fields[key]:
                if not rule.keys() & {"css", "xpath", "label", "meta", "jsonld", "value"}:
                    raise ArchiverError(f"{where}: fields.{key}: a rule needs one of css, xpath, "
                                        "label, meta, jsonld or value")
        return cls(
            name=name, title=data.get("title", ""), base_url=base,
            hosts=frozenset(h.lower() for h in data.get("hosts", [])),
            start_urls=[urljoin(base or "", u) for u in data.get("start_urls", [])],
            links=links, extractor=extractor, fields=fields,
            remove=list(data.get("remove", [])), data=data, source=source)

    def classify(self, url: str) -> str | None:
        """ "article" | "issue" | "listing" (the kinds the crawler follows), None for the rest.
        A URL of another host is None; a bare path (a local mirror's) is judged on its own."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.netloc and self.hosts and (parts.hostname or "") not in self.hosts:
            return None
        if self.extractor == "generic":  # what the site's sitemaps and feeds said
            from archiver.parse.discover import listed_kind

            return listed_kind(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for kind in LINK_KINDS:
            pattern = self.links.get(kind)
            if pattern and pattern.match(target):
                return kind
        return None

    def start_points(self, urls: list[str]) -> list[str]:
        """Where a crawl starts: the given URLs (or the profile's start pages); for the
        generic profile also each site's /sitemap.xml (its feeds are found on its pages)."""
        urls = list(urls) or list(self.start_urls)
        if self.extractor == "generic":
            from archiver.parse.discover import sitemap_of

            urls += [s for s in dict.fromkeys(map(sitemap_of, urls)) if s and s not in urls]
        return urls

    def article_id(self, url: str | None) -> int | None:
        pattern = self.links.get("article")
        if not url or pattern is None:
            return None
        try:
            match = pattern.match(urlsplit(url).path)
        except ValueError:
            return None
        found = match and match.groupdict().get("id")
        return int(found) if found and found.isdigit() else None

    def parse(self, text: str, utf8: bytes | None, url: str | None):
        """The Article of one decoded page (NotAnArticle for other pages)."""
        if self.extractor == "carlat":
            from archiver.parse.article import extract
            from archiver.parse.page import load_tree
            from archiver.parse.verdict import refuse_by_url

            refuse_by_url(url)  # a listing or issue URL needs no parse to be refused
            return extract(load_tree(text, utf8), url)
        if self.extractor == "generic":
            from archiver.parse.generic import extract_generic

            return extract_generic(text, utf8, url, self)
        from archiver.parse.rules import extract_by_rules

        return extract_by_rules(text, utf8, url, self)


@lru_cache(maxsize=None)
def builtin_profile(name: str) -> Profile:
    return Profile.from_data(builtin_data(name), source=f"built-in:{name}")


def load_profile_file(path: str | Path) -> Profile:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArchiverError(f"{path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchiverError(f"{path}: not a valid TOML profile: {exc}") from None
    return Profile.from_data(data, source=str(path))


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
    """The built-in profile claiming the URL's host; the default (Carlat) profile otherwise —
    its layered rules were built for unseen templates, and local mirrors have no known host."""
    host = ""
    if url:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
    return builtin_profile(_profile_for_host(host) if host else DEFAULT_PROFILE)
