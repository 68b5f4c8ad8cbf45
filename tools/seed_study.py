"""Train one notebook again under other seeds, to see how far its test accuracy moves from seed to seed.

Usage: python tools/seed_study.py NOTEBOOK SEED [SEED ...]

Each seed is set the way papermill sets a parameter: a cell `SEED = n` right after the cell tagged
`parameters`. The notebook runs as a copy in a temporary folder laid out like the repository, so its
record and saved model land there and never over results/ or models/; the CSVs are read from data/ (or
MNIST_DATA_DIR). Such a run is not a full run of the contract (its data folder is not the copy's own), so
the notebook checks no accuracy floor; the test accuracy is read from the record the run wrote. The
environment decides the rest: POLYDLOT_SMOKE=1 gives smoke runs, KERAS_BACKEND picks the Keras backend.
Runs one after the other; nothing is committed or kept.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell

from run_notebooks import execute

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def with_seed(notebook: nbformat.NotebookNode, seed: int) -> nbformat.NotebookNode:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected one cell tagged 'parameters', found {len(tagged)}")
    notebook.cells.insert(tagged[0] + 1, new_code_cell(f"SEED = {seed}"))
    return notebook


def run(path: Path, seed: int) -> tuple[float, bool]:
    """Test accuracy of one run with SEED = seed, and whether the notebook ran to its end."""
    notebook = with_seed(nbformat.read(path, as_version=4), seed)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary, path.resolve().parent.name)
        folder.mkdir()
        env = {"MNIST_DATA_DIR": str(DATA_DIR), **os.environ, "TMPDIR": temporary}  # TMPDIR: where the record goes
        try:
            execute(notebook, folder, env)
            completed = True
        except CellExecutionError:
            completed = False
        records = sorted(Path(temporary).glob("results/*.json")) + sorted(
            Path(temporary).glob("polydlot-results/*.json"))
        if len(records) != 1:
            raise RuntimeError(f"{path} with SEED = {seed} wrote {len(records)} records, expected 1")
        return json.loads(records[0].read_text())["test_accuracy"], completed


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, seeds = Path(argv[0]), [int(seed) for seed in argv[1:]]
    accuracies = []
    for seed in seeds:
        accuracy, completed = run(path, seed)
        accuracies.append(accuracy)
        print(f"{path} SEED={seed}: test accuracy {accuracy:.4f}" + ("" if completed else " (the notebook failed)"),
              flush=True)
    if len(accuracies) > 1:
        print(f"{len(accuracies)} seeds: min {min(accuracies):.4f}, mean {statistics.mean(accuracies):.4f}, "
              f"max {max(accuracies):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
