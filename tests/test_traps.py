"""traps.ipynb: the 2017 mistakes measured by this repository's code, committed from a full run."""
from __future__ import annotations

import json

from nbtools import NOTEBOOKS, ROOT, assert_clean_outputs, cells, loading_cell, output_text

TRAPS = ROOT / "traps.ipynb"
RECORD = ROOT / "results" / "traps.json"
EXPECTED = ["softmax applied twice", "MSE on softmax outputs", "standard-normal initialisation",
            "pixels left unscaled (0-255)", "no shuffling between epochs", "dropout on at test time",
            "accuracy on one-hot labels (MXNet 2017)", "test accuracy from a sampling loop (TensorFlow 2017)",
            "dropout on at test time, convolutional"]


def test_traps_reads_the_csvs_with_the_same_cell():
    assert loading_cell(TRAPS) == loading_cell(NOTEBOOKS[0])


def test_committed_outputs_are_clean():
    assert_clean_outputs(TRAPS)


def test_the_record_is_a_full_run_with_every_trap():
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert record["smoke"] is False and record["train_rows"] == 54000
    assert record["epochs"] == {"fcn": 10, "cnn": 5} and record["seed"] == 42
    assert [t["trap"] for t in record["traps"]] == EXPECTED


def test_each_difference_is_computed_from_the_measured_accuracies():
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    for trap in record["traps"]:
        reference = record["contract"]["cnn" if trap["trap"].endswith("convolutional") else "fcn"]
        assert abs(trap["difference (points)"] - 100 * (trap["test accuracy"] - reference)) <= 0.0151, trap
        assert trap["beyond the seed spread"] == (abs(trap["difference (points)"]) > 100 * record["seed_spread"])


def test_the_notebook_shows_the_record():
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    shown = "".join(output_text(o) + "".join(o.get("data", {}).get("text/markdown", ""))
                    for c in cells(TRAPS) if c["cell_type"] == "code" for o in c.get("outputs", []))
    for trap in record["traps"]:
        assert f"| {trap['trap']} | {trap['test accuracy']:.4f} | {trap['difference (points)']:+.2f} |" in shown


def test_the_contract_run_repeats_the_pytorch_notebook():
    """With no trap switched on, traps.ipynb trains exactly as pytorch/01-mnist-fcn.ipynb does."""
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    pytorch = json.loads((ROOT / "results" / "pytorch-fcn.json").read_text(encoding="utf-8"))
    assert record["contract"]["fcn"] == pytorch["test_accuracy"]


def test_the_seed_spread_is_that_of_make_seeds():
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    runs = json.loads((ROOT / "results" / "seeds" / "pytorch-fcn.json").read_text(encoding="utf-8"))["runs"]
    accuracies = [run["test_accuracy"] for run in runs]
    assert record["seed_spread"] == round(max(accuracies) - min(accuracies), 4)
