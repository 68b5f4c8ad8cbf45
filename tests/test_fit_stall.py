"""tools/fit_stall.py: Keras's `fit` timed batch by batch against a `train_on_batch` loop."""
from pathlib import Path

import nbformat
import pytest

import fit_stall

ROOT = Path(__file__).resolve().parent.parent


def test_an_epoch_is_told_by_its_first_batch_and_the_median_of_the_rest():
    epoch = fit_stall.describe([2.2, 0.02, 0.03, 0.021], seconds=2.4, cpu_seconds=2.4)
    assert epoch == {"seconds": 2.4, "first_batch": 2.2, "other_batches_median": 0.021, "busy_cores": 1.0}
    with pytest.raises(ValueError, match="two batches"):
        fit_stall.describe([0.02], seconds=0.02, cpu_seconds=0.02)


@pytest.mark.parametrize("notebook", sorted((ROOT / "keras").glob("0*.ipynb")), ids=lambda p: p.name)
def test_the_notebooks_own_fit_gets_the_timer(notebook):
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    training = next(source for source in cells if "net.fit(" in source)
    code = fit_stall.fit_call(training)
    assert "callbacks=[BatchTimes(), EpochLine()]" in code and code.count("net.fit(") == 1
    for source in (code, fit_stall.TIMER, fit_stall.LOOP):
        compile(source, notebook.name, "exec")


def test_a_fit_without_one_list_of_callbacks_is_refused():
    with pytest.raises(ValueError, match="one list of callbacks"):
        fit_stall.fit_call("net.fit(x_train, y_train)")
