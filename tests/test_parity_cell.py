"""The "Same weights, same numbers" cell can fail: fed a fixture with one plausible mistake, its assert fires."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient.exceptions import CellExecutionError

from nbtools import ROOT
from run_notebooks import execute

NOTEBOOK = ROOT / "pytorch" / "02-mnist-cnn.ipynb"


def swap_height_and_width(arrays):
    """A convolution kernel stored (width, height, ...) instead of (height, width, ...)."""
    arrays["kernel_1"] = arrays["kernel_1"].transpose(1, 0, 2, 3).copy()


def flatten_channels_first(arrays):
    """The first dense kernel's rows in NCHW order, as if the reference had flattened channel first."""
    arrays["kernel_3"] = arrays["kernel_3"].reshape(7, 7, 64, 1024).transpose(2, 0, 1, 3).reshape(3136, 1024).copy()


def up_to_parity(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    last = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "parity-{MODEL}.npz" in c.source)
    notebook.cells = notebook.cells[:last + 1]
    return notebook


@pytest.mark.parametrize("mistake", [swap_height_and_width, flatten_channels_first], ids=lambda m: m.__name__)
def test_a_wrong_fixture_fails_the_check(tmp_path, mistake):
    folder, data = tmp_path / "pytorch", tmp_path / "data"
    folder.mkdir()
    data.mkdir()
    for name in ("mnist_train.csv", "mnist_test.csv"):
        (data / name).symlink_to(ROOT / "data" / name)
    with np.load(ROOT / "data" / "parity-cnn.npz") as stored:
        arrays = {key: stored[key] for key in stored.files}
    mistake(arrays)
    np.savez(data / "parity-cnn.npz", **arrays)
    env = {**os.environ, "POLYDLOT_SMOKE": "1", "TMPDIR": str(tmp_path)}
    with pytest.raises(CellExecutionError, match="this model does not compute what the reference computes"):
        execute(up_to_parity(NOTEBOOK), folder, env)
