"""Parity and floors, checked by what the cells do rather than by how they read.

Every notebook's "Same weights, same numbers" cell runs (imports, loading and model only, no training) against
the right fixture, which it must pass, and against fixtures with one mistake each, which it must refuse: a
plausible layout mistake, logits or a loss just outside the tolerance, and a missing file. Every notebook's
"This run" and "Check" cells are run with the parameters of each kind of run, and their floors compared with
the contract's numbers (nbtools.FLOOR, CONTRIBUTING.md).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from nbtools import FLOOR, NOTEBOOKS, ROOT, SMOKE_FLOOR, cells, model_of, source
from run_notebooks import execute, link_helpers

ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
REFUSED = "AssertionError: this model does not compute what the reference computes"


def nudge_logits(arrays, model):
    """One reference logit 2e-4 away: twice the tolerance, so a check looser than that lets it pass."""
    arrays["logits"] = arrays["logits"].copy()
    arrays["logits"][3, 7] += 2e-4


def nudge_loss(arrays, model):
    arrays["loss"] = arrays["loss"] + 2e-5


def layout_mistake(arrays, model):
    """FCN: the first kernel's rows in column-major pixel order; CNN: kernels stored (width, height, ...);
    RNN: the gates in another order (input, cell, forget, output: TensorFlow 1's LSTMCell)."""
    if model == "rnn":
        for name in ("kernel_1", "recurrent_kernel_1", "bias_1"):
            i, f, c, o = np.split(arrays[name], 4, axis=-1)
            arrays[name] = np.concatenate([i, c, f, o], axis=-1)
    elif model == "fcn":
        arrays["kernel_1"] = arrays["kernel_1"].reshape(28, 28, 512).transpose(1, 0, 2).reshape(784, 512).copy()
    else:
        arrays["kernel_1"] = arrays["kernel_1"].transpose(1, 0, 2, 3).copy()


def flatten_channels_first(arrays, model):
    """CNN: the first dense kernel's rows in NCHW order, as if the reference had flattened channel first."""
    if model == "rnn":  # the one bias in both of cuDNN's bias vectors: a second bias that is not zero
        arrays["bias_1"] = 2 * arrays["bias_1"]
    elif model == "cnn":
        arrays["kernel_3"] = arrays["kernel_3"].reshape(7, 7, 64, 1024).transpose(2, 0, 1, 3).reshape(3136, 1024).copy()
    else:  # FCN: the second layer's bias given to the first layer's units in reverse
        arrays["bias_1"] = arrays["bias_1"][::-1].copy() + np.linspace(-0.05, 0.05, 512, dtype=arrays["bias_1"].dtype)


MISTAKES = [nudge_logits, nudge_loss, layout_mistake, flatten_channels_first]

# Runs inside the kernel after the parity cell: the same cell again on each fixture of cases/, then with none. An
# error other than the cell's own prints its traceback.
RECHECK = """
import shutil
import traceback
outcomes = {}
fixture_file = fixture_path
for case in sorted(Path("../cases").glob("*.npz")) + [None]:
    fixture_file.unlink(missing_ok=True)
    if case is not None:
        shutil.copy(case, fixture_file)
    try:
        exec(PARITY_CELL, globals())
        outcomes[case.stem if case else "missing"] = "passed"
    except Exception as error:
        outcomes[case.stem if case else "missing"] = f"{type(error).__name__}: {error}"
        if not isinstance(error, (AssertionError, FileNotFoundError)):
            print(traceback.format_exc())
print("OUTCOMES", json.dumps(outcomes))
"""


def parity_index(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "Path(\"../data/parity-" in c.source)


@pytest.mark.runs_notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_the_parity_cell_passes_the_fixture_and_refuses_every_mistake(tmp_path, path):
    model = model_of(path)
    folder, data, cases = tmp_path / path.parent.name, tmp_path / "data", tmp_path / "cases"
    for made in (folder, data, cases):
        made.mkdir()
    link_helpers(path.parent, folder)
    for name in ("mnist_train.csv", "mnist_test.csv"):
        (data / name).symlink_to(ROOT / "data" / name)
    with np.load(ROOT / "data" / f"parity-{model}.npz") as stored:
        right = {key: stored[key] for key in stored.files}
    np.savez(data / f"parity-{model}.npz", **right)
    for mistake in MISTAKES:
        arrays = {key: value.copy() for key, value in right.items()}
        mistake(arrays, model)
        np.savez(cases / f"{mistake.__name__}.npz", **arrays)
    notebook = nbformat.read(path, as_version=4)
    last = parity_index(notebook)
    notebook.cells = notebook.cells[:last + 1] + [
        new_code_cell(f"PARITY_CELL = {notebook.cells[last].source!r}"), new_code_cell(RECHECK)]
    env = {**os.environ, "POLYDLOT_SMOKE": "1", "TMPDIR": str(tmp_path)}
    execute(notebook, folder, env)  # the right fixture: the parity cell itself must pass
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    before, _, found = printed.rpartition("OUTCOMES")  # before: the cell's lines and any traceback
    outcomes = json.loads(found)
    assert {name: outcomes[name] for name in [m.__name__ for m in MISTAKES]} == {
        m.__name__: REFUSED for m in MISTAKES}, f"{outcomes}\n{before}"
    assert outcomes["missing"].startswith("FileNotFoundError") and "Run `make data` in the repository root" in \
        outcomes["missing"], f"{outcomes}\n{before}"


def the_run(path: Path, monkeypatch, **parameters) -> dict:
    """The namespace of a run with `parameters` (as papermill would set them): the parameters cell, "This run",
    the run's plumbing at the top of "Save and reload" and the record's path."""
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    monkeypatch.chdir(path.parent)  # where every notebook runs
    monkeypatch.delenv("POLYDLOT_SMOKE", raising=False)
    namespace = {"os": os, "Path": Path, "tempfile": tempfile, "BACKEND": "tensorflow"}
    exec(code[1], namespace)
    namespace.update(parameters)
    exec(code[2], namespace)
    save = next(c for c in code if "reloaded" in c)
    exec(save.split("model_path =")[0], namespace)
    record = next(c for c in code if "record_path.write_text" in c)
    exec(next(line for line in record.splitlines() if line.startswith("record_path = ")), namespace)
    return namespace


def check(path: Path, namespace: dict, accuracy: float) -> dict:
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    checked = {**namespace, "test_accuracy": accuracy}
    exec(code[-1], checked)
    return checked


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_floors_are_the_contracts_and_the_check_holds_them(path, monkeypatch):
    model = model_of(path)
    for parameters, run, floor in [({}, "full run", FLOOR[model]), ({"SMOKE": True}, "smoke run", SMOKE_FLOOR[model]),
                                   ({"NUM_EPOCHS": 3}, "run with other parameters", None),
                                   ({"DATA_DIR": str(ROOT / "elsewhere")}, "run with other parameters", None),
                                   ({"DATA_DIR": str(ROOT / "data")}, "run with other parameters", None),
                                   ({"SMOKE": True, "SEED": 7}, "run with other parameters", None)]:
        namespace = the_run(path, monkeypatch, **parameters)
        checked = check(path, namespace, 1.0)
        assert (checked["run"], checked["floor"]) == (run, floor), f"{path.name} with {parameters}"
        models, results = namespace["models_dir"], namespace["record_path"].parent
        if run == "full run":
            assert (models.resolve(), results.resolve()) == (ROOT / "models", ROOT / "results")
        else:
            assert models == results == Path(tempfile.gettempdir(), "polydlot-results"), f"{path.name}: {run}"
        if floor is None:
            continue
        check(path, namespace, floor)
        with pytest.raises(AssertionError, match="below the"):
            check(path, namespace, floor - 0.0001)