import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "data"), str(ROOT / "tools")]


def pytest_terminal_summary(terminalreporter):
    from test_loader import MEASUREMENTS
    if MEASUREMENTS:
        terminalreporter.section("measurements")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)
