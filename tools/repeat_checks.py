"""Run notebooks' cells up to their two checks again and again, each time in a fresh kernel, and count failures.

Usage: python tools/repeat_checks.py RUNS NOTEBOOK [NOTEBOOK ...]

Made for a failure that comes now and then (TensorFlow's "'TfMethodTarget' object has no attribute 'forward'",
2 of 68 runs before its models' `tf.function`s left AutoGraph out: tensorflow/README.md): each run executes the
notebook in smoke mode from its first cell to its "same gradients, same step" cell, in a new kernel. It prints a
line per run and, at the end, each notebook's runs and failures with the last lines of each failure; the exit
status is 1 if any run failed.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from run_notebooks import QUIET, execute

STEP_CELL = "EPSILON_FORM"  # a name that only the "same gradients, same step" cell uses


def up_to_the_checks(path: Path) -> nbformat.NotebookNode:
    """The notebook with its cells up to and including its "same gradients, same step" cell."""
    notebook = nbformat.read(path, as_version=4)
    last = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and STEP_CELL in cell.source]
    if not last:
        raise ValueError(f"{path}: no code cell uses {STEP_CELL}, so no 'same gradients, same step' check")
    notebook.cells = notebook.cells[:last[-1] + 1]
    return notebook


def repeat(path: Path, runs: int) -> list[str]:
    """Each failed run's number and the last lines of its error."""
    env = dict(os.environ) | QUIET | {"POLYDLOT_SMOKE": "1"}
    failures = []
    for run in range(1, runs + 1):
        try:
            execute(up_to_the_checks(path), path.parent, env)
        except CellExecutionError as error:
            failures.append(f"run {run}: " + " | ".join(str(error).strip().splitlines()[-3:]))
        print(f"{time.strftime('%H:%M:%S')} {path} run {run}/{runs}: {len(failures)} failed so far", flush=True)
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit() or int(argv[0]) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    runs, paths = int(argv[0]), [Path(name) for name in argv[1:]]
    results = {path: repeat(path, runs) for path in paths}
    for path, failures in results.items():
        print(f"{path}: {runs} runs in fresh kernels, {len(failures)} failed", *failures, sep="\n  ")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
