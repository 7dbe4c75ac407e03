import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # faults.py, figures.py beside the tests
sys.path.insert(1, str(Path(__file__).parent.parent))  # waiting.py, shared with the other tests

import figures  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    figures.write()


def pytest_terminal_summary(terminalreporter):
    # Printed before pytest's closing "N passed" line, which stays the run's last line.
    if figures.collected():
        import report

        table, _ = report.render(figures.snapshot(), figures.figures_path())
        terminalreporter.write_sep("=", "reliability report")
        terminalreporter.write_line(table)
