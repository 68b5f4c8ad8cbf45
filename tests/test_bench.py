"""tools/bench.py (`make bench`) and its results/bench.json: the race's arithmetic, the committed race, and the
README's speed columns against it."""
from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

import bench
import results_table
from nbtools import ROOT

RECORD = ROOT / "results" / "bench.json"
REPEAT = ROOT / "results" / "bench-repeat.json"  # a second race on the same machine: do the rankings agree?


def turns(*per_round: float) -> list[dict]:
    return [{"seconds_per_1000_rows": seconds, "epoch_seconds": [1.0, seconds, seconds], "steal": 0.0}
            for seconds in per_round]


def test_ratios_are_taken_within_each_round_then_the_median():
    """Drift that slows a whole round cancels: the ratio of each round, not of the overall medians."""
    race = {"fast": turns(1.0, 2.0, 1.0, 2.0, 1.0), "slow": turns(1.5, 3.0, 1.5, 3.0, 1.5)}
    summary = bench.summary(race)
    assert summary["fastest"] == "fast"
    assert summary["configurations"]["slow"]["ratio"] == 1.5
    assert summary["configurations"]["slow"]["interval"] == [1.5, 1.5]  # every round says 1.5
    assert summary["configurations"]["fast"] == {"seconds_per_1000_rows": 1.0, "ratio": 1.0, "interval": [1.0, 1.0]}


def test_the_interval_is_a_bootstrap_of_the_rounds_median():
    values = [1.1, 1.3, 1.2, 1.6, 1.25]
    low, high = bench.bootstrap_median(values)
    assert min(values) <= low <= statistics.median(values) <= high <= max(values)
    assert (low, high) == bench.bootstrap_median(values)  # a fixed seed: the same interval every time
    rng = np.random.default_rng(0)
    many = list(rng.normal(1.3, 0.1, 40))
    assert np.subtract(*bench.bootstrap_median(many)[::-1]) < high - low  # more rounds, a narrower interval


def test_the_wrappers_are_keras_over_its_backends_own_notebook():
    race = {"Keras on PyTorch": turns(3.0, 2.4), "PyTorch": turns(2.0, 2.0), "TensorFlow": turns(1.0, 1.0)}
    wrappers = bench.summary(race)["wrappers"]
    assert list(wrappers) == ["Keras on PyTorch over PyTorch"]  # no Keras on TensorFlow or JAX in this race
    assert wrappers["Keras on PyTorch over PyTorch"]["ratio"] == pytest.approx(1.35)  # the median of 1.5 and 1.2


def test_stolen_time_is_read_from_proc_stat(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 1 2 3\n")
    monkeypatch.setattr(bench, "Path", lambda _: stat)
    assert bench.stolen() == (35, 1000)


def test_the_training_data_is_the_first_rows_of_the_training_csv(tmp_path):
    folder = bench.training_data("cnn", tmp_path / "cnn")
    rows = (folder / "mnist_train.csv").read_text(encoding="ascii").splitlines()
    with open(ROOT / "data" / "mnist_train.csv", encoding="ascii") as source:
        first = [next(source).rstrip("\n") for _ in range(bench.ROWS["cnn"])]
    assert rows == first and (folder / "mnist_test.csv").resolve() == (ROOT / "data" / "mnist_test.csv").resolve()


def test_rankings_of_two_races_agree_where_their_intervals_do_not_overlap():
    def race(ratios):
        return {"models": {"fcn": {"configurations": {label: {"ratio": r, "interval": [r - 0.05, r + 0.05]}
                                                      for label, r in ratios.items()}}}}
    first = race({"A": 1.0, "B": 1.5, "C": 1.52})
    assert bench.disagreements(first, race({"A": 1.0, "B": 1.53, "C": 1.5})) == []  # B and C overlap
    assert bench.disagreements(first, race({"A": 1.6, "B": 1.5, "C": 1.52})) == [("fcn", "A", "B"), ("fcn", "A", "C")]


def load(path) -> dict:
    assert path.is_file(), (f"results/{path.name} is missing: `make bench` writes results/bench.json, and a second "
                            "`python tools/bench.py --output results/bench-repeat.json` on the same machine the repeat")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def record() -> dict:
    return load(RECORD)


@pytest.fixture(scope="module", params=[RECORD, REPEAT], ids=lambda path: path.name)
def race(request) -> dict:
    return load(request.param)


def test_the_committed_race_has_every_configuration_of_every_model(race):
    labels = [label for label, _, _ in bench.CONFIGURATIONS]
    assert race["cpu"] and race["cores"] >= 1 and race["peak"]["gflops"] > 0
    for model in ("fcn", "cnn", "rnn"):
        part = race["models"][model]
        assert list(part["turns"]) == labels and list(part["libraries"]) == labels
        assert all(part["libraries"].values()), f"{model}: a configuration without its math library"
        assert part["rounds"] >= 5 and part["rows"] == bench.ROWS[model]
        for label, runs in part["turns"].items():
            assert len(runs) == part["rounds"] and all(len(t["epoch_seconds"]) == bench.EPOCHS for t in runs), label
            # both are kept rounded: the epochs to 1 ms, the seconds per 1,000 rows to 0.1 ms
            rounding = 0.0005 / (part["train_rows"] / 1000) + 0.00005
            for turn in runs:  # a turn's seconds per 1,000 rows: its epochs but the first
                per_1000 = statistics.median(turn["epoch_seconds"][1:]) / (part["train_rows"] / 1000)
                assert turn["seconds_per_1000_rows"] == pytest.approx(per_1000, abs=rounding * 1.001), label


def test_the_committed_ratios_and_wrappers_follow_from_its_turns(race):
    """Within-framework fairness: Keras on X over X for every backend, recomputed from the committed turns."""
    for model, part in race["models"].items():
        recomputed = bench.summary(part["turns"])
        assert recomputed["fastest"] == part["fastest"]
        assert recomputed["configurations"] == part["configurations"], model
        assert set(part["wrappers"]) == {f"{w} over {f}" for w, f in bench.WRAPPERS.items()}
        assert recomputed["wrappers"] == part["wrappers"], model


def test_a_second_race_on_the_same_machine_ranks_alike(record):
    """Where either race's intervals of two configurations lie apart, both races put them in the same order."""
    repeat = load(REPEAT)
    assert (repeat["cpu"], repeat["cores"]) == (record["cpu"], record["cores"]), "the repeat ran on another CPU"
    assert {m: (p["rows"], p["epochs_per_turn"]) for m, p in repeat["models"].items()} == \
        {m: (p["rows"], p["epochs_per_turn"]) for m, p in record["models"].items()}
    assert bench.disagreements(record, repeat) == []


def test_the_readme_speed_columns_come_from_the_race(record):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for model, part in record["models"].items():
        section = readme.split(f"**{results_table.MODELS[model].capitalize()} network**")[1].split("\n\n")[1]
        rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in section.splitlines()[2:]}
        for label, entry in part["configurations"].items():
            assert rows[label][2] == f"{entry['seconds_per_1000_rows']:.3f}", (model, label)
            low, high = entry["interval"]
            assert rows[label][3] == f"{entry['ratio']:.2f} ({low:.2f}–{high:.2f})", (model, label)
        for name, entry in part["wrappers"].items():
            backend = name.split(" over ")[0].removeprefix("Keras on ")
            low, high = entry["interval"]
            assert f"{backend} {entry['ratio']:.2f}× ({low:.2f}–{high:.2f})" in readme, (model, name)
