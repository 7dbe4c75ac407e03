"""Body quality of the generic extractor vs plain trafilatura (its defaults), side by side.

Two page sets: the invented pages of tests/fixtures/generic/ (written for the generic
extractor: read its figures as a check, not a measure), and the Carlat fixture pages with their
golden bodies (written for the Carlat parser, so independent of the generic extractor).
Recall: share of the article's own lines found; precision: share of the body that is the
article's own (or optional, e.g. captions) text.

    .venv/bin/python bench/quality_generic.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from generic_quality import pages, score, truth_of  # noqa: E402


def carlat_pages():
    for page in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")):
        expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
        if expected.get("body"):
            yield page, {"paragraphs": expected["body"].split("\n\n")}


def measure(label, items) -> None:
    import trafilatura

    from archiver.errors import NotAnArticle
    from archiver.parse import parse_article

    ours, plain = [], []
    for page, truth in items:
        raw = page.read_bytes()
        try:
            body = parse_article(raw, profile="generic").body
        except NotAnArticle:
            body = None
        ours.append(score(body, truth))
        plain.append(score(trafilatura.extract(raw), truth))
    n = len(ours)
    print(f"quality_generic: {label} ({n} pages)")
    for name, results in (("generic extractor", ours), ("plain trafilatura", plain)):
        recall = sum(r["recall"] for r in results) / n
        precision = sum(r["precision"] for r in results) / n
        perfect = sum(r["recall"] == 1 and r["precision"] == 1 for r in results)
        print(f"  {name:<18} recall {recall:.3f}  precision {precision:.3f}  exact bodies {perfect}/{n}")


def main() -> None:
    measure("invented pages of tests/fixtures/generic", [(p, truth_of(p)) for p in pages()])
    measure("Carlat fixture pages (golden bodies)", list(carlat_pages()))


if __name__ == "__main__":
    main()
