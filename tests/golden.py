"""Golden files of the parser: `tests/fixtures/pages/<name>.expected.json` per `<name>.html`,
and `tests/fixtures/issues/<name>.expected.json`, the `Issue` record of an issue page.

    python tests/golden.py           print every page whose parse differs from its golden file
    python tests/golden.py --write   rewrite the golden files from the parser (review the diff!)

A page is parsed with the URL, headers and profile of its optional `<name>.meta.json` (pages of
other sites' profiles live in subdirectories, e.g. `pages/noctua/`; a profile given as a TOML
file is relative to the page, e.g. `pages/kestrel/` uses `profiles/kestrel/kestrel.toml`). Non-article pages have the
golden record {"error": "not an article page"}. An issue page is parsed with `parse_issue`; its
meta file may name a page kept elsewhere (`"page": "../pages/issue-tcprv19n3.html"`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
ISSUES = Path(__file__).resolve().parent / "fixtures" / "issues"
NOT_AN_ARTICLE = {"error": "not an article page"}


def page_files() -> list[Path]:
    return sorted(PAGES.glob("*.html")) + sorted(PAGES.glob("*/*.html"))


def issue_files() -> list[Path]:
    """The issue pages' golden files (each names its page by its meta file)."""
    return sorted(ISSUES.glob("*.expected.json"))


def issue_page(golden: Path) -> tuple[Path, dict]:
    """(the page, its meta) of an issue golden file."""
    name = golden.name[: -len(".expected.json")]
    meta = json.loads((golden.parent / f"{name}.meta.json").read_text(encoding="utf-8"))
    return (golden.parent / meta.get("page", f"{name}.html")).resolve(), meta


def parsed_issue(golden: Path) -> dict:
    from dataclasses import asdict

    from archiver.parse import parse_issue

    page, meta = issue_page(golden)
    return asdict(parse_issue(page.read_bytes(), url=meta.get("url"), headers=meta.get("headers")))


def meta_of(page: Path) -> dict:
    """The page's URL, headers and profile (a built-in name, or a TOML file relative to it)."""
    meta_file = page.with_suffix(".meta.json")
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    if str(meta.get("profile", "")).endswith(".toml"):
        meta["profile"] = str((page.parent / meta["profile"]).resolve())
    return meta


def expected_of(page: Path) -> dict:
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))


def parsed_record(page: Path) -> dict:
    """What the parser makes of a page, in the golden files' form."""
    from archiver.errors import NotAnArticle
    from archiver.parse import parse_article

    meta = meta_of(page)
    try:
        article = parse_article(page.read_bytes(), url=meta.get("url"), headers=meta.get("headers"),
                                profile=meta.get("profile"))
    except NotAnArticle:
        return dict(NOT_AN_ARTICLE)
    return article.to_dict()


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per differing field (nested records compared whole)."""
    lines = []
    for key in dict.fromkeys(list(expected) + list(actual)):
        if expected.get(key) != actual.get(key):
            lines.append(f"  {key}:\n    expected {json.dumps(expected.get(key), ensure_ascii=False)[:300]}"
                         f"\n    parsed   {json.dumps(actual.get(key), ensure_ascii=False)[:300]}")
    return lines


def main(argv: list[str]) -> int:
    write = "--write" in argv
    mismatched = 0
    cases = [(page.stem, page.with_suffix(".expected.json"), lambda page=page: parsed_record(page))
             for page in page_files()]
    cases += [(golden.name.split(".")[0] + " (issue)", golden, lambda golden=golden: parsed_issue(golden))
              for golden in issue_files()]
    for name, golden, parse in cases:
        actual = parse()
        if write:
            text = json.dumps(actual, ensure_ascii=False, indent=2) + "\n"
            if not golden.is_file() or golden.read_text(encoding="utf-8") != text:
                golden.write_text(text, encoding="utf-8")
                print(f"wrote {golden.name}")
            continue
        expected = json.loads(golden.read_text(encoding="utf-8")) if golden.is_file() else {}
        diff = differences(expected, actual)
        if diff:
            mismatched += 1
            print(f"{name}:")
            print("\n".join(diff))
    if not write:
        print(f"{mismatched} of {len(cases)} pages differ from their golden files")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main(sys.argv[1:]))
