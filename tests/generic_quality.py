r"""Scoring the generic extractor's bodies, two ways.

- Against an invented page's truth (`tests/fixtures/generic*/<name>.truth.json`): the article's
  own lines found (recall), the share of the body that is the article's own or optional text
  such as captions (precision), and chrome strings that leaked in.
- The public article-extraction benchmark's way (its README and evaluate.py): each text cut
  into shingles of 4 \w+ tokens; per page, precision and recall over shingle counts; each
  averaged over the pages where it is defined; F1 of the two averages. The whole benchmark runs
  in `make bench` (bench/bench_generic.py), from its own folder; tests/test_generic.py scores
  the invented pages of each failure class the same way (class_pages, as_benchmark).

Used by tests/test_generic.py, bench/quality_generic.py and bench/bench_generic.py."""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "fixtures" / "generic"
# Invented pages, each reproducing the structure behind one of the failure classes the public
# benchmark showed (its truth names the class and the structure), and ordinary pages beside them.
CLASS_PAGES = Path(__file__).resolve().parent / "fixtures" / "generic-classes"


def squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def pages() -> list[Path]:
    return sorted(PAGES.glob("*.html"))


def truth_of(page: Path) -> dict:
    return json.loads(page.with_suffix(".truth.json").read_text(encoding="utf-8"))


def class_pages() -> list[Path]:
    """The failure-class set: every page of fixtures/generic-classes and the pages of
    fixtures/generic whose truth names a class."""
    return sorted(CLASS_PAGES.glob("*.html")) + [p for p in pages() if "class" in truth_of(p)]


def as_benchmark(invented: list[Path]) -> list[tuple[str, bytes, dict]]:
    """Invented pages as benchmark_pages gives the benchmark's: (name, page bytes,
    {"articleBody": the truth's paragraphs, "url"})."""
    return [(page.stem, page.read_bytes(),
             {"articleBody": "\n\n".join(truth_of(page)["paragraphs"]), "url": truth_of(page).get("url")})
            for page in invented]


def score(body: str | None, truth: dict) -> dict:
    body = body or ""
    whole = squash(body)
    own_lines = [line for p in truth["paragraphs"] for line in p.split("\n") if line.strip()]
    found = [line for line in own_lines if squash(line) in whole]
    allowed = squash(" ".join(truth["paragraphs"] + truth.get("optional", [])))
    lines = [line for line in body.split("\n") if line.strip()]
    junk = sum(len(squash(line)) for line in lines if squash(line) not in allowed)
    total = sum(len(squash(line)) for line in lines) or 1
    return {"recall": len(found) / len(own_lines), "precision": 1 - junk / total,
            "missing": [line for line in own_lines if line not in found],
            "junk": [line for line in lines if squash(line) not in allowed],
            "chrome": [c for c in truth.get("chrome", []) if squash(c) in whole]}


# ------------------------------------------------------------------ the article-extraction benchmark

# Where `make bench` looks for the whole benchmark (scrapinghub/article-extraction-benchmark:
# html/<id>.html.gz and ground-truth.json). Its pages are the sites' own text: they are read
# where they are and never copied into this repository.
BENCHMARK = Path(os.environ.get(
    "AEB_BENCHMARK", Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "aeb"))
# A page counts as worse than trafilatura when its F1 is lower by more than this: a sentence of
# a long article. Smaller differences are where the two cut a caption or a dateline.
WORSE_BY = 0.01
_WORD = re.compile(r"\w+")


def shingles(text: str | None, size: int = 4) -> Counter:
    """The benchmark's unit: every run of `size` consecutive \\w+ tokens, counted."""
    tokens = _WORD.findall(text or "")
    return Counter(tuple(tokens[i:i + size]) for i in range(max(1, len(tokens) - size + 1))) \
        if tokens else Counter()


def precision_recall(prediction: str | None, truth: str) -> tuple[float | None, float | None]:
    """The benchmark's per-page precision and recall over shingle counts: 1.0 each when the
    shingles match exactly; None when undefined (no shingle predicted, or none to find), and
    such pages are left out of that average, as the benchmark's evaluate.py does."""
    predicted, wanted = shingles(prediction), shingles(truth)
    common = sum((predicted & wanted).values())
    if predicted == wanted:
        return 1.0, 1.0
    n_predicted, n_wanted = sum(predicted.values()), sum(wanted.values())
    return (common / n_predicted if n_predicted else None,
            common / n_wanted if n_wanted else None)


def f1(precision: float | None, recall: float | None) -> float:
    precision, recall = precision or 0.0, recall or 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _mean(values) -> float:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else 0.0


@dataclass
class Run:
    """One extractor over a page set: per page (precision, recall), refusals, time."""

    name: str
    scores: dict = field(default_factory=dict)  # page id -> (precision, recall)
    refused: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        return _mean(p for p, _ in self.scores.values())

    @property
    def recall(self) -> float:
        return _mean(r for _, r in self.scores.values())

    @property
    def f1(self) -> float:
        """F1 of the averaged precision and recall, as the benchmark computes it."""
        return f1(self.precision, self.recall)

    def page_f1(self, page: str) -> float:
        return f1(*self.scores[page])


def benchmark_pages(folder: Path) -> list[tuple[str, bytes, dict]]:
    """(id, page bytes, {"articleBody", "url"}) of every page of a benchmark folder."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    return [(page, gzip.decompress((folder / "html" / f"{page}.html.gz").read_bytes()), truth[page])
            for page in sorted(truth)]


def generic_body(html: bytes, url: str) -> str | None:
    """The body `--profile generic` gives the page; None when it refuses it."""
    from archiver.errors import NotAnArticle
    from archiver.parse import parse_article

    try:
        return parse_article(html, url=url, profile="generic").body
    except NotAnArticle:
        return None


def trafilatura_body(html: bytes, url: str) -> str | None:
    """What plain trafilatura extracts, with its defaults (comments included)."""
    import trafilatura

    return trafilatura.extract(html, url=url) or None


def side_by_side(pages) -> tuple[Run, Run]:
    """The generic extractor and plain trafilatura, page by page in turns (so a busy machine
    slows both alike)."""
    runs = (Run("archiver --profile generic"), Run("trafilatura extract, defaults"))
    for page, html, truth in pages:
        for run, extract in zip(runs, (generic_body, trafilatura_body)):
            start = time.perf_counter()
            body = extract(html, truth["url"])
            run.seconds += time.perf_counter() - start
            if body is None:
                run.refused.append(page)
            run.scores[page] = precision_recall(body, truth["articleBody"])
    return runs


def worse_pages(ours: Run, theirs: Run, by: float = WORSE_BY) -> list[str]:
    return [page for page in ours.scores if ours.page_f1(page) < theirs.page_f1(page) - by]
