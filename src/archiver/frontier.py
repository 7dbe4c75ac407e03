"""The crawl frontier and run history, in the archive's own SQLite file (tables `crawl_queue`
and `crawl_runs`, created through sqlite-utils).

The queue is updated in the same transaction as the capture and article a page produced, so a
crawl killed at any moment resumes exactly where it stopped: a page is either fully recorded and
`done` in this run, or still `pending`.

crawl_queue, one row per URL ever queued:
    url              the URL as discovered (fragment stripped)
    host             its host (lower-case, with a non-default port): a crawl works only on the
                     rows of the hosts in its scope, so other sites' rows simply wait
    kind             "listing" | "issue" | "article" | "start" (a start URL the profile cannot name)
    state            "pending" (to fetch in this run) | "done" | "failed" (retried next run)
                     | "gone" (a 4xx answer; not retried) | "blocked" (robots.txt; re-checked next run)
    attempts         failed runs in a row
    next_try_at      ISO time before which a failed URL is not retried (a long Retry-After)
    reason           why it failed, was blocked or was not parsed (NULL when all went well)
    etag, last_modified   the validators sent as If-None-Match / If-Modified-Since next time
    discovered_from  the page whose link queued it (NULL for start URLs)
    first_seen_at, last_checked_at, last_changed_at   ISO times (UTC)
    last_status      the last HTTP status (304 included)
    run_id           the crawl_runs row that last processed it

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

RECHECKED_EVERY_RUN = ("listing", "issue", "start")


def utc_iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class QueueItem:
    url: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0


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
                "last_status": int, "run_id": int,
            }, pk="url", not_null={"kind", "state"}, defaults={"attempts": 0, "state": "pending"})
            queue.create_index(["state", "host"])
        runs = self.db["crawl_runs"]
        if not runs.exists():
            runs.create({"id": int, "started_at": str, "finished_at": str, "report": str,
                         "alarm": str}, pk="id", not_null={"started_at"})

    # -- runs --------------------------------------------------------------------------------
    def unfinished_run(self) -> int | None:
        row = self.db.execute(
            "SELECT id, finished_at FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row and row[1] is None else None

    def begin_run(self, start: list[tuple[str, str]], recheck_articles_days: float = 0.0) -> tuple[int, bool]:
        """Resume the last run if a kill interrupted it, else start a new one; returns
        (run id, resumed). A new run re-queues listings, issues and start pages, failed pages
        whose wait is over, and articles due for a re-check."""
        now = utc_iso()
        resumed = self.unfinished_run()
        if resumed is None:
            run_id = self.db["crawl_runs"].insert({"started_at": now}).last_pk
            cutoff = utc_iso(datetime.now(timezone.utc) - timedelta(days=recheck_articles_days))
            kinds = ", ".join("?" * len(RECHECKED_EVERY_RUN))
            self.db.execute(f"UPDATE crawl_queue SET state = 'pending' WHERE kind IN ({kinds})",
                            list(RECHECKED_EVERY_RUN))
            self.db.execute(
                "UPDATE crawl_queue SET state = 'pending' WHERE state IN ('failed', 'blocked') "
                "AND (next_try_at IS NULL OR next_try_at <= ?)", [now])
            self.db.execute(
                "UPDATE crawl_queue SET state = 'pending' WHERE state = 'done' AND kind = 'article' "
                "AND (last_checked_at IS NULL OR last_checked_at <= ?)", [cutoff])
        else:
            run_id = resumed
        for url, kind in start:
            self.add(url, kind)
            self.db.execute("UPDATE crawl_queue SET state = 'pending' WHERE url = ? "
                            "AND (run_id IS NULL OR run_id != ?)", [url, run_id])
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
    def add(self, url: str, kind: str, discovered_from: str | None = None) -> bool:
        """Queue a URL unless already known; True when it is new."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO crawl_queue (url, host, kind, state, attempts, discovered_from, "
            "first_seen_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)",
            [url, host_key(url), kind, discovered_from, utc_iso()])
        return cursor.rowcount == 1

    def pending(self, hosts: set[str], limit: int, skip: set[str] = frozenset()) -> list[QueueItem]:
        """The oldest pending URLs on `hosts` (breadth first), leaving out `skip` (in flight)."""
        marks = ", ".join("?" * len(hosts))
        rows = self.db.execute(
            "SELECT url, kind, etag, last_modified, attempts FROM crawl_queue "
            f"WHERE state = 'pending' AND host IN ({marks}) ORDER BY rowid LIMIT ?",
            [*sorted(hosts), limit + len(skip)]).fetchall()
        return [QueueItem(*row) for row in rows if row[0] not in skip][:limit]

    def _finish(self, url: str, run_id: int, **values) -> None:
        values.update(run_id=run_id, last_checked_at=utc_iso())
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        self.db.execute(f"UPDATE crawl_queue SET {assignments} WHERE url = :url", {**values, "url": url})

    def mark_fetched(self, url: str, run_id: int, status: int, *, etag: str | None,
                     last_modified: str | None, changed: bool, reason: str | None = None) -> None:
        state = "gone" if 400 <= status < 500 else "done"
        values = dict(state=state, attempts=0, next_try_at=None, reason=reason, etag=etag,
                      last_modified=last_modified, last_status=status)
        if changed:
            values["last_changed_at"] = utc_iso()
        self._finish(url, run_id, **values)

    def mark_not_modified(self, url: str, run_id: int) -> None:
        self._finish(url, run_id, state="done", attempts=0, next_try_at=None, reason=None,
                     last_status=304)

    def mark_failed(self, url: str, run_id: int, reason: str, *, blocked: bool = False,
                    retry_at: str | None = None) -> None:
        self.db.execute("UPDATE crawl_queue SET attempts = attempts + 1 WHERE url = ?", [url])
        self._finish(url, run_id, state="blocked" if blocked else "failed", reason=reason,
                     next_try_at=retry_at)
