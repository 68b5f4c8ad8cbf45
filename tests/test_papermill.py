"""Runs with other parameters, as papermill makes them, never write over the committed records or models
(contract 10, 11)."""
from __future__ import annotations

import json
import re
from pathlib import Path

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


def snapshot(root: Path = ROOT) -> dict[str, tuple[bytes, int]]:
    """Every file of results/ (records and seed records, which share names) and models/, by its path."""
    files = [p for folder in ("results", "models") for p in sorted((root / folder).rglob("*")) if p.is_file()]
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


def test_the_snapshot_sees_every_record_and_model(tmp_path):
    for name in ("results/pytorch-fcn.json", "results/seeds/pytorch-fcn.json", "models/pytorch-fcn.pt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"committed")
    before = snapshot(tmp_path)
    assert len(before) == 3
    for name in before:
        (tmp_path / name).write_bytes(b"overwritten")
        assert snapshot(tmp_path) != before, f"{name} overwritten, snapshot unchanged"
        (tmp_path / name).write_bytes(b"committed")


@pytest.mark.parametrize("parameters, run, epochs, rows", [
    ({"SMOKE": True}, "smoke run", 1, 6000),
    ({"NUM_EPOCHS": 1, "TRAIN_LIMIT": 3000}, "run with other parameters", 1, 3000),
])
def test_papermill_runs_write_their_record_elsewhere(tmp_path, monkeypatch, parameters, run, epochs, rows):
    monkeypatch.delenv("POLYDLOT_SMOKE", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folder, where the record goes
    before = snapshot()
    executed = papermill.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), parameters=parameters,
                                          cwd=str(NOTEBOOK.parent),  # README: papermill --cwd
                                          kernel_name="python3", progress_bar=False)
    assert snapshot() == before, "results/ or models/ changed"
    record = json.loads((tmp_path / "polydlot-results" / "pytorch-fcn.json").read_text(encoding="utf-8"))
    assert (tmp_path / "polydlot-results" / "pytorch-fcn.pt").is_file(), "the model is not beside its record"
    assert (record["epochs"], record["train_rows"], record["smoke"]) == (epochs, rows, run == "smoke run")
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert ("floor of a smoke run" in printed) == (run == "smoke run")
    assert ("not checked against a floor" in printed) == (run != "smoke run")
