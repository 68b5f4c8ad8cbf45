"""tools/seed_study.py: a notebook re-run under another seed, its record kept out of the repository."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import seed_study


def fake_notebook(folder):
    """A notebook that records SEED / 100 as its test accuracy, then asserts a bar of 0.5."""
    parameters = new_code_cell("SEED = 42")
    parameters.metadata["tags"] = ["parameters"]
    record = new_code_cell(
        "import json, os, tempfile\n"
        "from pathlib import Path\n"
        "full = SEED == 42 and os.environ.get('POLYDLOT_SMOKE') != '1'\n"
        "results = Path('../results') if full else Path(tempfile.gettempdir(), 'polydlot-results')\n"
        "results.mkdir(exist_ok=True)\n"
        "(results / 'fake-fcn.json').write_text(json.dumps({'test_accuracy': SEED / 100}))")
    notebook = new_notebook(cells=[new_code_cell("import os"), parameters, record,
                                   new_code_cell("assert SEED / 100 >= 0.5, 'below the bar'")])
    path = folder / "fake" / "01-mnist-fcn.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    return path


def test_the_seed_is_set_after_the_parameters_cell(tmp_path):
    notebook = seed_study.with_seed(nbformat.read(fake_notebook(tmp_path), as_version=4), 7)
    assert [c.source for c in notebook.cells[1:3]] == ["SEED = 42", "SEED = 7"]


def test_a_notebook_without_a_parameters_cell_is_refused():
    with pytest.raises(ValueError, match="tagged 'parameters'"):
        seed_study.with_seed(new_notebook(cells=[new_code_cell("SEED = 42")]), 7)


@pytest.mark.parametrize("smoke", ["0", "1"])
def test_runs_report_the_recorded_accuracy_and_leave_the_repository_alone(tmp_path, monkeypatch, smoke):
    monkeypatch.setenv("POLYDLOT_SMOKE", smoke)
    path = fake_notebook(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert seed_study.run(path, 73) == (0.73, True)
    assert seed_study.run(path, 21) == (0.21, False)  # below the bar: the notebook fails, the record is read
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
