"""tools/repeat_checks.py: notebooks' checks run again and again in fresh kernels, failures counted."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import repeat_checks


def write(path, *sources):
    nbformat.write(new_notebook(cells=[new_markdown_cell("# title")] + [new_code_cell(s) for s in sources]), path)
    return path


def test_the_notebook_stops_after_its_step_cell(tmp_path):
    path = write(tmp_path / "n.ipynb", "x = 1", "EPSILON_FORM = 'paper'", "training()")
    assert [c.source for c in repeat_checks.up_to_the_checks(path).cells][1:] == ["x = 1", "EPSILON_FORM = 'paper'"]
    with pytest.raises(ValueError, match="no code cell uses EPSILON_FORM"):
        repeat_checks.up_to_the_checks(write(tmp_path / "m.ipynb", "x = 1"))


def test_every_run_is_a_fresh_kernel_and_failures_are_counted(tmp_path, capsys):
    # a file counts the runs; the kernel fails every run in which a variable is already defined (not fresh)
    # or the count is even
    counter = tmp_path / "count"
    path = write(tmp_path / "n.ipynb", f"""from pathlib import Path
assert "seen" not in globals()
seen = True
count = len(Path({str(counter)!r}).read_text()) if Path({str(counter)!r}).exists() else 0
Path({str(counter)!r}).write_text("x" * (count + 1))
assert count % 2 == 0, "an odd run"
EPSILON_FORM = 'paper'""", "raise SystemExit('the training cell must not run')")
    assert repeat_checks.main(["3", str(path)]) == 1
    assert counter.read_text() == "xxx"
    assert "3 runs in fresh kernels, 1 failed" in capsys.readouterr().out
    assert repeat_checks.main(["0", str(path)]) == 2
