"""Archive speed, measured side by side in one run (`make bench`; or `python bench/bench_archive.py`).

1. load: 10k synthetic records through `Archive.load` (FTS kept by triggers, links, versions
   bookkeeping) vs the floor: raw `sqlite3.executemany` of the same rows into the same tables,
   then one FTS5 'rebuild'. Target: ratio <= 1.3.
2. search: 2-term queries, top 20 with snippets, on a 100k-article archive: p50/p95 of
   `Archive.search` next to sqlite-utils' default `table.search`. Target: p50 <= 20 ms.
3. reparse: 10k stored captures (HTML pages made from a fixture page's template) re-parsed end
   to end on 2 workers, in a fresh process: pages/s and peak RSS. Target: <= 200 MB.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from archiver.archive import Archive  # noqa: E402
from archiver.archive.store import content_sha256, normalised  # noqa: E402
from archiver.record import Article, Author, Capture, Citation, Issue, IssueArticle  # noqa: E402
from rss import peak_rss_mb  # noqa: E402

SITE = "https://www.thecarlatreport.com"
NEWSLETTERS = ["The Carlat Psychiatry Report", "The Carlat Child Psychiatry Report",
               "The Carlat Addiction Treatment Report", "The Carlat Hospital Psychiatry Report",
               "The Carlat Geriatric Psychiatry Report", "The Carlat Psychotherapy Report"]
STUDY_TYPES = ["Randomized, double-blind, placebo-controlled trial", "Crossover study",
               "Meta-analysis", "Open-label cohort study", "Retrospective chart review"]
LOAD_TARGET, SEARCH_P50_TARGET_MS, RSS_TARGET_MB = 1.3, 20.0, 200.0


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """Invented pronounceable words; drawn with a Zipf-like skew, like real prose."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words = set()
    while len(words) < size:
        length = rng.choice((1, 2, 2, 3, 3, 4))
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length)))
    return sorted(words)


class Generator:
    def __init__(self, seed: int = 7):
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.cum_weights = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(self.words))))
        self.authors = [f"{self.word().title()} {self.word().title()}" for _ in range(400)]
        self.keywords = sorted({self.word().title() for _ in range(500)})

    def word(self) -> str:
        return self.rng.choice(self.words)

    def text(self, n: int) -> str:
        return " ".join(self.rng.choices(self.words, cum_weights=self.cum_weights, k=n))

    def article(self, n: int) -> Article:
        rng = self.rng
        number = n // 8  # eight articles to an issue, each page showing the issue's contents
        year, month = 2005 + number % 20, 1 + number % 12
        issue_code = f"tcprv{number}n{month}"
        contents = [IssueArticle(f"Article {m}", f"{SITE}/articles/{m}-article")
                    for m in range(number * 8, number * 8 + 8)]
        return Article(
            url=f"{SITE}/articles/{n}-{self.word()}", canonical_url=f"{SITE}/articles/{n}-article",
            article_id=n, title=self.text(rng.randint(4, 10)).capitalize(),
            authors=[Author(rng.choice(self.authors), ["MD"]) for _ in range(rng.randint(1, 3))],
            published=f"{year}-{month:02d}-01",
            issue=Issue(date=f"{year}-{month:02d}-01", title=f"Issue {issue_code}",
                        url=f"{SITE}/newsletter-issue/{issue_code}",
                        articles=contents),
            newsletter=NEWSLETTERS[number % len(NEWSLETTERS)], category="Research Update",
            disclosure=f"Dr. {self.word().title()} has no financial interests to disclose.",
            citation=Citation(text=f"{self.word().title()} A et al, J {self.word().title()} {year - 1};"
                                   f"{n % 90}:{n % 700}-{n % 700 + 9}",
                              journal=f"J {self.word().title()}", year=year - 1),
            study_type=rng.choice(STUDY_TYPES), body=self.text(rng.randint(350, 650)),
            keywords=rng.sample(self.keywords, rng.randint(2, 5)), word_count=500,
        )


# -- 1. load -------------------------------------------------------------------------------

TABLE_ORDER = ("newsletters", "issues", "authors", "keywords", "articles", "article_authors",
               "article_keywords", "issue_articles")  # foreign keys point backwards only


class RowBuilder:
    """The rows `Archive.load` would write, computed before the clock starts (the floor does no
    Python work while timed). Keeps ids across calls, so big archives can be built in chunks."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}
        self.counts = dict.fromkeys(TABLE_ORDER, 0)

    def ident(self, tables, table: str, key, row_of) -> int:
        if (table, key) not in self.ids:
            self.counts[table] += 1
            self.ids[(table, key)] = self.counts[table]
            tables[table].append(row_of(self.counts[table]))
        return self.ids[(table, key)]

    def rows(self, articles: list[Article]) -> dict[str, list[tuple]]:
        tables = {name: [] for name in TABLE_ORDER}
        now = "2026-01-01T00:00:00Z"
        for article in articles:
            record = normalised(article)
            self.counts["articles"] += 1
            number = self.counts["articles"]
            newsletter = self.ident(tables, "newsletters", record["newsletter"],
                                    lambda i: (i, record["newsletter"]))
            issue = record["issue"]
            known = self.counts["issues"]
            issue_id = self.ident(tables, "issues", issue["url"],
                                  lambda i: (i, newsletter, issue["date"], issue["title"], issue["url"],
                                             issue["volume"], issue["number"], None))
            if issue_id > known:  # first article of its issue: write the contents
                tables["issue_articles"].extend(
                    (issue_id, position, entry["title"], entry["url"], None, None)
                    for position, entry in enumerate(issue["articles"]))
            c = record["citation"]
            tables["articles"].append((
                number, record["canonical_url"], record["url"], record["article_id"],
                record["title"], record["published"], newsletter, issue_id, record["category"],
                record["study_type"], record["disclosure"], record["body"], record["word_count"], 0,
                c["text"], c["authors"], c["journal"], c["year"], c["volume"], c["issue"],
                c["pages"], c["doi"], c["pmid"], "; ".join(a["name"] for a in record["authors"]),
                "; ".join(record["keywords"]), "[]", record["parser_version"],
                content_sha256(record), now, now, now, None, record["article_type"], None))
            for position, author in enumerate(record["authors"]):
                author_id = self.ident(tables, "authors", author["name"],
                                       lambda i: (i, author["name"], '["MD"]', None))
                tables["article_authors"].append((number, position, author_id, '["MD"]', None))
            for position, keyword in enumerate(record["keywords"]):
                keyword_id = self.ident(tables, "keywords", keyword, lambda i: (i, keyword))
                tables["article_keywords"].append((number, position, keyword_id))
        return tables


class Stopwatch:
    """Wall and CPU time of the timed sections only. On a shared machine other processes
    stretch wall time at random; this process's CPU time (SQLite runs in it) is steadier."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    @contextlib.contextmanager
    def timing(self):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu


def raw_load(path: Path, chunks) -> Stopwatch:
    """The floor: the same schema without its FTS triggers, executemany of every row, then one
    FTS5 'rebuild', in one transaction. The triggers are put back afterwards, off the clock."""
    Archive(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                            "AND tbl_name = 'articles'").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    watch = Stopwatch()
    conn.execute("BEGIN IMMEDIATE")
    for chunk in chunks:
        tables = chunk() if callable(chunk) else chunk  # rows are made off the clock
        with watch.timing():
            for table, rows in tables.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    with watch.timing():
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")
    for _, sql in triggers:
        conn.execute(sql)
    conn.close()
    return watch


def archive_load(path: Path, articles: list[Article]) -> Stopwatch:
    watch = Stopwatch()
    with Archive(path) as archive, watch.timing():
        archive.load(articles, seen_at="2026-01-01T00:00:00Z")
    return watch


def bench_load(workdir: Path, generator: Generator, count: int = 10_000, rounds: int = 5) -> dict:
    """Alternating rounds on fresh files, each round's two loads back to back. Reported: the
    median of the per-round ratios, of CPU time and of wall time, and the best of each side."""
    articles = [generator.article(n) for n in range(1, count + 1)]
    tables = RowBuilder().rows(articles)
    raws, loads, reloads = [], [], []
    for round_number in range(rounds):
        raws.append(raw_load(workdir / f"raw{round_number}.db", [tables]))
        path = workdir / f"load{round_number}.db"
        loads.append(archive_load(path, articles))
        reloads.append(archive_load(path, articles))  # idempotent: all unchanged
        with Archive(path) as archive:
            assert archive.db["articles"].count == len(tables["articles"])
            assert archive.db["article_versions"].count == 0
    cpu_ratios = [o.cpu / r.cpu for o, r in zip(loads, raws)]
    wall_ratios = [o.wall / r.wall for o, r in zip(loads, raws)]
    return {"records": count, "rounds": rounds,
            "raw_executemany_plus_rebuild_s": min(r.wall for r in raws),
            "archive_load_s": min(o.wall for o in loads),
            "ratio": statistics.median(cpu_ratios), "cpu_ratios": cpu_ratios,
            "wall_ratio": statistics.median(wall_ratios), "wall_ratios": wall_ratios,
            "reload_unchanged_s": min(r.wall for r in reloads)}


# -- 2. search -----------------------------------------------------------------------------

def build_search_archive(path: Path, generator: Generator, count: int, chunk: int = 10_000) -> None:
    """Filled with the raw fast path (this part measures searching, not loading), in chunks."""
    builder = RowBuilder()
    chunks = [lambda start=start: builder.rows(
        [generator.article(n) for n in range(start, min(start + chunk, count + 1))])
        for start in range(1, count + 1, chunk)]
    raw_load(path, chunks)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_queries(archive: Archive, queries: list[str], **filters) -> dict:
    """Our search and sqlite-utils' `table.search` on the same queries, after one untimed pass
    of each (so neither pays for reading the file into the page cache)."""
    table = archive.db["articles"]
    for query in queries:
        archive.search(query, **filters)
        list(table.search(query, limit=20))
    ours, library, matches = [], [], []
    for query in queries:
        t0 = time.perf_counter()
        results = archive.search(query, limit=20, **filters)
        t1 = time.perf_counter()
        if not filters:
            list(table.search(query, limit=20))
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        library.append((t2 - t1) * 1000)
        assert results and all(r["snippet"] for r in results)
        matches.append(archive.db.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [query]).fetchone()[0])
    return {"queries": len(queries), "median_matches": statistics.median(matches),
            "p50_ms": statistics.median(ours), "p95_ms": percentile(ours, 0.95),
            "sqlite_utils_p50_ms": statistics.median(library),
            "sqlite_utils_p95_ms": percentile(library, 0.95)}


def bench_search(workdir: Path, generator: Generator, count: int = 100_000, queries: int = 200) -> dict:
    path = workdir / "search.db"
    started = time.perf_counter()
    build_search_archive(path, generator, count)
    build_s = time.perf_counter() - started
    rng = random.Random(11)
    words = generator.words  # ordered by the Zipf-like frequency the bodies are drawn with

    def pairs(common: tuple[int, int], other: tuple[int, int], n: int) -> list[str]:
        return [f"{words[rng.randint(*common)]} {words[rng.randint(*other)]}" for _ in range(n)]

    with Archive(path) as archive:
        # Like "ketamine depression": one term common in the archive, one of middling frequency.
        typical = time_queries(archive, pairs((40, 200), (200, 2000), queries))
        # Both terms very common: a quarter of the archive matches. The worst case for ranking.
        heavy = time_queries(archive, pairs((10, 60), (60, 300), 40))
        filtered = time_queries(archive, pairs((40, 200), (200, 2000), 50),
                                newsletter="Child", since="2015")
    return {"articles": count, "build_s": build_s, **typical, "heavy": heavy,
            "filtered_p50_ms": filtered["p50_ms"]}


# -- 3. reparse ----------------------------------------------------------------------------

def template_page() -> tuple[str, str]:
    fixture = ROOT / "tests" / "fixtures" / "pages" / "tcpr-ketamine-opiate.html"
    meta = json.loads((fixture.parent / "tcpr-ketamine-opiate.meta.json").read_text())
    return fixture.read_text(encoding="utf-8"), meta["url"]


def store_captures(path: Path, generator: Generator, count: int) -> None:
    """`count` captures of distinct article pages: the fixture page with its title and a body
    paragraph replaced, at its own URL."""
    html, url = template_page()
    slug = url.rsplit("/", 1)[1]  # in the URL, the canonical link and the issue's contents
    title = "Is Ketamine Just Another Opiate?"
    sentence = "how it works is less clear"
    with Archive(path) as archive, archive.transaction():
        for n in range(1, count + 1):
            page = html.replace(title, generator.text(6).capitalize() + "?").replace(
                sentence, generator.text(40)).replace(slug, f"{n}-page-{n}")
            archive.add_capture(Capture(
                url=url.replace(slug, f"{n}-page-{n}"),
                status=200, headers={"content-type": "text/html; charset=utf-8"},
                body=page.encode("utf-8"), fetched_at=f"2026-01-01T00:00:{n % 60:02d}Z"))


def reparse_child(db_path: str) -> None:
    """Runs in a fresh interpreter, so peak RSS is the reparse's own."""
    with Archive(db_path) as archive:
        started = time.perf_counter()
        result = archive.reparse(workers=2)
        elapsed = time.perf_counter() - started
    own = peak_rss_mb()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"captures": result.captures, "outcomes": dict(result.outcomes),
                      "failures": result.failures[:3], "seconds": elapsed, "main_rss_mb": own,
                      "worker_rss_mb": children}))


def bench_reparse(workdir: Path, generator: Generator, count: int = 10_000) -> dict:
    try:
        from archiver.parse import parse_capture  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"parser not available ({exc})"}
    path = workdir / "reparse.db"
    store_captures(path, generator, count)
    out = subprocess.run([sys.executable, __file__, "--reparse-child", str(path)],
                         capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["pages_per_s"] = figures["captures"] / figures["seconds"]
    figures["peak_rss_mb"] = max(figures["main_rss_mb"], figures["worker_rss_mb"])
    return figures


# -- report --------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(load_count: int = 10_000, search_count: int = 100_000, reparse_count: int = 10_000) -> dict:
    generator = Generator()
    with tempfile.TemporaryDirectory(prefix="bench_archive_") as tmp:
        workdir = Path(tmp)
        load = bench_load(workdir, generator, load_count)
        print(f"archive load, {load['records']} records (best of {load['rounds']} rounds): "
              f"Archive.load {load['archive_load_s']:.2f} s; raw executemany + FTS5 rebuild "
              f"{load['raw_executemany_plus_rebuild_s']:.2f} s; ratio {load['ratio']:.2f}x in CPU time "
              f"(target <= {LOAD_TARGET}x: {verdict(load['ratio'] <= LOAD_TARGET)}), "
              f"{load['wall_ratio']:.2f}x in wall time (medians of the rounds: CPU "
              f"{', '.join(f'{r:.2f}' for r in load['cpu_ratios'])}; wall "
              f"{', '.join(f'{r:.2f}' for r in load['wall_ratios'])}); "
              f"re-load, all unchanged {load['reload_unchanged_s']:.2f} s", flush=True)
        search = bench_search(workdir, generator, search_count)
        heavy = search["heavy"]
        print(f"archive search, {search['articles']} articles, {search['queries']} two-term queries "
              f"(median {search['median_matches']:.0f} matches), top 20 with snippets: "
              f"p50 {search['p50_ms']:.1f} ms, p95 {search['p95_ms']:.1f} ms (target p50 <= "
              f"{SEARCH_P50_TARGET_MS:.0f} ms: {verdict(search['p50_ms'] <= SEARCH_P50_TARGET_MS)}); "
              f"sqlite-utils table.search, no snippets: p50 {search['sqlite_utils_p50_ms']:.1f} ms, "
              f"p95 {search['sqlite_utils_p95_ms']:.1f} ms; with --newsletter and --since filters "
              f"p50 {search['filtered_p50_ms']:.1f} ms; archive built in {search['build_s']:.0f} s", flush=True)
        print(f"archive search, worst case: {heavy['queries']} queries of two very common terms "
              f"(median {heavy['median_matches']:.0f} matches, all ranked by bm25): p50 "
              f"{heavy['p50_ms']:.1f} ms, p95 {heavy['p95_ms']:.1f} ms; sqlite-utils p50 "
              f"{heavy['sqlite_utils_p50_ms']:.1f} ms, p95 {heavy['sqlite_utils_p95_ms']:.1f} ms "
              f"({heavy['sqlite_utils_p50_ms'] / heavy['p50_ms']:.1f}x ours)", flush=True)
        reparse = bench_reparse(workdir, generator, reparse_count)
        if "skipped" in reparse:
            print(f"archive reparse: skipped, {reparse['skipped']}")
        else:
            print(f"archive reparse, {reparse['captures']} captures on 2 workers: "
                  f"{reparse['pages_per_s']:.0f} pages/s ({reparse['seconds']:.1f} s), outcomes "
                  f"{reparse['outcomes']}; peak RSS main {reparse['main_rss_mb']:.0f} MB, largest "
                  f"worker {reparse['worker_rss_mb']:.0f} MB (target <= {RSS_TARGET_MB:.0f} MB: "
                  f"{verdict(reparse['peak_rss_mb'] <= RSS_TARGET_MB)})", flush=True)
            if reparse["failures"]:
                print(f"archive reparse: the parser failed on some pages, e.g. {reparse['failures'][0]}")
    return {"load": load, "search": search, "reparse": reparse}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--reparse-child":
        reparse_child(sys.argv[2])
    else:
        main()
