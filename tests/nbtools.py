"""Helpers the tests share: where the notebooks are and how to read their cells."""
from __future__ import annotations

import base64
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("*/0[123]-mnist-*.ipynb"))
MODELS = {"fcn": "01-mnist-fcn.ipynb", "cnn": "02-mnist-cnn.ipynb", "rnn": "03-mnist-rnn.ipynb"}
PARAMETERS = {"fcn": 535_818, "cnn": 3_274_634, "rnn": 81_674}
EPOCHS = {"fcn": 10, "cnn": 5, "rnn": 5}
FLOOR = {"fcn": 0.975, "cnn": 0.988, "rnn": 0.96}  # a full run's test accuracy reaches at least this
SMOKE_FLOOR = {"fcn": 0.85, "cnn": 0.85, "rnn": 0.45}  # and a smoke run this


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


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
    return path.stem.rsplit("-", 1)[-1]


# Absolute paths of a machine: home folders (Linux, macOS, Windows), temporary folders, install prefixes
MACHINE_PATH = re.compile(r"(/root/|/home/|/tmp/|/Users/|/work/|/opt/|/srv/|/var/folders/|/private/var/"
                          r"|[A-Za-z]:\\\\|[A-Za-z]:\\(Users|Windows|Program)|[A-Za-z]:/Users/)")
MAX_IMAGE_BYTES = 60_000


def assert_clean_outputs(path: Path) -> None:
    """Every code cell ran, and no output holds stderr, an error, a machine path, a progress bar or a big image."""
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name}: not every code cell was executed"
    for index, cell in enumerate(code):
        for output in cell.get("outputs", []):
            where = f"{path.name} code cell {index}"
            assert output.get("name") != "stderr", f"{where}: stderr output committed"
            assert output.get("output_type") != "error", f"{where}: an error committed"
            text = output_text(output) + "".join(
                v if isinstance(v, str) else "".join(v)
                for k, v in output.get("data", {}).items() if k.startswith("text/"))
            assert not MACHINE_PATH.search(text), f"{where}: a path of the machine in the output"
            assert "\r" not in text and "\x1b[" not in text, f"{where}: a progress bar or terminal escape"
            png = output.get("data", {}).get("image/png")
            if png:
                size = len(base64.b64decode(png if isinstance(png, str) else "".join(png)))
                assert size <= MAX_IMAGE_BYTES, f"{where}: image of {size:,} bytes"
