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


def test_gflops_and_share_of_peak():
    record = {"framework": "PyTorch", "framework_version": "x", "model": "fcn", "parameters": 535_818, "epochs": 3,
              "train_rows": 54_000, "seconds_per_epoch": [5.0, 2.0, 2.0], "total_train_seconds": 9.0,
              "val_accuracy": 0.98, "test_accuracy": 0.98, "device": "cpu"}
    row = dict(zip(results_table.SPEED, results_table.speed_rows([record], {"gflops": 80.0}, {})[0]))
    # by hand: 54,000 training rows of 2,407,424 FLOPs and 6,000 validation rows of 1,070,080 in the steady 2.0 s
    assert (54_000 * 2_407_424 + 6_000 * 1_070_080) / 2.0 / 1e9 == pytest.approx(68.21, abs=0.01)
    assert row["GFLOP/s (% of peak)"] == "68 (85%)"  # 68.21 / 80 = 85.3%
    runs = {"pytorch-fcn.json": [{"seed": 42, "cpu": "CPU A", "seconds_per_epoch": [5.0, 2.0, 2.0]}]}
    shares = [dict(zip(results_table.SPEED, results_table.speed_rows([record], {"gflops": 80.0, "cpu": cpu}, runs)[0]))
              ["GFLOP/s (% of peak)"] for cpu in ("CPU A", "CPU B")]
    assert shares == ["68 (85%)", "68"]  # a peak measured on another CPU is no peak for this run


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


def test_speed_is_the_median_of_every_seeds_later_epochs():
    """Recomputed by hand from results/seeds/ for the configuration with the most seeds run on seed 42's CPU:
    epochs 2 to n of each of those seeds, pooled."""
    def on_seed_42s_cpu(path):
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
        return [run for run in runs if run.get("cpu") == runs[0].get("cpu")]  # runs[0]: seed 42
    path = max(sorted((ROOT / "results" / "seeds").glob("*.json")), key=lambda p: len(on_seed_42s_cpu(p)))
    runs = on_seed_42s_cpu(path)
    assert runs[0]["seed"] == 42 and len(runs) >= 2
    later = sorted(s for run in runs for s in run["seconds_per_epoch"][1:])
    median = (later[len(later) // 2] + later[(len(later) - 1) // 2]) / 2
    record = next(r for r in results_table.load_records() if results_table.record_name(r) == path.name)
    speed = results_table.speed(record, results_table.load_seed_runs())
    assert speed["steady"] == pytest.approx(median) and (speed["low"], speed["high"]) == (later[0], later[-1])
    assert speed["seeds"] == len(runs)


def test_speed_leaves_out_the_seeds_run_on_another_cpu_than_seed_42():
    """Two machines' epochs are not one distribution: speed takes the runs on seed 42's CPU (noted or not)."""
    runs = [{"seed": 42, "seconds_per_epoch": [9.0, 2.0, 2.0]},
            {"seed": 1, "seconds_per_epoch": [9.0, 3.0, 3.0]},
            {"seed": 2, "seconds_per_epoch": [20.0, 8.0, 8.0], "cpu": "Another CPU"}]
    fast = record("PyTorch")
    assert results_table.speed(fast, {"pytorch-fcn.json": runs})["steady"] == 2.5
    assert results_table.speed(fast, {"pytorch-fcn.json": runs})["seeds"] == 2
    noted = [run | {"cpu": "Another CPU"} for run in runs[:1]] + runs[1:]
    assert results_table.speed(fast, {"pytorch-fcn.json": noted}) | {"first": 0} == {
        "first": 0, "steady": 5.0, "low": 2.0, "high": 8.0, "seeds": 2}


def test_a_configuration_without_seeds_uses_its_own_epochs_and_ratios_are_to_the_fastest():
    fast, slow = record("PyTorch"), record("MXNet") | {"seconds_per_epoch": [9.0, 6.0, 4.0, 8.0]}
    assert results_table.speed(slow, {}) == {"first": 9.0, "steady": 6.0, "low": 4.0, "high": 8.0, "seeds": 1}
    rows = results_table.speed_rows([fast, slow], None, {})
    assert [row[3] for row in rows] == ["1.0", "3.0"] and rows[1][2] == "6.0 (4.0–8.0)" and "%" not in rows[1][4]
    sentence = results_table.speed_sentence("fcn", [slow, fast], {})
    assert sentence.endswith("PyTorch is the fastest, 2.0 s; then MXNet 3.0×.")


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
    table = results_table.markdown_table(records, seeds={"pytorch-fcn.json": [0.98, 0.99, 0.97]}, peak=None,
                                         seed_runs={})
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    cells = [cell.strip() for row in rows for cell in row.strip("|").split("|")]
    assert len(rows) == 2 and all(cells) and len(cells) == 2 * len(results_table.README_COLUMNS)
    assert "0.9800 ± 0.0100 (3)" in rows[0] and f"{records[1]['test_accuracy']:.4f} (1)" in rows[1]
