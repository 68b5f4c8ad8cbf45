"""Helpers the tests share: where the notebooks are and how to read their cells."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("*/0[12]-mnist-*.ipynb"))
PARAMETERS = {"fcn": 535_818, "cnn": 3_274_634}
EPOCHS = {"fcn": 10, "cnn": 5}
FULL_BAR = {"fcn": 0.980, "cnn": 0.990}


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def output_text(output: dict) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def loading_cell(path: Path) -> str:
    """The source of the cell that reads the two CSVs."""
    found = [source(c) for c in cells(path)
             if c["cell_type"] == "code" and "mnist_train.csv" in source(c) and "mnist_test.csv" in source(c)]
    assert len(found) == 1, f"{path}: expected one CSV-loading cell, found {len(found)}"
    return found[0]


def model_of(path: Path) -> str:
    return "fcn" if "-fcn" in path.name else "cnn"
