"""tools/results_table.py and the README's table, which must agree with results/*.json."""
import json
import re

import pytest
from scipy import stats

import results_table
from nbtools import NOTEBOOKS, ROOT, model_of


def test_readme_table_agrees_with_the_records():
    assert results_table.main(["--check"]) == 0


def test_every_notebook_has_a_row():
    shown = {(r["framework"].lower(), r["model"]) for r in results_table.load_records()}
    missing = [str(p.relative_to(ROOT)) for p in NOTEBOOKS
               if (p.parent.name, model_of(p)) not in shown]
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
        {"cell_type": "code", "source": "x = 1"}]}), encoding="utf-8")
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
    # the LSTM, by hand: 28 steps of (28 + 128) x 512 multiply-adds, then 128 x 10
    projections, recurrent, dense = 28 * 2 * 28 * 512, 28 * 2 * 128 * 512, 2 * 128 * 10
    assert results_table.forward_flops("rnn") == projections + recurrent + dense == 4_475_392
    assert results_table.training_flops("rnn") == 2 * projections + 3 * recurrent + 3 * dense == 12_623_360
    epoch = 54_000 * results_table.training_flops("cnn") + 6_000 * results_table.forward_flops("cnn")
    assert 4.5e12 < epoch < 4.7e12


def test_steady_seconds_leave_out_the_first_epoch():
    assert results_table.steady_seconds({"seconds_per_epoch": [9.0, 3.0, 5.0, 4.0]}) == 4.0
    assert results_table.steady_seconds({"seconds_per_epoch": [7.0]}) == 7.0


def bench_of(model="fcn", **entries):
    """A bench with one model's configurations: label -> (seconds per 1,000 rows, ratio, interval)."""
    configurations = {label: {"seconds_per_1000_rows": seconds, "ratio": ratio, "interval": list(interval)}
                      for label, (seconds, ratio, interval) in entries.items()}
    return {"cpu": "CPU A", "cores": 2, "date": "2026-12-05", "minutes": 40.0,
            "peak": {"gflops": 80.0, "library": "numpy"},
            "models": {model: {"rounds": 5, "configurations": configurations, "libraries": {}}}}


def test_gflops_and_share_of_peak():
    record = {"framework": "PyTorch", "framework_version": "x", "model": "fcn", "parameters": 535_818, "epochs": 3,
              "train_rows": 54_000, "seconds_per_epoch": [5.0, 2.0, 2.0], "total_train_seconds": 9.0,
              "val_accuracy": 0.98, "test_accuracy": 0.98, "device": "cpu"}
    bench = bench_of(PyTorch=(0.05, 1.0, (1.0, 1.0)))
    row = dict(zip(results_table.SPEED, results_table.speed_rows([record], bench)[0]))
    # by hand: 1,000 training rows of 2,407,424 FLOPs and the 1,000 / 9 validation rows of 1,070,080 in 0.05 s
    assert (1000 * 2_407_424 + 1000 / 9 * 1_070_080) / 0.05 / 1e9 == pytest.approx(50.53, abs=0.01)
    assert row["GFLOP/s (% of peak)"] == "51 (63%)"  # 50.53 / 80 = 63.2%
    assert row["bench: s / 1,000 rows"] == "0.050" and row["× fastest (95% interval)"] == "1.00 (1.00–1.00)"
    assert (row["notebook: first epoch, s"], row["notebook: s / epoch"]) == ("5.0", "2.0")  # the notebook's own
    on_gpu = dict(zip(results_table.SPEED, results_table.speed_rows([record | {"device": "cuda:0"}], bench)[0]))
    assert on_gpu["GFLOP/s (% of peak)"] == "51"  # the CPU's peak is no peak for a GPU


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
    # means 0.982 and 0.983: F = (3 * 2 * 0.0005²) / ((8e-6 + 8e-6) / 4) = 1.5e-6 / 4e-6 = 0.375, a tie at two
    # digits that one CPU prints 0.37 and another 0.38; the sentence keeps two significant digits of p and F
    found = re.search(r"F = (\S+), p = (\S+)\.$", sentence)
    assert found and float(found.group(1)) == pytest.approx(0.375, abs=0.006)
    assert float(found.group(2)) == pytest.approx(stats.f.sf(0.375, 1, 4), abs=0.006)  # 0.57
    assert "(3 seeds each) differ by more than their seeds do" in results_table.seed_test("fcn", records, apart)
    assert results_table.seed_test("cnn", records, same) == ""  # one configuration has no seeds, one is missing
    table = results_table.markdown_table(records[:2], seeds=same)
    assert sentence in table and "| 0.9820 ± 0.0020 (3) |" in table


def test_lines_of_code_leave_out_the_cells_all_frameworks_share(tmp_path):
    def notebook(name, *sources):
        path = tmp_path / name
        path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": text} for text in sources]}),
                        encoding="utf-8")
        return path
    mine = notebook("a.ipynb", "import a\nx = 1", "shared()\nshared()", "mine()")
    others = [notebook("b.ipynb", "import b", "shared()\nshared()", "theirs()"),
              notebook("c.ipynb", "import c", "shared()\nshared()", "mine()")]
    assert results_table.lines_of_code(mine, others) == 3  # the second cell is everyone's; the third is not b's


def test_speed_comes_from_the_bench_and_is_blank_without_it():
    fast, slow = record("PyTorch"), record("MXNet") | {"seconds_per_epoch": [9.0, 6.0, 4.0, 8.0]}
    bench = bench_of(PyTorch=(0.04, 1.0, (1.0, 1.0)), MXNet=(0.12, 3.0, (2.5, 3.5)))
    rows = results_table.speed_rows([fast, slow], bench)
    assert [row[3:5] for row in rows] == [["0.040", "1.00 (1.00–1.00)"], ["0.120", "3.00 (2.50–3.50)"]]
    assert rows[1][1:3] == ["9.0", "6.0"]  # the notebook's first epoch and the median of its later ones
    sentence = results_table.speed_sentence("fcn", bench)
    assert "PyTorch is the fastest, 0.040 s; then MXNet 3.00× (2.50–3.50)." in sentence
    assert "5 rounds" in sentence and results_table.speed_sentence("cnn", bench) == ""
    assert [row[3:6] for row in results_table.speed_rows([fast, slow], None)] == [["–", "–", "–"]] * 2
    assert results_table.speed_sentence("fcn", None) == ""
    assert "CPU A (2 cores)" in results_table.bench_sentence(bench) and "Peak: 80 GFLOP/s" in results_table.bench_sentence(bench)


def test_the_wrappers_cost_is_its_own_sentence():
    bench = bench_of(PyTorch=(0.04, 1.0, (1.0, 1.0)), **{"Keras on PyTorch": (0.06, 1.5, (1.4, 1.6))})
    bench["models"]["fcn"]["wrappers"] = {"Keras on PyTorch over PyTorch": {"ratio": 1.5, "interval": [1.4, 1.6]}}
    assert results_table.speed_sentence("fcn", bench).endswith("Keras on X over X, the wrapper's cost: PyTorch 1.50× "
                                                               "(1.40–1.60).")


def test_no_cell_of_the_readme_tables_is_blank():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index(results_table.START):readme.index(results_table.END)]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows and all(cell.strip() for row in rows for cell in row.strip("|").split("|"))


def test_the_versions_sentence_names_each_framework_once_and_keras_with_its_backends():
    def keras(backend, version):
        return {"framework": "Keras", "framework_version": "3", "backend": backend, "backend_version": version}
    plain = {"framework": "PyTorch", "framework_version": "2"}
    assert results_table.versions([plain, plain]) == "Versions: PyTorch 2."
    assert results_table.versions([keras("jax", "0.7"), plain]) == "Versions: Keras 3 on JAX 0.7; PyTorch 2."
    three = [keras("tensorflow", "2.2"), keras("jax", "0.7"), keras("torch", "2.1"), keras("jax", "0.7")]
    assert results_table.versions(three) == "Versions: Keras 3 on TensorFlow 2.2, JAX 0.7 and PyTorch 2.1."


def test_the_readme_table_has_one_row_per_configuration_and_no_blank_cell():
    records = [record("PyTorch"), record("MXNet")]
    bench = bench_of(PyTorch=(0.04, 1.0, (1.0, 1.0)), MXNet=(0.12, 3.0, (2.5, 3.5)))
    table = results_table.markdown_table(records, seeds={"pytorch-fcn.json": [0.98, 0.99, 0.97]}, bench=bench)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = [cell.strip() for row in rows for cell in row.strip("|").split("|")]
    assert len(rows) == 2 and all(cells) and len(cells) == 2 * len(results_table.README_COLUMNS)
    assert "0.9800 ± 0.0100 (3)" in rows[0] and f"{records[1]['test_accuracy']:.4f} (1)" in rows[1]
