"""`python -m archiver.demo` (what `make demo` runs): the whole job, offline.

Serves the fixture mirror `tests/fixtures/site/` on a localhost port (archiver.mirror, with
robots.txt, ETag/Last-Modified and 304s, like the real site's server), crawls it into
`data/archive.db` from the default profile's start pages that the mirror has (its home page),
prints the crawl report, `archiver stats` and one `archiver search`, and stops the server. Run
it twice: the second crawl finds everything "not modified" (pages that answered 404 wait
`recheck_gone_days` before they are asked again).
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

from archiver.mirror import Page, SiteServer, mirror_pages
from archiver.profile import get_profile

DEMO_PORT = int(os.environ.get("ARCHIVER_DEMO_PORT", "8765"))


def demo_start_paths(pages: dict[str, Page], profile=None) -> list[str]:
    """The profile's start pages that the mirror has (by path + query)."""
    profile = profile or get_profile()
    wanted = [urlsplit(url)._replace(scheme="", netloc="").geturl() for url in profile.start_urls]
    return [path for path in wanted if path in pages]


def run_cli(*args: str) -> int:
    print(f"\n$ archiver {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-c", "from archiver.cli import main; main()", *args])


def start_mirror(pages: dict[str, Page]) -> SiteServer:
    """The mirror on a fixed port when free, so the next demo run asks for the same URLs (and
    gets 304s); on any free port otherwise."""
    try:
        return SiteServer(pages, port=DEMO_PORT).start()
    except OSError:
        print(f"port {DEMO_PORT} is busy: serving on a free port (the next run fetches all again)")
        return SiteServer(pages).start()


def main(db: str = "data/archive.db") -> int:
    pages = mirror_pages()
    with start_mirror(pages) as server:
        # Never the real site: the mirror's home page when it has none of the profile's start pages.
        start = [server.url(path) for path in demo_start_paths(pages) or ["/"]]
        print(f"serving the fixture mirror ({len(pages)} files) at {server.base_url}")
        # A small delay instead of the real site's 1 s: the mirror is ours, politeness still shown.
        crawl_status = run_cli("crawl", *start, "--db", db, "--delay", "0.02", "--concurrency", "2")
    statuses = [run_cli("stats", "--db", db), run_cli("search", "ketamine", "--limit", "5", "--db", db)]
    print(f"\ncrawl exit status {crawl_status}; run `make demo` again: every page is then "
          "\"not modified\" (a conditional GET answered 304: nothing downloaded, parsed or written).")
    return crawl_status if crawl_status else max(statuses)


if __name__ == "__main__":
    sys.exit(main())
