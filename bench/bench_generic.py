"""Body quality and speed of `--profile generic` against trafilatura's defaults, in one run, on
the public article-extraction benchmark (181 news and blog pages with hand-made bodies; scoring
as its README defines it: 4-word shingles, per-page precision / recall averaged, F1 of the two).

The benchmark is looked for in $AEB_BENCHMARK (default ../shared/benchmarks/aeb beside the
repository: html/<id>.html.gz and ground-truth.json, from
github.com/scrapinghub/article-extraction-benchmark); it is the sites' own text, so it is read
where it is and never copied into the repository.

    .venv/bin/python bench/bench_generic.py        (or `make bench`, with the other benches)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from generic_quality import BENCHMARK, WORSE_BY, benchmark_pages, side_by_side, worse_pages  # noqa: E402


def main() -> None:
    if not (BENCHMARK / "ground-truth.json").exists():
        print(f"bench_generic: no benchmark at {BENCHMARK} (set AEB_BENCHMARK to its folder)")
        return
    pages = benchmark_pages(BENCHMARK)
    n = len(pages)
    print(f"bench_generic: {n} pages, the whole benchmark ({BENCHMARK})")
    side_by_side(pages[:1])  # imports and profile loading are not the first page's time
    ours, theirs = side_by_side(pages)
    print(f"  {'extractor':<30} {'F1':>6} {'prec.':>6} {'recall':>6} {'refused':>7} {'ms/page':>8}")
    for run in (ours, theirs):
        print(f"  {run.name:<30} {run.f1:6.3f} {run.precision:6.3f} {run.recall:6.3f} "
              f"{len(run.refused):7d} {1000 * run.seconds / n:8.1f}")
    worse = worse_pages(ours, theirs)
    strictly = worse_pages(ours, theirs, by=0.0)
    better = worse_pages(theirs, ours)
    print(f"  pages where generic is worse (F1 lower by more than {WORSE_BY}): {len(worse)} of {n} "
          f"({100 * len(worse) / n:.1f} %); lower by any amount: {len(strictly)}; "
          f"better by more than {WORSE_BY}: {len(better)}")
    refused = [p for p in ours.refused if p not in theirs.refused]
    print(f"  pages generic refuses that trafilatura extracts: {len(refused)}")
    for page in sorted(worse, key=lambda p: ours.page_f1(p) - theirs.page_f1(p)):
        print(f"    worse: {page[:12]}  F1 {ours.page_f1(page):.3f} vs {theirs.page_f1(page):.3f}")


if __name__ == "__main__":
    main()
