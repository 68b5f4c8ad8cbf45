"""Runs with other parameters, as papermill makes them, never write over the committed records (contract 11)."""
from __future__ import annotations

import json
import re

import papermill
import pytest
from papermill.translators import PythonTranslator

from nbtools import NOTEBOOKS, ROOT, cells, source

NOTEBOOK = ROOT / "pytorch" / "01-mnist-fcn.ipynb"
PARAMETERS = ["SMOKE", "DATA_DIR", "NUM_EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "SEED", "TRAIN_LIMIT"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_papermill_sees_every_parameter(path):
    """A value papermill cannot parse, or one computed from another parameter, would not follow `-p`."""
    tagged = [source(c) for c in cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    found = {p.name: p.default for p in PythonTranslator.inspect({"source": tagged[0]})}
    assert list(found) == PARAMETERS
    for name, value in found.items():
        assert not any(re.search(rf"\b{other}\b", value) for other in PARAMETERS), f"{name} = {value} depends on another parameter"


def snapshot() -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((ROOT / "results").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where, parameters, run, epochs, rows", [
    ("root", {"SMOKE": True}, "smoke run", 1, 6000),
    ("pytorch", {"NUM_EPOCHS": 1, "TRAIN_LIMIT": 3000}, "run with other parameters", 1, 3000),
])
def test_papermill_runs_write_their_record_elsewhere(tmp_path, monkeypatch, where, parameters, run, epochs, rows):
    monkeypatch.delenv("POLYDLOT_SMOKE", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folder, where the record goes
    before = snapshot()
    executed = papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), parameters=parameters,
                                          cwd=str(ROOT if where == "root" else NOTEBOOK.parent),
                                          kernel_name="python3", progress_bar=False)
    assert snapshot() == before, "results/ changed"
    record = json.loads((tmp_path / "polydlot-results" / "pytorch-fcn.json").read_text())
    assert (record["epochs"], record["train_rows"], record["smoke"]) == (epochs, rows, run == "smoke run")
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert f"{run}: NUM_EPOCHS={epochs}" in printed
    assert ("floor of a smoke run" in printed) == (run == "smoke run")
    assert ("not checked against a floor" in printed) == (run != "smoke run")
