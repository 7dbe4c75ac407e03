"""Crawl settings: defaults for the real site, overridden by `archiver.toml`, overridden by flags.

Every key below is documented in `archiver.toml.example` and has a flag of the same name
(`max_page_size` -> `--max-page-size`). An unknown key or a value of the wrong type is a one-line
error (exit 2), so a typo in a cron job's config fails loudly instead of being ignored.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from archiver import __version__
from archiver.errors import ArchiverError

# The project, by name (it has no public address to point at). A crawl's operator adds a contact
# with `user_agent` in archiver.toml: site operators read it in their logs.
DEFAULT_USER_AGENT = f"archiver/{__version__} (Carlat newsletter archive)"


@dataclass
class CrawlConfig:
    # What to crawl. Empty start_urls means the site profile's own start pages.
    start_urls: list[str] = field(default_factory=list)
    db: str = "data/archive.db"
    # Hosts fetched besides those of the start URLs (links to other hosts are never followed).
    allow_hosts: list[str] = field(default_factory=list)
    # Politeness.
    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0  # seconds between two requests to one host; robots Crawl-delay may raise it
    jitter: float = 0.02  # up to this fraction of `delay` is ADDED at random; never subtracted
    concurrency: int = 4  # worker threads; requests to one host stay `delay` apart regardless
    # Network.
    connect_timeout: float = 10.0
    timeout: float = 30.0  # read timeout: the longest silence tolerated while receiving
    page_timeout: float = 60.0  # the whole answer of one attempt, headers and body, however it trickles
    retries: int = 3  # extra attempts on connection errors, timeouts, 429 and 5xx
    backoff: float = 1.0  # first retry waits about this long, then doubling (plus jitter)
    max_backoff: float = 120.0  # the longest wait before a retry, including `Retry-After`
    max_redirects: int = 10
    # Limits.
    max_pages: int = 0  # requests per run; 0 means no limit
    # Seconds a run may take (0: no limit). Then no new page is asked for, the pages in flight are
    # abandoned (still pending), and the run stops cleanly: the next run resumes it (exit 124).
    max_time: float = 0.0
    max_page_size: int = 20_000_000  # bytes of decoded body; larger pages are aborted while streaming
    # Incremental re-checks: articles are re-checked with a conditional GET when their last check is
    # at least this many days old (0: every run). Listings and issue pages are re-checked every run.
    recheck_articles_days: float = 0.0
    # Final answers (404/410, not HTML, too large, bad redirects...) are asked again after this many days.
    recheck_gone_days: float = 30.0
    # Discovery: links are followed from every article and hub (listing, issue page, feed, start
    # page), and through at most this many pages in a row that are neither (0: never through one).
    max_other_hops: int = 1
    # Output.
    warc: bool = True
    warc_dir: str = "data/warc"
    warc_max_size: int = 1_000_000_000  # bytes per WARC file before rotating to a new one
    cookies: str | None = None  # Netscape cookies.txt for subscriber pages; never stored anywhere
    quiet: bool = False
    log: str | None = None
    # The coverage alarm: exit 3 when a field's share among this run's parsed articles falls this
    # far (absolute) below its average over earlier runs, given at least `coverage_min_articles`.
    coverage_drop: float = 0.3
    coverage_min_articles: int = 5

    def replace(self, **changes) -> CrawlConfig:
        """A copy with `changes` applied; None values (flags not given) leave the setting alone."""
        unknown = set(changes) - set(KEYS)
        if unknown:
            raise ArchiverError(f"unknown setting {sorted(unknown)[0]!r}")
        given = {k: v for k, v in changes.items() if v is not None}
        for key, value in given.items():
            _check_type(key, value, "option")
        new = dataclasses.replace(self, **given)
        new.validate()
        return new

    def validate(self) -> None:
        for name in ("delay", "jitter", "connect_timeout", "timeout", "page_timeout", "backoff",
                     "max_backoff", "max_time", "recheck_articles_days", "recheck_gone_days", "coverage_drop"):
            if getattr(self, name) < 0:
                raise ArchiverError(f"{name} must not be negative")
        for name in ("concurrency", "max_page_size", "warc_max_size"):
            if getattr(self, name) < 1:
                raise ArchiverError(f"{name} must be at least 1")
        for name in ("retries", "max_pages", "max_redirects", "coverage_min_articles", "max_other_hops"):
            if getattr(self, name) < 0:
                raise ArchiverError(f"{name} must not be negative")
        if self.connect_timeout == 0 or self.timeout == 0 or self.page_timeout == 0:
            raise ArchiverError("timeouts must be positive")


KEYS: dict[str, type] = {f.name: f.type for f in dataclasses.fields(CrawlConfig)}
_TYPES = {
    "list[str]": list, "str": str, "float": (int, float), "int": int, "bool": bool,
    "str | None": str,
}


def _check_type(key: str, value, where: str) -> None:
    expected = _TYPES[KEYS[key]]
    # bool is an int in Python; a `true` where a number is wanted is still a mistake.
    if isinstance(value, bool) and expected is not bool:
        raise ArchiverError(f"{where} {key!r} must be {KEYS[key].replace(' | None', '')}, not a boolean")
    if not isinstance(value, expected):
        raise ArchiverError(f"{where} {key!r} must be {KEYS[key].replace(' | None', '')}")
    if expected is list and not all(isinstance(item, str) for item in value):
        raise ArchiverError(f"{where} {key!r} must be a list of strings")


def load_config(path: str | Path | None) -> CrawlConfig:
    """Read a TOML config file (flat keys, or the same keys under a `[crawl]` table)."""
    config = CrawlConfig()
    if path is None:
        return config
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiverError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchiverError(f"{path}: not valid TOML: {exc}") from None
    if isinstance(data.get("crawl"), dict):
        data = {**{k: v for k, v in data.items() if k != "crawl"}, **data["crawl"]}
    for key, value in data.items():
        if key not in KEYS:
            raise ArchiverError(f"{path}: unknown key {key!r}")
        _check_type(key, value, f"{path}:")
    config = dataclasses.replace(config, **data)
    config.validate()
    return config
