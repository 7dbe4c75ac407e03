"""The crawl frontier and run history, in the archive's own SQLite file (tables `crawl_queue`
and `crawl_runs`, created through sqlite-utils).

The queue is updated in the same transaction as the capture and article a page produced, so a
crawl killed at any moment resumes exactly where it stopped: a page is either fully recorded and
`done` in this run, or still `pending`.

crawl_queue, one row per URL ever queued (a page known by several URLs has one row that is
fetched; the others are aliases of it):
    url              the URL as discovered (fragment stripped)
    host             its host (lower-case, with a non-default port): a crawl works only on the
                     rows of the hosts in its scope, so other sites' rows simply wait
    kind             what the page is: before it is fetched, what the profile's URL hints (or the
                     page listing it) say — "article" | "issue" | "listing" | "feed" | "start"
                     (a start URL no hint names) | "page" (nothing said); once fetched, what its
                     content says — "article" | "issue" | "listing" | "feed" | "other"
    state            "pending" (to fetch in this run) | "done" | "failed" (a transient failure:
                     retried next run) | "gone" (404, 410, other 4xx, a "not found" page) |
                     "skipped" (a final answer that is no page: not HTML, empty, too large, a
                     redirect off scope or in a loop...) — gone and skipped are asked again after
                     `recheck_gone_days` | "blocked" (robots.txt; re-checked every run, costs no
                     request) | "alias" (the same page as the row `canonical_url` names)
    attempts         failed runs in a row
    next_try_at      ISO time before which a failed URL is not retried (a long Retry-After)
    reason           why it failed, is gone, skipped, blocked or not an article (NULL when all went well)
    etag, last_modified   the validators sent as If-None-Match / If-Modified-Since next time
    discovered_from  the page whose link queued it (NULL for start URLs)
    first_seen_at, last_checked_at, last_changed_at   ISO times (UTC)
    last_status      the last HTTP status (304 included)
    run_id           the crawl_runs row that last processed it
    canonical_url    the URL the page is known by: its <link rel=canonical> (articles), where its
                     redirects led; for an alias, the row it is the same page as
    article_key      host + the URL path up to the article id ("thecarlatreport.com/articles/1227"):
                     /articles/1227 and /articles/1227-slug are one row; "" for URLs without an id
    hops             pages in a row that were neither articles nor hubs on the way to this URL
                     (links are followed through at most `max_other_hops` of them)

crawl_runs, one row per `archiver crawl`:
    id, started_at, finished_at (NULL while running or after a kill: the next crawl resumes it),
    report (the run's report as JSON, kept current page by page), alarm (the coverage alarm text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from archiver.fetch import host_key

HUBS = ("listing", "issue", "feed", "start")  # re-checked every run: they list new pages
# The order a run fetches in: hubs (listings before issue pages, which name the articles by
# their full URLs), then articles, then pages nothing has named yet and articles named by their
# id alone (/articles/1227 only redirects to its full URL, which a hub may name meanwhile).
PRIORITY = ("CASE kind WHEN 'start' THEN 0 WHEN 'feed' THEN 0 WHEN 'listing' THEN 0 "
            "WHEN 'issue' THEN 1 WHEN 'article' THEN CASE WHEN article_key != '' AND "
            "(url LIKE '%' || article_key OR url LIKE '%' || article_key || '/') THEN 3 ELSE 2 END "
            "ELSE 3 END")
FINAL_STATES = ("gone", "skipped")
ADDED_COLUMNS = {"canonical_url": str, "article_key": str, "hops": int}


def utc_iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class QueueItem:
    url: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0
    hops: int = 0


class Frontier:
    def __init__(self, db: Database):
        self.db = db
        self._create_tables()

    def _create_tables(self) -> None:
        queue = self.db["crawl_queue"]
        if not queue.exists():
            queue.create({
                "url": str, "host": str, "kind": str, "state": str, "attempts": int, "next_try_at": str,
                "reason": str, "etag": str, "last_modified": str, "discovered_from": str,
                "first_seen_at": str, "last_checked_at": str, "last_changed_at": str,
                "last_status": int, "run_id": int, **ADDED_COLUMNS,
            }, pk="url", not_null={"kind", "state", "hops"},
                defaults={"attempts": 0, "state": "pending", "hops": 0})
            queue.create_index(["state", "host"])
        else:  # a queue written before these columns existed: its rows keep working
            for name, kind in ADDED_COLUMNS.items():
                if name not in queue.columns_dict:
                    queue.add_column(name, kind, not_null_default=0 if name == "hops" else None)
        queue.create_index(["canonical_url"], if_not_exists=True)
        queue.create_index(["article_key"], if_not_exists=True)
        runs = self.db["crawl_runs"]
        if not runs.exists():
            runs.create({"id": int, "started_at": str, "finished_at": str, "report": str,
                         "alarm": str}, pk="id", not_null={"started_at"})

    # -- runs --------------------------------------------------------------------------------
    def unfinished_run(self) -> int | None:
        row = self.db.execute(
            "SELECT id, finished_at FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row and row[1] is None else None

    def begin_run(self, start: list[tuple[str, str, str]], recheck_articles_days: float = 0.0,
                  recheck_gone_days: float = 30.0) -> tuple[int, bool]:
        """Resume the last run if a kill interrupted it, else start a new one; returns
        (run id, resumed). `start`: (url, kind, article key) of the start pages. A new run
        re-queues hubs (listings, issues, feeds, start pages), failed and blocked pages whose
        wait is over, articles and other pages due for a re-check, and gone or skipped pages
        last asked `recheck_gone_days` ago."""
        now = datetime.now(timezone.utc)
        resumed = self.unfinished_run()
        if resumed is None:
            run_id = self.db["crawl_runs"].insert({"started_at": utc_iso(now)}).last_pk
            hubs = ", ".join("?" * len(HUBS))
            self.db.execute(f"UPDATE crawl_queue SET state = 'pending' WHERE state = 'done' "
                            f"AND kind IN ({hubs})", list(HUBS))
            self.db.execute(
                "UPDATE crawl_queue SET state = 'pending' WHERE state IN ('failed', 'blocked') "
                "AND (next_try_at IS NULL OR next_try_at <= ?)", [utc_iso(now)])
            self.db.execute(
                f"UPDATE crawl_queue SET state = 'pending' WHERE state = 'done' AND kind NOT IN ({hubs}) "
                "AND (last_checked_at IS NULL OR last_checked_at <= ?)",
                [*HUBS, utc_iso(now - timedelta(days=recheck_articles_days))])
            self.db.execute(
                "UPDATE crawl_queue SET state = 'pending' WHERE state IN ('gone', 'skipped') "
                "AND (last_checked_at IS NULL OR last_checked_at <= ?)",
                [utc_iso(now - timedelta(days=recheck_gone_days))])
        else:
            run_id = resumed
        for url, kind, key in start:
            self.add(url, kind, key=key)
            self.db.execute("UPDATE crawl_queue SET state = 'pending', hops = 0 WHERE url = ? "
                            "AND state = 'done' AND (run_id IS NULL OR run_id != ?)", [url, run_id])
        return run_id, resumed is not None

    def save_report(self, run_id: int, report: dict, *, finished: bool = False, alarm: str | None = None):
        # Plain SQL: this runs once per page, and Table.update() introspects the table each time.
        text = json.dumps(report, ensure_ascii=False)
        if finished:
            self.db.execute("UPDATE crawl_runs SET report = ?, finished_at = ?, alarm = ? WHERE id = ?",
                            [text, utc_iso(), alarm, run_id])
        else:
            self.db.execute("UPDATE crawl_runs SET report = ? WHERE id = ?", [text, run_id])

    def run_report(self, run_id: int) -> dict | None:
        row = self.db.execute("SELECT report FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def finished_reports(self, before_run: int, limit: int = 10) -> list[dict]:
        rows = self.db.execute(
            "SELECT report FROM crawl_runs WHERE id < ? AND finished_at IS NOT NULL "
            "AND report IS NOT NULL ORDER BY id DESC LIMIT ?", [before_run, limit]).fetchall()
        return [json.loads(row[0]) for row in rows]

    # -- queue -------------------------------------------------------------------------------
    def add(self, url: str, kind: str, discovered_from: str | None = None, *, hops: int = 0,
            key: str | None = None) -> bool:
        """Queue a URL unless its page is known already (by this URL, as another row's canonical
        URL, or by its article key); True when it is new. A known pending URL reached in fewer
        hops keeps the smaller count."""
        known = self.db.execute("SELECT hops, state FROM crawl_queue WHERE url = ?", [url]).fetchone()
        if known is not None:
            if hops < known[0] and known[1] == "pending":
                self.db.execute("UPDATE crawl_queue SET hops = ? WHERE url = ?", [hops, url])
            return False
        if self.same_page(url, key) is not None:
            return False
        self.db.execute(
            "INSERT INTO crawl_queue (url, host, kind, state, attempts, discovered_from, first_seen_at, "
            "article_key, hops) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
            [url, host_key(url), kind, discovered_from, utc_iso(), key or "", hops])
        return True

    def same_page(self, url: str, key: str | None = None) -> str | None:
        """The row that already stands for this URL's page (not gone or skipped): one whose
        canonical URL it is, or one with the same article key."""
        row = self.db.execute(
            "SELECT url FROM crawl_queue WHERE canonical_url = ? AND state NOT IN ('gone', 'skipped') "
            "AND url != ? LIMIT 1", [url, url]).fetchone()
        if row is None and key:
            row = self.db.execute(
                "SELECT url FROM crawl_queue WHERE article_key = ? AND state NOT IN ('gone', 'skipped') "
                "AND url != ? LIMIT 1", [key, url]).fetchone()
        return row[0] if row else None

    def is_pending(self, url: str) -> bool:
        row = self.db.execute("SELECT state FROM crawl_queue WHERE url = ?", [url]).fetchone()
        return row is not None and row[0] == "pending"

    def replace(self, old: str, new: str) -> None:
        """Queue `new` instead of the pending `old` (an article's bare-id URL that would only
        redirect to it): `new` takes its place, `old` becomes its alias."""
        self.db.execute(
            "INSERT OR IGNORE INTO crawl_queue (url, host, kind, state, attempts, discovered_from, "
            "first_seen_at, article_key, hops) SELECT ?, ?, kind, 'pending', 0, discovered_from, "
            "first_seen_at, article_key, hops FROM crawl_queue WHERE url = ?", [new, host_key(new), old])
        self.db.execute("UPDATE crawl_queue SET state = 'alias', canonical_url = ?, reason = ? WHERE url = ?",
                        [new, f"same page as {new}"[:300], old])

    def fill_keys(self, key_of) -> None:
        """Article keys of rows queued before the column existed ("" when a URL has none)."""
        rows = self.db.execute("SELECT url FROM crawl_queue WHERE article_key IS NULL").fetchall()
        self.db.conn.executemany("UPDATE crawl_queue SET article_key = ? WHERE url = ?",
                                 [(key_of(url) or "", url) for (url,) in rows])

    def pending(self, hosts: set[str], limit: int, skip: set[str] = frozenset()) -> list[QueueItem]:
        """Pending URLs on `hosts`, hubs first, then articles, then the rest, each in the order
        they were found (breadth first), leaving out `skip` (in flight)."""
        marks = ", ".join("?" * len(hosts))
        rows = self.db.execute(
            "SELECT url, kind, etag, last_modified, attempts, hops FROM crawl_queue "
            f"WHERE state = 'pending' AND host IN ({marks}) ORDER BY {PRIORITY}, rowid LIMIT ?",
            [*sorted(hosts), limit + len(skip)]).fetchall()
        return [QueueItem(*row) for row in rows if row[0] not in skip][:limit]

    def fetched_in_run(self, run_id: int) -> dict[str, str]:
        """URLs this run has fetched already, and the canonical URLs they turned out to be, each
        -> its row (a resumed run asks none of them again)."""
        rows = self.db.execute("SELECT url, canonical_url FROM crawl_queue WHERE run_id = ? "
                               "AND state != 'pending'", [run_id]).fetchall()
        found = {canonical: url for url, canonical in rows if canonical}
        found.update((url, url) for url, _ in rows)
        return found

    def _finish(self, url: str, run_id: int, **values) -> None:
        values.update(run_id=run_id, last_checked_at=utc_iso())
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        self.db.execute(f"UPDATE crawl_queue SET {assignments} WHERE url = :url", {**values, "url": url})

    def mark_fetched(self, url: str, run_id: int, status: int, *, kind: str, etag: str | None,
                     last_modified: str | None, changed: bool, canonical: str | None = None,
                     reason: str | None = None) -> None:
        """A page fetched and understood: `kind` is what its content says it is."""
        values = dict(state="done", kind=kind, attempts=0, next_try_at=None, reason=reason, etag=etag,
                      last_modified=last_modified, last_status=status, canonical_url=canonical)
        if changed:
            values["last_changed_at"] = utc_iso()
        self._finish(url, run_id, **values)

    def mark_final(self, url: str, run_id: int, state: str, reason: str, *, status: int | None = None,
                   kind: str | None = None) -> None:
        """A final answer that is no page to keep ("gone" or "skipped"): asked again only after
        `recheck_gone_days`."""
        assert state in FINAL_STATES, state
        values = dict(state=state, attempts=0, next_try_at=None, reason=reason, last_status=status)
        if kind:
            values["kind"] = kind
        self._finish(url, run_id, **values)

    def mark_not_modified(self, url: str, run_id: int) -> None:
        self._finish(url, run_id, state="done", attempts=0, next_try_at=None, reason=None,
                     last_status=304)

    def mark_failed(self, url: str, run_id: int, reason: str, *, blocked: bool = False,
                    retry_at: str | None = None) -> None:
        self.db.execute("UPDATE crawl_queue SET attempts = attempts + 1 WHERE url = ?", [url])
        self._finish(url, run_id, state="blocked" if blocked else "failed", reason=reason,
                     next_try_at=retry_at)

    def mark_alias(self, url: str, run_id: int, same_as: str, *, status: int | None = None) -> None:
        """`url` is the page `same_as` is (a redirect to it, or its article key): never fetched
        on its own again."""
        self._finish(url, run_id, state="alias", canonical_url=same_as, reason=f"same page as {same_as}"[:300],
                     attempts=0, next_try_at=None, last_status=status)

    def move(self, url: str, to: str, run_id: int, *, key: str | None = None, permanent: bool = True) -> None:
        """Redirects led from `url` to `to`: the page is recorded in the row of `to` (created from
        `url`'s when missing). After a permanent redirect `url` becomes an alias of it, so later
        runs ask `to` at once; after a temporary one `url` stays, done, to be asked again."""
        self.db.execute(
            "INSERT OR IGNORE INTO crawl_queue (url, host, kind, state, attempts, discovered_from, "
            "first_seen_at, article_key, hops) SELECT ?, ?, kind, 'pending', 0, discovered_from, "
            "first_seen_at, ?, hops FROM crawl_queue WHERE url = ?", [to, host_key(to), key or "", url])
        if permanent:
            self.mark_alias(url, run_id, to, status=301)
        else:
            self._finish(url, run_id, state="done", canonical_url=to, etag=None, last_modified=None,
                         reason=f"redirects to {to}"[:300], last_status=302, attempts=0, next_try_at=None)
