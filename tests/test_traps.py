"""traps.ipynb: the 2017 mistakes measured by this repository's code over every model's seeds, committed from a
full run; each training trap judged by Welch's t-test against its own model's seeds, each evaluation trap (the
same networks evaluated another way) by the paired t-test."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from scipy import stats

from nbtools import EPOCHS, FLOOR, NOTEBOOKS, ROOT, SMOKE_FLOOR, assert_clean_outputs, cells, loading_cell, output_text
from nbtools import source

sys.path.insert(0, str(ROOT / "tools"))
import seed_study  # noqa: E402

TRAPS = ROOT / "traps.ipynb"
RECORD = ROOT / "results" / "traps.json"
EXPECTED = [
    ("fcn", "dropout on at test time"), ("fcn", "accuracy on one-hot labels (MXNet 2017)"),
    ("fcn", "test accuracy from a sampling loop (TensorFlow 2017)"), ("fcn", "softmax applied twice"),
    ("fcn", "MSE on softmax outputs"), ("fcn", "standard-normal initialisation"),
    ("fcn", "pixels left unscaled (0-255)"), ("fcn", "no shuffling between epochs"),
    ("cnn", "dropout on at test time"),
    ("rnn", "dropout never switched off (PyTorch 2017)"), ("rnn", "keep probability read as a rate (TensorFlow 2017)"),
    ("rnn", "softmax fed as logits (TensorFlow 2017)"), ("rnn", "MSE on log-probabilities (PyTorch 2017)"),
    ("rnn", "a random initial state per batch (PyTorch 2017)"),
]
STUDY_SEEDS = {"fcn": seed_study.FCN_SEEDS, "cnn": seed_study.CNN_SEEDS, "rnn": seed_study.RNN_SEEDS}


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


EVALUATION = {"dropout on at test time", "accuracy on one-hot labels (MXNet 2017)",
              "test accuracy from a sampling loop (TensorFlow 2017)", "dropout never switched off (PyTorch 2017)"}


def welch(trap: dict, reference: list[float]) -> tuple[float, float, float]:
    """Difference of means and its standard error in points, and Welch's p, of a trap against `reference`."""
    values = trap["test accuracy"]
    error = np.sqrt(np.var(values, ddof=1) / len(values) + np.var(reference, ddof=1) / len(reference))
    p = stats.ttest_ind(values, reference, equal_var=False).pvalue
    return 100 * (np.mean(values) - np.mean(reference)), 100 * error, p


def paired(trap: dict, reference: list[float]) -> tuple[float, float, float]:
    """Mean difference and its standard error in points, and the paired t-test's p, seed by seed."""
    differences = np.subtract(trap["test accuracy"], reference)
    error = np.std(differences, ddof=1) / np.sqrt(len(differences))
    return 100 * np.mean(differences), 100 * error, stats.ttest_rel(trap["test accuracy"], reference).pvalue


def judged(trap: dict, reference: list[float]) -> tuple[float, float, float]:
    return (paired if trap["trap"] in EVALUATION else welch)(trap, reference)


def test_traps_reads_the_csvs_with_the_same_cell():
    assert loading_cell(TRAPS) == loading_cell(NOTEBOOKS[0])


def test_committed_outputs_are_clean():
    assert_clean_outputs(TRAPS)


def test_the_notebook_runs_each_model_under_the_seeds_of_its_seed_study():
    code = "\n".join(source(c) for c in cells(TRAPS) if c["cell_type"] == "code")
    assert f'SEEDS = {{"fcn": {STUDY_SEEDS["fcn"]}, "cnn": {STUDY_SEEDS["cnn"]}, "rnn": {STUDY_SEEDS["rnn"]}}}' \
        in code.replace("[SEED,", f"[{seed_study.CONTRACT_SEED},")


def test_the_notebook_checks_the_projects_floors():
    code = "\n".join(source(c) for c in cells(TRAPS) if c["cell_type"] == "code")
    code = code.replace("\n          ", " ")
    assert f'"full run": {json.dumps(FLOOR)}' in code and f'"smoke run": {json.dumps(SMOKE_FLOOR)}' in code


def test_the_record_is_a_full_run_with_every_trap_under_every_seed(record):
    assert record["smoke"] is False and record["train_rows"] == 54000
    assert record["epochs"] == EPOCHS and record["seeds"] == STUDY_SEEDS
    assert [(t["model"], t["trap"]) for t in record["traps"]] == EXPECTED
    for model, accuracies in record["contract"].items():
        assert len(accuracies) == len(STUDY_SEEDS[model])
        assert min(accuracies) >= FLOOR[model]
    for trap in record["traps"]:
        assert len(trap["test accuracy"]) == len(STUDY_SEEDS[trap["model"]]), trap["trap"]


def test_each_trap_is_judged_by_its_test_against_its_own_models_seeds(record):
    for trap in record["traps"]:
        difference, error, p = judged(trap, record["contract"][trap["model"]])
        assert trap["test"] == ("paired" if trap["trap"] in EVALUATION else "Welch"), trap
        assert trap["difference (points)"] == round(difference, 2) + 0.0, trap
        assert trap["standard error (points)"] == round(error, 2), trap
        assert trap["p"] == pytest.approx(p, rel=1e-9) and trap["beyond the seed spread"] == (p < 0.05), trap


def test_the_evaluation_traps_are_the_ones_the_notebook_applies_to_the_contracts_network():
    code = "\n".join(source(c) for c in cells(TRAPS) if c["cell_type"] == "code")
    assert 'run_traps("cnn", {}, {"dropout on at test time": dropout_on})' in code
    assert '}, {"dropout never switched off (PyTorch 2017)": dropout_on})' in code
    for name in EVALUATION - {"dropout never switched off (PyTorch 2017)"}:
        assert f'    "{name}": ' in code.split('run_traps("fcn"')[1].split("}, {")[1]


def test_the_convolutional_trap_is_compared_with_convolutional_seeds(record):
    """The convolutional trap against the convolutional network's own runs, not the fully connected one's."""
    trap = next(t for t in record["traps"] if t["model"] == "cnn")
    assert len(trap["test accuracy"]) == len(record["contract"]["cnn"]) == len(STUDY_SEEDS["cnn"])
    assert trap["p"] == pytest.approx(paired(trap, record["contract"]["cnn"])[2], rel=1e-9)
    assert trap["p"] != pytest.approx(welch(trap, record["contract"]["cnn"])[2], rel=1e-3)  # paired, not Welch's


def test_the_notebook_shows_the_record_and_no_negative_zero(record):
    shown = "".join(output_text(o) + "".join(o.get("data", {}).get("text/markdown", ""))
                    for c in cells(TRAPS) if c["cell_type"] == "code" for o in c.get("outputs", []))
    for trap in record["traps"]:
        assert f"| {trap['trap']} | {np.mean(trap['test accuracy']):.4f} ± " in shown, trap["trap"]
        assert f"| {trap['difference (points)']:+.2f} ± {trap['standard error (points)']:.2f} | {trap['test']} |" in shown
    assert "-0.00" not in shown
