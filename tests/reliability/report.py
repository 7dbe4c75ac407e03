"""The reliability suite's table of figures.

pytest prints it at the end of every session that ran reliability tests (`make test`,
`make reliability`), before its closing line; `python tests/reliability/report.py` prints it
again from the JSON the tests wrote (`$RELIABILITY_FIGURES` or data/reliability.json) and exits 1
when the file is missing or any article was lost or duplicated.
"""

from __future__ import annotations

import json
import sys

from figures import figures_path


def rows(title: str, pairs) -> list[str]:
    pairs = list(pairs)
    if not pairs:
        return []
    width = max(len(str(name)) for name, _ in pairs)
    return [title] + [f"  {str(name):<{width}}  {value}" for name, value in pairs]


def render(data: dict, path) -> tuple[str, bool]:
    """The table, and whether no article was lost or duplicated."""
    faults, crash = data.get("faults", {}), data.get("crash", {})
    conc, fuzz = data.get("concurrency", {}), data.get("fuzz", {})
    cli, sec = data.get("cli", {}), data.get("security", {})
    lost = sum(v for k, v in {**faults, **crash}.items() if k.endswith("lost"))
    duplicates = sum(v for k, v in crash.items() if k.endswith("duplicates"))
    orphans = sum(v for k, v in crash.items() if k.endswith("orphans"))
    lines = [f"reliability report (size: {data.get('size')}, {path})", ""]
    lines += rows("faults injected by kind", sorted(faults.get("injected", {}).items()))
    lines += rows("fault crawls", [
        ("runs (first with faults, then until only the traps fail)", faults.get("runs")),
        ("articles servable / archived / equal to golden", f"{faults.get('articles_servable')} / "
         f"{faults.get('articles_archived')} / {faults.get('articles_matching_golden')}"),
        ("pages failed in a run, recovered the next", faults.get("pages_recovered_next_run")),
        ("earlier articles altered / captures kept", f"{faults.get('earlier_articles_altered')} / "
         f"{faults.get('captures_kept')}"),
    ])
    lines += rows("crashes (SIGKILL, then rerun; compared with an uninterrupted run)", [
        ("crawl kills (inside a write)", f"{crash.get('crawl_kills')} ({crash.get('crawl_kills_inside_a_write')})"),
        ("load kills inside its transaction", f"{crash.get('load_kills_inside_a_write')} "
         f"({crash.get('load_records')} records)"),
        ("reparse kills", f"{crash.get('reparse_kills')} ({crash.get('reparse_captures')} captures)"),
        ("fields differing after resume", crash.get("crawl_fields_differing")),
        ("orphan rows", orphans),
    ])
    lines += rows("ARTICLES LOST (must be 0)", [("total", lost)])
    lines += rows("DUPLICATES (must be 0)", [("total", duplicates)])
    lines += rows("concurrency", sorted(conc.items()))
    tried = fuzz.get("tried", {})
    lines += rows(f"parser fuzzing: {sum(tried.values())} inputs, answers by kind",
                  sorted(fuzz.get("answers", {}).items()))
    lines += rows("  slowest page by kind (s; bound 5)", sorted(fuzz.get("slowest_seconds", {}).items()))
    lines += rows(f"CLI bad inputs: {cli.get('bad_inputs')} tried, {cli.get('tracebacks')} tracebacks",
                  [(name, f"exit {status}: {line}") for name, status, line in cli.get("each", [])])
    lines += rows("security", sorted((k, v) for k, v in sec.items()))
    lines += rows("attacks (an unfriendly server, a careless user, odd input) and their outcomes",
                  sorted(data.get("attacks", {}).items()))
    return "\n".join(lines), not (lost or duplicates)


def main() -> int:
    path = figures_path()
    if not path.exists():
        print(f"no reliability figures at {path}: run the suite first", file=sys.stderr)
        return 1
    table, ok = render(json.loads(path.read_text(encoding="utf-8")), path)
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
