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


def test_flop_counts_by_hand():
    # FCN: 784*512 + 512*256 + 256*10 multiply-adds; the first layer's input needs no gradient
    assert results_table.forward_flops("fcn") == 2 * (784 * 512 + 512 * 256 + 256 * 10) == 1_070_080
    assert results_table.training_flops("fcn") == 3 * 1_070_080 - 2 * 784 * 512
    # CNN: 5x5 convolutions over 28x28 (1 -> 32 channels) and 14x14 (32 -> 64), then 3136 -> 1024 -> 10
    conv1, conv2 = 2 * 28 * 28 * 25 * 1 * 32, 2 * 14 * 14 * 25 * 32 * 64
    dense = 2 * (3136 * 1024 + 1024 * 10)
    assert results_table.forward_flops("cnn") == conv1 + conv2 + dense == 27_767_808
    assert results_table.training_flops("cnn") == 2 * conv1 + 3 * conv2 + 3 * dense
    epoch = 54_000 * results_table.training_flops("cnn") + 6_000 * results_table.forward_flops("cnn")
    assert 4.5e12 < epoch < 4.7e12


def test_steady_seconds_leave_out_the_first_epoch():
    assert results_table.steady_seconds({"seconds_per_epoch": [9.0, 3.0, 5.0, 4.0]}) == 4.0
    assert results_table.steady_seconds({"seconds_per_epoch": [7.0]}) == 7.0


def test_gflops_and_share_of_peak():
    record = {"framework": "PyTorch", "framework_version": "x", "model": "fcn", "parameters": 535_818, "epochs": 3,
              "train_rows": 54_000, "seconds_per_epoch": [5.0, 2.0, 2.0], "total_train_seconds": 9.0,
              "val_accuracy": 0.98, "test_accuracy": 0.98, "device": "cpu"}
    row = dict(zip(results_table.HEADER, results_table.rows([record], peak={"gflops": 100.0})[0]))
    gflops = results_table.epoch_flops(record) / 2.0 / 1e9
    assert row["GFLOP/s"] == f"{gflops:.0f}" and row["% of peak"] == f"{gflops:.0f}%"


def record(framework, model="fcn", backend=None):
    r = {"framework": framework, "framework_version": "1", "model": model, "parameters": 1, "epochs": 2,
         "train_rows": 54_000, "seconds_per_epoch": [3.0, 2.0], "total_train_seconds": 5.0, "val_accuracy": 0.98,
         "test_accuracy": 0.98, "device": "cpu"}
    return r | ({"backend": backend, "backend_version": "2"} if backend else {})


def test_record_names_follow_results():
    assert results_table.record_name(record("PyTorch")) == "pytorch-fcn.json"
    assert results_table.record_name(record("Keras", "cnn", "tensorflow")) == "keras-cnn.json"
    assert results_table.record_name(record("Keras", "fcn", "jax")) == "keras-jax-fcn.json"


def test_mean_and_sample_sd_over_seeds():
    assert results_table.over_seeds([0.98, 0.982, 0.984]) == "0.9820 ± 0.0020 (3)"
    assert results_table.over_seeds([0.98]) == results_table.over_seeds(None) == ""


def test_the_seed_sentence_says_what_the_anova_says():
    records = [record("PyTorch"), record("MXNet"), record("Theano", "cnn")]
    same = {"pytorch-fcn.json": [0.980, 0.982, 0.984], "mxnet-fcn.json": [0.981, 0.983, 0.985]}
    apart = {"pytorch-fcn.json": [0.980, 0.981, 0.980], "mxnet-fcn.json": [0.990, 0.991, 0.990]}
    sentence = results_table.seed_test("fcn", records, same)
    assert "the 2 configurations (3 seeds each) do not differ by more than their seeds do" in sentence
    assert "F = 0.37, p = 0.57" in sentence  # means 0.982, 0.983: F = 1.5e-6 / (1.6e-5 / 4) = 0.375, printed 0.37
    assert "(3 seeds each) differ by more than their seeds do" in results_table.seed_test("fcn", records, apart)
    assert results_table.seed_test("cnn", records, same) == ""  # one configuration has no seeds, one is missing
    table = results_table.markdown_table(records[:2], seeds=same)
    assert table.endswith("\n\n" + sentence) and "| 0.9820 ± 0.0020 (3) |" in table
