"""Figures the reliability tests measured, collected into one JSON file the report prints.

Tests call `record(section, **figures)`; the file is `$RELIABILITY_FIGURES` or
`data/reliability.json`, rewritten at the end of every session that ran reliability tests, so
the report never depends on pytest's `-s`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIZE = os.environ.get("RELIABILITY_SIZE", "ci")  # "ci" (make test) or "large" (make reliability)
LARGE = SIZE == "large"

_collected: dict[str, dict] = {}


def figures_path() -> Path:
    return Path(os.environ.get("RELIABILITY_FIGURES", REPO / "data" / "reliability.json"))


def record(section: str, **figures) -> None:
    _collected.setdefault(section, {}).update(figures)


def add(section: str, **counts) -> None:
    """Sum numbers (and dicts of numbers) into a section: tests run several times add up."""
    target = _collected.setdefault(section, {})
    for key, value in counts.items():
        if isinstance(value, dict):
            inner = target.setdefault(key, {})
            for name, number in value.items():
                inner[name] = inner.get(name, 0) + number
        else:
            target[key] = target.get(key, 0) + value


def collected() -> bool:
    return bool(_collected)


def snapshot() -> dict:
    return {"size": SIZE, **_collected}


def write() -> None:
    if not _collected:
        return
    path = figures_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
