"""Parser speed on the fixture pages, side by side with trafilatura and a bare lxml parse.

Targets (issue 2): parse_article <= 0.15x trafilatura.bare_extraction and <= 6x a bare
lxml.html.fromstring of the same bytes. Printed, never asserted: timing belongs here, not in tests.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
TARGET_VS_TRAFILATURA = 0.15
TARGET_VS_LXML = 6.0


def load_pages() -> list[tuple[str, bytes, dict]]:
    pages = []
    for page in sorted(PAGES.glob("*.html")):
        meta_file = page.with_suffix(".meta.json")
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        pages.append((page.stem, page.read_bytes(), meta))
    return pages


def per_page_ms(funcs: dict, pages, rounds: int) -> dict:
    """ms per page for each function: best of `rounds` passes over all pages. The passes of
    the functions are interleaved, so a busy machine slows them alike and the ratios hold; the
    garbage collector is paused while timing, as `timeit` does, so one library's garbage is
    not billed to another."""
    best = dict.fromkeys(funcs, float("inf"))
    for _ in range(rounds):
        for name, func in funcs.items():
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                for _name, raw, meta in pages:
                    func(raw, meta)
                best[name] = min(best[name], time.perf_counter() - start)
            finally:
                gc.enable()
    return {name: seconds / len(pages) * 1000 for name, seconds in best.items()}


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import lxml.html

    from archiver.errors import NotAnArticle
    from archiver.parse import parse_article

    pages = load_pages()

    def ours(raw, meta):
        try:
            parse_article(raw, url=meta.get("url"), headers=meta.get("headers"))
        except NotAnArticle:
            pass

    def bare_lxml(raw, meta):
        lxml.html.fromstring(raw)

    funcs = {"parse_article": ours, "lxml.html.fromstring": bare_lxml}
    try:
        import trafilatura

        def traf(raw, meta):
            trafilatura.bare_extraction(raw.decode("utf-8", "replace"), url=meta.get("url"))

        funcs["trafilatura.bare_extraction"] = traf
    except ImportError:
        pass
    report(f"all {len(pages)} fixture pages", per_page_ms(funcs, pages, rounds=12), pages)
    articles = [page for page in pages if not _is_error_golden(page[0])]
    report(f"the {len(articles)} article pages only", per_page_ms(funcs, articles, rounds=12), articles)


def _is_error_golden(name: str) -> bool:
    golden = PAGES / f"{name}.expected.json"
    return golden.is_file() and "error" in json.loads(golden.read_text(encoding="utf-8"))


def report(title: str, figures: dict, pages) -> None:
    figures.setdefault("trafilatura.bare_extraction", None)
    size_kb = sum(len(raw) for _, raw, _ in pages) / len(pages) / 1024
    print(f"bench_parse: {title}, {size_kb:.1f} KB on average")
    for name, ms in figures.items():
        print(f"  {name:30s} {'not installed' if ms is None else f'{ms:7.3f} ms/page'}")
    ours_ms, lxml_ms, traf_ms = (figures["parse_article"], figures["lxml.html.fromstring"],
                                 figures["trafilatura.bare_extraction"])
    ratio = ours_ms / lxml_ms
    print(f"  parse_article / bare lxml parse      = {ratio:5.2f}x "
          f"(target <= {TARGET_VS_LXML}x: {'met' if ratio <= TARGET_VS_LXML else 'MISSED'})")
    if traf_ms:
        ratio = ours_ms / traf_ms
        print(f"  parse_article / trafilatura          = {ratio:5.3f}x "
              f"(target <= {TARGET_VS_TRAFILATURA}x: {'met' if ratio <= TARGET_VS_TRAFILATURA else 'MISSED'})")


if __name__ == "__main__":
    main()
