"""Run every bench/bench_*.py module's main(), side by side in one run (`make bench`).

A module that is missing a main() or fails is reported and the others still run; the exit
status is 1 if any failed.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    sys.path.insert(0, str(HERE.parent / "src"))
    failed = []
    for path in sorted(HERE.glob("bench_*.py")):
        print(f"== {path.stem}", flush=True)
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if not hasattr(module, "main"):
                raise AttributeError("no main() function")
            module.main()
        except Exception as exc:  # report and go on: one broken bench must not hide the others
            failed.append(path.stem)
            print(f"error: {path.stem} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc(limit=3)
        print(flush=True)
    if failed:
        print(f"bench: {len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
