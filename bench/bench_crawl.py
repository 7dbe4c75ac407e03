"""Crawl speed and politeness, measured side by side against local servers (loopback only).

1. throughput: delay 0, concurrency N, 50 ms latency per response -> pages/s vs N / 0.05
   (a) listing pages (fetch + link discovery + capture + queue: the crawler's own cost)
   (b) small article pages (the same plus parse + store: CPU-bound on a small machine)
2. politeness: delay d on 3 hosts at once -> per-host rate vs 1/d, and the smallest gap seen
3. incremental: re-crawl of an unchanged 500-page site -> bytes vs the first crawl
4. memory: peak RSS of a 10k-page crawl (in a child process)
5. cookies: the cost of one request with 0, 10k and 100k cookies of other sites in the cookies file
6. discovery: requests per complete crawl of each mirror (tests/fixtures/site and mirrors/*)
   with the default profile, against the fewest possible (start page, listings, issue pages,
   feeds and sitemaps, articles), and pages downloaded more than once

Run with `make bench` (bench/run.py) or `python bench/bench_crawl.py`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from archiver.archive import Archive  # noqa: E402
from archiver.config import CrawlConfig  # noqa: E402
from archiver.crawl import crawl  # noqa: E402
from archiver.mirror import SITE, Page, SiteServer, mirror_pages  # noqa: E402
from rss import peak_rss_mb  # noqa: E402

TEMPLATE = ROOT / "tests" / "fixtures" / "pages" / "tcpr-expert-qa.html"
TEMPLATE_ID = "1843-expert-qa-getting-started-with-cbt-for-insomnia"
TEMPLATE_TITLE = "Expert Q&amp;A: Getting Started With CBT for Insomnia"
LATENCY = 0.05
ROBOTS = Page(b"User-agent: *\nDisallow: /cart\n", "text/plain")


def small_article_template() -> str:
    """The fixture article's head metadata and article block, without the site chrome (~5 KB)."""
    lines = TEMPLATE.read_text(encoding="utf-8").split("\n")
    page = "\n".join(lines[0:4] + lines[10:16] + lines[23:24] + ["</head><body>"] + lines[105:145]
                     + ["</div></body></html>"])
    return re.sub(r'href="/articles/(?!1843)[^"]*"', 'href="#"', page)


def article_page(template: str, number: int) -> tuple[str, Page]:
    slug = f"{number}-synthetic-article-{number}"
    html = template.replace(TEMPLATE_ID, slug).replace(TEMPLATE_TITLE, f"Synthetic article {number}")
    return f"/articles/{slug}", Page(html.encode())


def listing(paths: list[str]) -> Page:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return Page(f"<html><head><title>Listing</title></head><body><ul>{items}</ul></body></html>".encode())


def site(articles: int, listings: int, first_id: int = 10_000) -> dict[str, Page]:
    """`listings` listing pages (page 0 links every other page, like pagination) sharing
    `articles` small article pages between them."""
    template = small_article_template()
    pages = {"/robots.txt": ROBOTS}
    article_paths = []
    for n in range(articles):
        path, page = article_page(template, first_id + n)
        pages[path] = page
        article_paths.append(path)
    base = "/newsletters/general-psychiatry"
    listing_paths = [base] + [f"{base}?page={k}" for k in range(1, listings)]
    share = max(1, -(-articles // listings)) if articles else 0
    for k, path in enumerate(listing_paths):
        links = (listing_paths[1:] if k == 0 else []) + article_paths[k * share:(k + 1) * share]
        pages[path] = listing(links)
    return pages


def serve(articles: int, listings: int, latency: float) -> None:
    """The body of a server process: serve the site; answer "hits" and "stop" on stdin."""
    server = SiteServer(site(articles, listings), latency=latency, log_headers=False).start()
    print(server.port, flush=True)
    for line in sys.stdin:
        if line.strip() == "hits":
            hits = [(hit.at, hit.path, hit.status, hit.sent) for hit in server.hits]
            server.hits.clear()
            print(json.dumps(hits), flush=True)
        elif line.strip() == "stop":
            break
    server.stop()


class ServerProcess:
    """A SiteServer in its own process, like a real server: its threads do not compete with the
    crawler for this process's GIL. Hit times are CLOCK_MONOTONIC, comparable across processes.
    (A plain subprocess: bench/run.py loads this file without making it importable.)"""

    def __init__(self, articles: int, listings: int, latency: float = 0.0):
        self.args = [sys.executable, __file__, "--serve", str(articles), str(listings), str(latency)]

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        return self

    def start(self) -> ServerProcess:
        return self.__enter__()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def take_hits(self) -> list[tuple]:
        """(arrival time, path, status, body bytes sent) since the last call."""
        self.process.stdin.write("hits\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("stop\n")
            self.process.stdin.flush()
            self.process.wait(10)

    def __exit__(self, *exc_info) -> None:
        self.stop()


def run_crawl(servers: list, db: Path, **settings):
    config = CrawlConfig(**{"delay": 0, "jitter": 0, "concurrency": 4, "retries": 1, "db": str(db),
                            "warc_dir": str(db.parent / "warc"), **settings})
    urls = [server.url("/newsletters/general-psychiatry") for server in servers]
    with Archive(db) as archive:
        started = time.monotonic()
        report = crawl(urls, archive, config)
        return report, time.monotonic() - started


def verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


def bench_throughput(tmp: Path, concurrency: int, articles: int, listings: int, label: str) -> bool:
    with ServerProcess(articles, listings, latency=LATENCY) as server:
        report, seconds = run_crawl([server], tmp / f"throughput-{label}.db", concurrency=concurrency)
    pages = report.requests
    rate = pages / seconds
    ideal = concurrency / LATENCY
    ok = rate >= 0.9 * ideal
    print(f"  {label:<28} N={concurrency}: {pages} pages in {seconds:5.2f} s = {rate:6.1f} pages/s; "
          f"N/0.05 = {ideal:.0f}; ratio {rate / ideal:5.1%} (target >= 90%) {verdict(ok)}")
    return ok


def bench_politeness(tmp: Path, delay: float = 0.2, hosts: int = 3, pages_per_host: int = 16) -> bool:
    servers = [ServerProcess(0, pages_per_host - 1, latency=LATENCY).start() for _ in range(hosts)]
    try:
        report, seconds = run_crawl(servers, tmp / "politeness.db", delay=delay, concurrency=hosts)
        hits = [server.take_hits() for server in servers]
    finally:
        for server in servers:
            server.stop()
    ok = True
    for number, server_hits in enumerate(hits, 1):
        times = [hit[0] for hit in server_hits]
        gaps = [b - a for a, b in zip(times, times[1:])]
        rate = (len(times) - 1) / (times[-1] - times[0])
        fair = rate >= 0.95 / delay and min(gaps) >= delay
        ok &= fair
        print(f"  host {number}: {len(times)} requests, {rate:5.2f} req/s vs 1/d = {1 / delay:.2f} "
              f"({rate * delay:5.1%}, target 95%..100%); smallest gap {min(gaps) * 1000:6.1f} ms "
              f"(d = {delay * 1000:.0f} ms) {verdict(fair)}")
    print(f"  all hosts together: {report.requests} pages in {seconds:.2f} s")
    return ok


def bench_recrawl(tmp: Path, pages: int = 500) -> bool:
    with ServerProcess(pages - 10, 10) as server:
        db = tmp / "recrawl.db"
        first, first_s = run_crawl([server], db)
        sent_first = sum(hit[3] for hit in server.take_hits())
        second, second_s = run_crawl([server], db)
        sent_second = sum(hit[3] for hit in server.take_hits())
    ratio = second.bytes_received / first.bytes_received
    # Pages that answered 404 (or were skipped) wait recheck_gone_days: every other is a 304.
    ok = ratio <= 0.05 and second.not_modified == first.requests - first.gone - first.skipped
    print(f"  first crawl:  {first.requests} pages, {first.bytes_received:,} bytes received "
          f"({sent_first:,} body bytes sent) in {first_s:.1f} s; {first.new} articles new")
    print(f"  second crawl: {second.requests} pages, {second.not_modified} not modified, "
          f"{second.bytes_received:,} bytes received ({sent_second:,} body bytes sent) in {second_s:.1f} s")
    print(f"  re-crawl / first crawl bytes: {ratio:.2%} (target <= 5%) {verdict(ok)}")
    return ok


def crawl_child(url: str, db: str) -> None:
    config = CrawlConfig(delay=0, jitter=0, concurrency=4, retries=1, db=db,
                         warc_dir=str(Path(db).parent / "warc-rss"))
    with Archive(db) as archive:
        report = crawl([url], archive, config)
    # Measured here, not as RUSAGE_CHILDREN in the parent, which would include other benches' children.
    print(f"{report.requests} {report.new} {report.gone} {round(peak_rss_mb() * 1024)}")


def bench_memory(tmp: Path, pages: int = 10_000) -> bool:
    with ServerProcess(pages - 100, 100) as server:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, __file__, "--child", server.url("/newsletters/general-psychiatry"),
             str(tmp / "rss.db")], capture_output=True, text=True)
        seconds = time.monotonic() - started
    if result.returncode != 0:
        print(f"  the 10k crawl failed: {result.stderr.strip()[-500:]}")
        return False
    requests, new, gone, peak_kb = map(int, result.stdout.split()[-4:])
    peak_mb = peak_kb / 1024
    ok = peak_mb <= 200 and requests - gone == pages  # gone: links of the template the site lacks
    print(f"  {requests} pages ({new} articles) in {seconds:.0f} s ({requests / seconds:.0f} pages/s); "
          f"peak RSS {peak_mb:.0f} MB (target <= 200 MB) {verdict(ok)}")
    return ok


MIRRORS = {"fixture (Drupal era)": SITE, "current layout": ROOT / "tests" / "fixtures" / "mirrors" / "current",
           "WordPress layout": ROOT / "tests" / "fixtures" / "mirrors" / "wordpress"}


def fewest_requests(site_dir: Path, pages: dict[str, Page]) -> tuple[set[str], set[str]]:
    """(articles, hubs) a complete crawl cannot do without: every article robots.txt allows, the
    start page, listings, issue pages, feeds and sitemaps."""
    expected = site_dir / "EXPECTED.json"
    if expected.exists():
        data = json.loads(expected.read_text(encoding="utf-8"))
        return set(data["articles"]), set(data["hubs"])
    disallowed = [line.split(":", 1)[1].strip() for line in pages["/robots.txt"].body.decode().splitlines()
                  if line.lower().startswith("disallow:")]
    articles = {p for p in pages if p.startswith("/articles/") and not any(p.startswith(d) for d in disallowed)}
    return articles, {"/"} | {p for p in pages if p.startswith(("/newsletters/", "/newsletter-issue/"))}


def bench_discovery(tmp: Path, delay: float = 0.01) -> bool:
    """Run like the real crawl (a delay, so one request per host at a time), only faster."""
    ok = True
    for label, site_dir in MIRRORS.items():
        pages = mirror_pages(site_dir)
        articles, hubs = fewest_requests(site_dir, pages)
        db = tmp / f"discovery-{site_dir.name}.db"
        with SiteServer(pages, log_headers=False) as server:
            config = CrawlConfig(delay=delay, jitter=0, db=str(db), warc=False)
            with Archive(db) as archive:
                report = crawl([server.url("/")], archive, config)
            hits = [hit for hit in server.hits if hit.path != "/robots.txt"]
            found = {hit.path for hit in hits if hit.status == 200} & articles
        downloads = Counter(hit.path for hit in hits if hit.status == 200)
        repeated = sum(n - 1 for n in downloads.values())
        ratio = len(hits) / len(articles | hubs)
        fair = ratio <= 1.3 and repeated == 0 and found == articles and report.failed == 0
        ok &= fair
        print(f"  {label:<21} {len(hits):3} requests for {len(articles | hubs):3} needed ({len(articles)} articles, "
              f"{len(hubs)} hubs): {ratio:4.2f}x (target <= 1.3x); {repeated} repeated downloads (target 0); "
              f"articles fetched {len(found)}/{len(articles)}, archived {report.new} {verdict(fair)}")
    return ok


def bench_cookies(tmp: Path, requests: int = 200) -> bool:
    """A browser's whole cookies.txt: only the crawled hosts' cookies may cost anything per request."""
    from archiver.fetch import Fetcher, Scope

    costs = {}
    with SiteServer({"/robots.txt": ROBOTS, "/p": Page(b"ok")}) as server:
        for others in (0, 10_000, 100_000):
            path = tmp / f"cookies-{others}.txt"
            lines = ["# Netscape HTTP Cookie File", "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tv"]
            lines += [f".site{n}.example.org\tTRUE\t/\tFALSE\t0\tc{n}\tv{n}" for n in range(others)]
            path.write_text("\n".join(lines) + "\n")
            started = time.perf_counter()
            fetcher = Fetcher(CrawlConfig(delay=0, cookies=str(path)), Scope.for_urls([server.url("/")]))
            load = time.perf_counter() - started
            fetcher.fetch(server.url("/p"))  # robots.txt, and a connection in the pool
            started = time.perf_counter()
            for _ in range(requests):
                fetcher.fetch(server.url("/p"))
            costs[others] = (time.perf_counter() - started) / requests
            fetcher.close()
            print(f"  {others:>7,} other sites' cookies: {costs[others] * 1000:6.2f} ms per request "
                  f"(loading the file: {load * 1000:5.0f} ms)")
    ok = costs[100_000] <= 2 * costs[0]
    print(f"  100k / none: {costs[100_000] / costs[0]:4.2f}x (target <= 2x) {verdict(ok)}")
    return ok


def main() -> bool:
    print("bench_crawl: the crawler against local servers (loopback only)")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        tmp = Path(tmp)
        print(f"1. throughput, delay 0, {LATENCY * 1000:.0f} ms latency per response")
        results.append(bench_throughput(tmp, 8, 0, 1600, "listing pages"))
        results.append(bench_throughput(tmp, 4, 780, 20, "small article pages"))
        print("2. politeness: delay 0.2 s per host, 3 hosts at once, 50 ms latency")
        results.append(bench_politeness(tmp))
        print("3. incremental re-crawl of an unchanged 500-page site")
        results.append(bench_recrawl(tmp))
        print("4. memory: a 10k-page crawl")
        results.append(bench_memory(tmp))
        print("5. cookies: one request, with other sites' cookies in the cookies file")
        results.append(bench_cookies(tmp))
        print("6. discovery: complete crawls of the three mirrors, default profile")
        results.append(bench_discovery(tmp))
    print(f"bench_crawl: {sum(results)}/{len(results)} targets met")
    return all(results)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        crawl_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) == 2 and sys.argv[1] == "--discovery":  # this part alone, while developing
        with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
            sys.exit(0 if bench_discovery(Path(tmp)) else 1)
    else:
        sys.exit(0 if main() else 1)
