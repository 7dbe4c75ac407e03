import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # faults.py, figures.py beside the tests

import figures  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    figures.write()
