"""Linking table-of-contents entries (`issue_articles`) to the archived articles they list.

An issue page and the articles it lists can name one article by different URLs: a mirror
serves pages whose links point at the real site (or the other way round), the site answers on
two host names, an old page links with http://. So an entry is linked to the archived article
whose canonical_url has the entry's path and query (and whose canonical_url or fetched url is
the entry's URL, or is on a host of the same site):

- the same host, or the same host but for a leading "www.";
- or two hosts of one site profile: the hosts the profile declares, and the hosts that served
  captures recorded with that profile (a crawl of a mirror records the site's profile).

An entry may also name the article by its id alone (`/articles/1227`, which the site redirects
to `/articles/1227-its-title`): then the archived article with that site article id (read from
the entry's URL by the profile of its host) is linked, on the same terms of host.

An exact URL beats the same host, which beats another host of the site. Links are made when
the contents are written (articles already archived) and when an article arrives later.
"""

from __future__ import annotations

import json
from collections import defaultdict
from urllib.parse import urlsplit

from sqlite_utils import Database

from archiver.archive.schema import url_path
from archiver.errors import ArchiverError
from archiver.profile import builtin_names, builtin_profile, profile_for_url

ENTRY_PATH = url_path("issue_articles.url")
CANONICAL_PATH = url_path("articles.canonical_url")
CANDIDATE_COLUMNS = ("issue_articles.issue_id, issue_articles.position, issue_articles.url, "
                     "articles.id, articles.canonical_url, articles.url")


def host_of(url: str | None) -> str:
    try:
        parts = urlsplit(url or "")
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    return f"{host}:{port}" if port else host


def bare(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def entry_article_id(url: str | None) -> int | None:
    """The site's article id an entry's URL names, by the URL patterns of the profile of its
    host (the default profile for a host none claims, as a mirror's)."""
    return profile_for_url(url).article_id(url) if url else None


def declared_hosts() -> dict[str, frozenset[str]]:
    """Each built-in site profile's hosts: the profiles are the only place that knows a site."""
    found = {}
    for name in builtin_names():
        try:
            found[name] = builtin_profile(name).hosts
        except ArchiverError:
            continue
    return found


class Sites:
    """Which hosts belong to one site (see the module docstring); read once per transaction."""

    def __init__(self, db: Database):
        self.db = db
        self._groups: list[frozenset[str]] | None = None

    def same(self, first: str, second: str) -> bool:
        if not first or not second:
            return False
        if bare(first) == bare(second):
            return True
        return any(first in group and second in group for group in self.groups())

    def groups(self) -> list[frozenset[str]]:
        if self._groups is None:
            hosts: dict[str, set[str]] = defaultdict(set)
            for name, declared in declared_hosts().items():
                hosts[name].update(declared)
            # One URL per profile and scheme://host (the text before the path).
            prefix = f"substr(url, 1, length(url) - length({url_path('url')}))"
            for name, url in self.db.execute(
                    f"SELECT profile, min(url) FROM captures WHERE profile IS NOT NULL "
                    f"GROUP BY profile, {prefix}"):
                hosts[name].add(host_of(url))
            self._groups = [frozenset(h for h in group if h) for group in hosts.values()]
        return self._groups


def rank(entry_url: str, canonical_url: str, url: str | None, sites: Sites) -> int | None:
    """How well an archived article (same path) matches an entry; None: another site's."""
    if entry_url == canonical_url:
        return 0
    if entry_url == url:
        return 1
    entry_host = host_of(entry_url)
    for offset, candidate in ((2, canonical_url), (3, url)):
        if candidate and bare(entry_host) == bare(host_of(candidate)):
            return offset
    for candidate in (canonical_url, url):
        if candidate and sites.same(entry_host, host_of(candidate)):
            return 4
    return None


def link(db: Database, rows, sites: Sites) -> int:
    """Set article_id of the entries in `rows` (CANDIDATE_COLUMNS) to their best article."""
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for issue_id, position, entry_url, article_id, canonical_url, url in rows:
        score = rank(entry_url, canonical_url, url, sites)
        if score is None:
            continue
        key = (issue_id, position)
        if key not in best or (score, article_id) < best[key]:
            best[key] = (score, article_id)
    db.conn.executemany(
        "UPDATE issue_articles SET article_id = ? WHERE issue_id = ? AND position = ? "
        "AND article_id IS NULL",
        [(article_id, issue_id, position) for (issue_id, position), (_, article_id) in best.items()])
    return len(best)


def link_contents(db: Database, issue_ids, sites: Sites) -> int:
    """Link the unlinked entries of these issues to articles already archived."""
    where = ("issue_articles.article_id IS NULL AND issue_articles.url IS NOT NULL "
             "AND issue_articles.issue_id IN (SELECT value FROM json_each(:issues))")
    rows = db.execute(
        f"SELECT {CANDIDATE_COLUMNS} FROM issue_articles JOIN articles "
        f"ON {CANONICAL_PATH} = {ENTRY_PATH} WHERE {where} UNION ALL "
        f"SELECT {CANDIDATE_COLUMNS} FROM issue_articles JOIN articles "
        f"ON articles.site_article_id = issue_articles.site_article_id WHERE {where}",
        {"issues": json.dumps(sorted(issue_ids))}).fetchall()
    return link(db, rows, sites)


def link_new_articles(db: Database, first_id: int, sites: Sites) -> int:
    """Link the unlinked entries that list the articles with id >= first_id: the same URL
    first, in one statement (most of them, when a crawl or load brings many), then by path."""
    db.execute(
        "UPDATE issue_articles SET article_id = (SELECT id FROM articles WHERE canonical_url = "
        "issue_articles.url) WHERE article_id IS NULL AND url IN "
        "(SELECT canonical_url FROM articles WHERE id >= ?)", [first_id])
    rows = db.execute(
        f"SELECT {CANDIDATE_COLUMNS} FROM articles JOIN issue_articles "
        f"ON {ENTRY_PATH} = {CANONICAL_PATH} "
        f"WHERE articles.id >= :first AND issue_articles.article_id IS NULL UNION ALL "
        f"SELECT {CANDIDATE_COLUMNS} FROM articles JOIN issue_articles "
        f"ON issue_articles.site_article_id = articles.site_article_id "
        f"WHERE articles.id >= :first AND issue_articles.article_id IS NULL", {"first": first_id}).fetchall()
    return link(db, rows, sites)


def link_all(db: Database) -> int:
    """Link every unlinked entry that lists an archived article (the upgrade to version 2)."""
    return link_new_articles(db, 0, Sites(db))
