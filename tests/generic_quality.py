"""Scoring a body against an invented page's truth (`tests/fixtures/generic/<name>.truth.json`):
the article's own lines found (recall), the share of the body that is the article's own or
optional text such as captions (precision), and chrome strings that leaked in.

Used by tests/test_generic.py and bench/quality_generic.py."""

from __future__ import annotations

import json
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "fixtures" / "generic"


def squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def pages() -> list[Path]:
    return sorted(PAGES.glob("*.html"))


def truth_of(page: Path) -> dict:
    return json.loads(page.with_suffix(".truth.json").read_text(encoding="utf-8"))


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
