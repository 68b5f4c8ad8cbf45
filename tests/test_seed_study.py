"""tools/seed_study.py: a notebook re-run under another seed, its record kept out of the repository."""
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import seed_study


def fake_notebook(folder):
    """A notebook that records SEED / 100 as its test accuracy, then asserts a bar of 0.5."""
    parameters = new_code_cell("SEED = 42")
    parameters.metadata["tags"] = ["parameters"]
    record = new_code_cell(  # like a notebook: a full run writes beside the notebook, any run writes a model
        "import json, os, tempfile\n"
        "from pathlib import Path\n"
        "full = SEED == 42 and os.environ.get('POLYDLOT_SMOKE') != '1'\n"
        "results = Path('../results') if full else Path(tempfile.gettempdir(), 'polydlot-results')\n"
        "results.mkdir(exist_ok=True)\n"
        "(results / 'fake-fcn.json').write_text(json.dumps({'test_accuracy': SEED / 100}))\n"
        "Path('../models').mkdir(exist_ok=True)\n"
        "Path('../models/fake-fcn.pt').write_bytes(b'weights')")
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
    assert seed_study.run(path, 42) == ({"test_accuracy": 0.42}, False)  # the contract's seed, below the bar
    assert seed_study.run(path, 73) == ({"test_accuracy": 0.73}, True)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_the_copy_finds_the_parity_fixtures_and_a_failure_is_named(tmp_path, monkeypatch):
    fixture = tmp_path / "parity-fcn.npz"
    fixture.write_bytes(b"weights")
    monkeypatch.setattr(seed_study, "DATA_DIR", tmp_path)
    path = fake_notebook(tmp_path)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(2, new_code_cell("from pathlib import Path\n"
                                           "assert Path('../data/parity-fcn.npz').read_bytes() == b'weights', 'no fixture'"))
    nbformat.write(notebook, path)
    assert seed_study.run(path, 73) == ({"test_accuracy": 0.73}, True)
    notebook.cells.insert(2, new_code_cell("raise ValueError('no data here')"))
    nbformat.write(notebook, path)
    with pytest.raises(RuntimeError, match="wrote 0 records, expected 1. ValueError: no data here"):
        seed_study.run(path, 73)


def test_record_names_are_those_of_results():
    assert seed_study.record_name("pytorch/01-mnist-fcn.ipynb", None) == "pytorch-fcn.json"
    assert seed_study.record_name("keras/02-mnist-cnn.ipynb", "tensorflow") == "keras-cnn.json"
    assert seed_study.record_name("keras/01-mnist-fcn.ipynb", "jax") == "keras-jax-fcn.json"


def test_the_study_covers_every_configuration_of_every_model():
    """Each network's 8 configurations (Keras on three backends): fully connected under 5 seeds,
    convolutional under 3, recurrent under 3 but the two its floors were set from (PyTorch, MXNet) under 5."""
    names = [seed_study.record_name(notebook, backend) for notebook, backend, _ in seed_study.STUDY]
    assert len(set(names)) == len(names) == 24 and {"jax-fcn.json", "jax-cnn.json", "jax-rnn.json"} <= set(names)
    counts = {name: len(seeds) for name, (*_, seeds) in zip(names, seed_study.STUDY)}
    for model in ("cnn", "rnn"):
        assert {name for name in names if name.endswith("-fcn.json")} == {
            name.replace(f"-{model}", "-fcn") for name in names if name.endswith(f"-{model}.json")}
    assert all(counts[name] == 5 for name in names if name.endswith("-fcn.json"))
    assert all(counts[name] == 3 for name in names if name.endswith("-cnn.json"))
    assert {name for name in names if name.endswith("-rnn.json") and counts[name] == 5} == {
        "pytorch-rnn.json", "mxnet-rnn.json"}
    assert all(counts[name] == 3 for name in names if name.endswith("-rnn.json")
               and name not in ("pytorch-rnn.json", "mxnet-rnn.json"))
    assert all(seeds[0] == 42 for *_, seeds in seed_study.STUDY)


def fake_training(calls, fail_at=None):
    def train(path, seed, env):
        calls.append((path.name, seed, env.get("KERAS_BACKEND"), env.get("POLYDLOT_SMOKE")))
        if seed == fail_at:
            raise KeyboardInterrupt  # the study is stopped in the middle of a run
        return {"framework": "Keras", "backend": env.get("KERAS_BACKEND"), "model": "fcn", "epochs": 3,
                "train_rows": 54000, "seconds_per_epoch": [9.0, 2.0, 4.0], "test_accuracy": seed / 100}, True
    return train


def committed_record(root, name, accuracy):
    (root / "results").mkdir(exist_ok=True)
    (root / "results" / name).write_text(json.dumps({
        "framework": "Keras", "model": "fcn", "epochs": 3, "train_rows": 54000,
        "seconds_per_epoch": [8.0, 1.0, 2.0, 9.0], "test_accuracy": accuracy, "smoke": False}), encoding="utf-8")


def test_a_stopped_study_goes_on_where_it_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYDLOT_SMOKE", "1")  # a study always trains fully
    committed_record(tmp_path, "keras-jax-fcn.json", 0.98)
    tmp_path = tmp_path / "seeds"
    calls = []
    with pytest.raises(KeyboardInterrupt):
        seed_study.study("keras/01-mnist-fcn.ipynb", "jax", [42, 1, 2], tmp_path, tmp_path.parent, fake_training(calls, 2))
    assert [p.name for p in tmp_path.iterdir()] == ["keras-jax-fcn.json"]  # nothing half-written
    summary = seed_study.study("keras/01-mnist-fcn.ipynb", "jax", [42, 1, 2], tmp_path, tmp_path.parent,
                               fake_training(calls))
    assert calls == [("01-mnist-fcn.ipynb", seed, "jax", None) for seed in (1, 2, 2)]  # 42: the committed run
    assert [(r["seed"], r["test_accuracy"], r["steady_seconds_per_epoch"]) for r in summary["runs"]] == [
        (42, 0.98, 2.0), (1, 0.01, 3.0), (2, 0.02, 3.0)]
    assert json.loads((tmp_path / "keras-jax-fcn.json").read_text(encoding="utf-8")) == summary
    assert seed_study.study("keras/01-mnist-fcn.ipynb", "jax", [42, 1, 2], tmp_path, tmp_path.parent,
                            fake_training(calls)) == summary
    assert len(calls) == 3  # every seed done: nothing trains again


def test_each_run_names_its_cpu_and_seed_42_the_one_make_run_noted(tmp_path, monkeypatch):
    """Trained seeds carry this machine's CPU; seed 42 carries what results/machine.json says of its record,
    and nothing where it says nothing (a record from before the note)."""
    monkeypatch.setattr(seed_study, "cpu_name", lambda: "Test CPU 2")
    committed_record(tmp_path, "pytorch-fcn.json", 0.97)
    seeds_dir = tmp_path / "seeds"
    runs = seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1], seeds_dir, tmp_path, fake_training([]))["runs"]
    assert [r.get("cpu") for r in runs] == [None, "Test CPU 2"]
    (tmp_path / "results" / "machine.json").write_text(json.dumps({"pytorch-fcn.json": "Test CPU 1"}), encoding="utf-8")
    runs = seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1], seeds_dir, tmp_path, fake_training([]))["runs"]
    assert [r.get("cpu") for r in runs] == ["Test CPU 1", "Test CPU 2"]


def test_a_seed_in_the_record_is_kept_whichever_cpu_trained_it(tmp_path, monkeypatch):
    """The seeds give accuracy (speed comes from `make bench`): `make seeds` on another machine trains only the
    seeds a record lacks, and each run keeps the CPU it ran on."""
    committed_record(tmp_path, "pytorch-fcn.json", 0.97)
    seeds_dir = tmp_path / "seeds"
    calls = []
    monkeypatch.setattr(seed_study, "cpu_name", lambda: "Test CPU 1")
    seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1, 2], seeds_dir, tmp_path, fake_training(calls))
    assert [call[1] for call in calls] == [1, 2]
    monkeypatch.setattr(seed_study, "cpu_name", lambda: "Test CPU 2")
    runs = seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1, 2, 3], seeds_dir, tmp_path,
                            fake_training(calls))["runs"]
    assert [call[1] for call in calls] == [1, 2, 3]  # only the new seed trains
    assert [r.get("cpu") for r in runs] == [None, "Test CPU 1", "Test CPU 1", "Test CPU 2"]
    seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1, 2, 3], seeds_dir, tmp_path, fake_training(calls),
                     train_missing=False)
    assert len(calls) == 3  # --committed trains nothing


def test_a_run_that_fails_is_not_recorded(tmp_path):
    def failing(path, seed, env):
        return {"test_accuracy": 0.1, "seconds_per_epoch": [1.0]}, False
    with pytest.raises(RuntimeError, match="did not run to its end"):
        seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [1], tmp_path, tmp_path, failing)
    assert not list(tmp_path.iterdir())


def test_a_run_that_recorded_another_seed_is_refused(tmp_path):
    def other_seed(path, seed, env):
        return {"test_accuracy": 0.98, "seconds_per_epoch": [1.0], "seed": 42}, True
    with pytest.raises(RuntimeError, match="recorded SEED = 42"):
        seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [1], tmp_path, tmp_path, other_seed)


def test_seed_42_needs_the_committed_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make run` first"):
        seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42], tmp_path / "seeds", tmp_path, fake_training([]))
    committed_record(tmp_path, "pytorch-fcn.json", 0.97)
    (tmp_path / "results" / "pytorch-fcn.json").write_text(
        (tmp_path / "results" / "pytorch-fcn.json").read_text(encoding="utf-8").replace('"smoke": false', '"smoke": true'), encoding="utf-8")
    with pytest.raises(RuntimeError, match="did not run to its end"):
        seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42], tmp_path / "seeds", tmp_path, fake_training([]))


def test_seed_42_is_read_again_and_nothing_trains_without_train_missing(tmp_path):
    committed_record(tmp_path, "pytorch-fcn.json", 0.97)
    calls = []
    seeds_dir = tmp_path / "seeds"
    seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1], seeds_dir, tmp_path, fake_training(calls))
    committed_record(tmp_path, "pytorch-fcn.json", 0.99)  # make run again
    summary = seed_study.study("pytorch/01-mnist-fcn.ipynb", None, [42, 1, 2], seeds_dir, tmp_path,
                               fake_training(calls), train_missing=False)
    assert [(r["seed"], r["test_accuracy"]) for r in summary["runs"]] == [(42, 0.99), (1, 0.01)]
    assert len(calls) == 1 and json.loads((seeds_dir / "pytorch-fcn.json").read_text(encoding="utf-8")) == summary


@pytest.mark.parametrize("notebook, backend, seeds", seed_study.STUDY,
                         ids=[seed_study.record_name(n, b) for n, b, _ in seed_study.STUDY])
def test_the_committed_seed_records(notebook, backend, seeds):
    """`make seeds`' records: every seed of the study, each a full training, seed 42 the committed full run."""
    path = seed_study.SEEDS_DIR / seed_study.record_name(notebook, backend)
    assert path.is_file(), f"{path.name}: no seed record; run `make seeds`"
    summary = json.loads(path.read_text(encoding="utf-8"))
    committed = json.loads((seed_study.ROOT / "results" / path.name).read_text(encoding="utf-8"))
    assert summary["notebook"] == notebook and summary["model"] == committed["model"]
    assert summary.get("backend", "tensorflow") == (backend or "tensorflow") == committed.get("backend", "tensorflow")
    assert [r["seed"] for r in summary["runs"]] == seeds
    assert all(len(r["seconds_per_epoch"]) == summary["epochs"] == committed["epochs"] for r in summary["runs"])
    assert summary["train_rows"] == committed["train_rows"] == 54_000
    assert summary["runs"][0]["test_accuracy"] == committed["test_accuracy"], "seed 42 is stale: run `make seeds`"
    assert summary["runs"][0]["seconds_per_epoch"] == committed["seconds_per_epoch"]


def test_committed_rereads_seed_42_of_the_existing_records_and_trains_nothing(tmp_path, monkeypatch):
    """What `make run` calls: only configurations that have a seed record, only seed 42, read from results/."""
    seeds_dir = tmp_path / "results" / "seeds"
    seeds_dir.mkdir(parents=True)
    committed_record(tmp_path, "keras-jax-fcn.json", 0.981)
    committed_record(tmp_path, "pytorch-fcn.json", 0.982)  # a record in results/, but no seed record: left alone
    stale = {"notebook": "keras/01-mnist-fcn.ipynb", "runs": [
        {"seed": 42, "test_accuracy": 0.5, "steady_seconds_per_epoch": 1.0, "seconds_per_epoch": [1.0]},
        {"seed": 1, "test_accuracy": 0.979, "steady_seconds_per_epoch": 1.0, "seconds_per_epoch": [1.0]}]}
    (seeds_dir / "keras-jax-fcn.json").write_text(json.dumps(stale), encoding="utf-8")
    monkeypatch.setattr(seed_study, "SEEDS_DIR", seeds_dir)
    monkeypatch.setattr(seed_study, "ROOT", tmp_path)
    assert seed_study.main(["--committed"]) == 0
    runs = json.loads((seeds_dir / "keras-jax-fcn.json").read_text(encoding="utf-8"))["runs"]
    assert [(r["seed"], r["test_accuracy"]) for r in runs] == [(42, 0.981), (1, 0.979)]
    assert sorted(p.name for p in seeds_dir.iterdir()) == ["keras-jax-fcn.json"]
