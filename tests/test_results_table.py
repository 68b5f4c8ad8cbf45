"""tools/results_table.py and the README's table, which must agree with results/*.json."""
import json

import pytest

import results_table
from nbtools import NOTEBOOKS, ROOT


def test_readme_table_agrees_with_the_records():
    assert results_table.main(["--check"]) == 0


def test_every_notebook_has_a_row():
    shown = {(r["framework"].lower(), r["model"]) for r in results_table.load_records()}
    missing = [str(p.relative_to(ROOT)) for p in NOTEBOOKS
               if (p.parent.name, "fcn" if "fcn" in p.name else "cnn") not in shown]
    assert not missing, f"no full-run record for {missing}"


def test_table_is_replaced_between_the_markers_only():
    readme = f"intro\n{results_table.START}\nold\n{results_table.END}\noutro\n"
    assert results_table.with_table(readme, "| new |") == f"intro\n{results_table.START}\n| new |\n{results_table.END}\noutro\n"
    with pytest.raises(ValueError, match="exactly one"):
        results_table.with_table("no markers", "| new |")


def test_lines_of_code_counts_non_blank_code_lines(tmp_path):
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "# title\ntext"},
        {"cell_type": "code", "source": ["import os\n", "\n", "print(1)\n"]},
        {"cell_type": "code", "source": "x = 1"}]}))
    assert results_table.lines_of_code(notebook) == 3
