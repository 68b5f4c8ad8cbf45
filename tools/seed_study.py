"""Train notebooks again under other seeds, to see how far their test accuracy moves from seed to seed.

Usage: python tools/seed_study.py NOTEBOOK SEED [SEED ...]
       python tools/seed_study.py --all        (what `make seeds` runs)
       python tools/seed_study.py --committed  (what `make run` runs: seed 42 read again, nothing trained)

--all trains every network of every framework, Keras on each of its three backends: the fully connected
one under the seeds in FCN_SEEDS, the convolutional one under CNN_SEEDS, the
recurrent one under RNN_SEEDS (PyTorch's and MXNet's, from which its floors were set, under
RNN_FLOOR_SEEDS), and keeps a record per configuration in results/seeds/<framework>[-<backend>]-<model>.json:
each seed's test accuracy, seconds per epoch and the CPU it ran on (seed 42's as results/machine.json
notes it, where it does). Seed 42 is the contract's: its run is the full run of
`make run`, read again from results/ every time (run `make run` first; --committed does only that, for
the records that exist), and only the other seeds are trained. The record is rewritten after every seed, so
a study that was stopped goes on where it stopped: a seed in the record is not trained again, whichever CPU
trained it (the seeds give accuracy; speed comes from `make bench`). To train a configuration's seeds again
after its training changed (not its rounding: a new dropout, initialisation or gradient), take them out of
its record.

Each seed is set the way papermill sets a parameter: a cell `SEED = n` right after the cell tagged
`parameters`. The notebook runs as a copy in a temporary folder laid out like the repository, so its
record and saved model land there and never over results/ or models/; the CSVs are read from data/ (or
MNIST_DATA_DIR). Such a run is not a full run of the contract (its data folder is not the copy's own), so
the notebook checks no accuracy floor; the test accuracy is read from the record the run wrote. The
environment decides the rest: POLYDLOT_SMOKE=1 gives smoke runs, KERAS_BACKEND picks the Keras backend.
Runs one after the other. Without --all or --committed nothing is kept.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Callable

import nbformat
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell

import results_table
from results_table import steady_seconds
from run_notebooks import cpu_name, execute, link_helpers

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
SEEDS_DIR = ROOT / "results" / "seeds"
CONTRACT_SEED = 42  # its run is the committed full run in results/
FCN_SEEDS = [CONTRACT_SEED, 1, 2, 3, 4]
CNN_SEEDS = [CONTRACT_SEED, 1, 2]
RNN_SEEDS = [CONTRACT_SEED, 1, 2]
RNN_FLOOR_SEEDS = [CONTRACT_SEED, 1, 2, 3, 4]
# (notebook, Keras backend or None, seeds) of every configuration --all trains, in the order it trains them
FRAMEWORKS = ("tensorflow", "pytorch", "jax", "mxnet", "theano")
STUDY = [(f"{framework}/01-mnist-fcn.ipynb", None, FCN_SEEDS) for framework in FRAMEWORKS]
STUDY += [("keras/01-mnist-fcn.ipynb", backend, FCN_SEEDS) for backend in ("tensorflow", "jax", "torch")]
STUDY += [(f"{framework}/02-mnist-cnn.ipynb", None, CNN_SEEDS) for framework in FRAMEWORKS]
STUDY += [("keras/02-mnist-cnn.ipynb", backend, CNN_SEEDS) for backend in ("tensorflow", "jax", "torch")]
# The recurrent network: the two configurations its floors were set from under 5 seeds, the others under 3
STUDY += [(f"{framework}/03-mnist-rnn.ipynb", None,
           RNN_FLOOR_SEEDS if framework in ("pytorch", "mxnet") else RNN_SEEDS)
          for framework in FRAMEWORKS]
STUDY += [("keras/03-mnist-rnn.ipynb", backend, RNN_SEEDS) for backend in ("tensorflow", "jax", "torch")]


def with_seed(notebook: nbformat.NotebookNode, seed: int) -> nbformat.NotebookNode:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected one cell tagged 'parameters', found {len(tagged)}")
    notebook.cells.insert(tagged[0] + 1, new_code_cell(f"SEED = {seed}"))
    return notebook


def run(path: Path, seed: int, env: dict[str, str] | None = None) -> tuple[dict, bool]:
    """The record of one run with SEED = seed, and whether the notebook ran to its end. `env` (default: this
    process's environment) is the kernel's environment."""
    notebook = with_seed(nbformat.read(path, as_version=4), seed)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary, path.resolve().parent.name)
        folder.mkdir()
        link_helpers(path.parent, folder)
        Path(temporary, "data").mkdir()
        for fixture in DATA_DIR.glob("parity-*.npz"):  # the "same weights, same numbers" cell reads ../data
            Path(temporary, "data", fixture.name).symlink_to(fixture)
        env = {"MNIST_DATA_DIR": str(DATA_DIR), **(os.environ if env is None else env),
               "TMPDIR": temporary}  # TMPDIR: where the record goes
        failure = ""
        try:
            execute(notebook, folder, env)
        except CellExecutionError as error:
            failure = f"{error.ename}: {error.evalue}"
        records = sorted(Path(temporary).glob("results/*.json")) + sorted(
            Path(temporary).glob("polydlot-results/*.json"))
        if len(records) != 1:
            raise RuntimeError(f"{path} with SEED = {seed} wrote {len(records)} records, expected 1. {failure}")
        completed = not failure
        return json.loads(records[0].read_text(encoding="utf-8")), completed


def record_name(notebook: str, backend: str | None) -> str:
    """results/seeds' file name of a configuration: the name of its record in results/."""
    framework, model = notebook.split("/")[0], notebook.split("-")[-1].removesuffix(".ipynb")
    return results_table.record_name({"framework": framework, "backend": backend or "tensorflow", "model": model})


def study(notebook: str, backend: str | None, seeds: list[int], seeds_dir: Path = SEEDS_DIR, root: Path = ROOT,
          train: Callable[..., tuple[dict, bool]] = run, train_missing: bool = True) -> dict:
    """Bring the record of `notebook` in `seeds_dir` up to date: seed 42 read again from results/ (make run's
    full run) and, with `train_missing`, every other seed it lacks trained here, the record rewritten after
    each."""
    path = seeds_dir / record_name(notebook, backend)
    summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"notebook": notebook, "runs": []}
    runs = {r["seed"]: r for r in summary["runs"]}
    noted = root / "results" / "machine.json"  # make run's note of where each record was produced
    machines = json.loads(noted.read_text(encoding="utf-8")) if noted.is_file() else {}
    env = {key: value for key, value in os.environ.items() if key not in ("POLYDLOT_SMOKE", "KERAS_BACKEND")}
    if backend:
        env["KERAS_BACKEND"] = backend
    here = cpu_name()
    for seed in seeds:
        if seed == CONTRACT_SEED:
            committed = root / "results" / path.name
            if not committed.is_file():
                raise FileNotFoundError(f"{committed}: no record of the full run with SEED = {seed}; run `make run` first")
            record, completed = json.loads(committed.read_text(encoding="utf-8")), True
            machine = machines.get(path.name)
        elif not train_missing or seed in runs:
            continue
        else:
            record, completed = train(root / notebook, seed, env)
            machine = here
        if not completed or record.get("smoke"):
            raise RuntimeError(f"{notebook} with SEED = {seed} did not run to its end as a full training")
        if record.get("seed", seed) != seed:
            raise RuntimeError(f"{notebook}: the run for SEED = {seed} recorded SEED = {record['seed']}")
        run_summary = {"seed": seed, "test_accuracy": record["test_accuracy"],
                       "steady_seconds_per_epoch": round(steady_seconds(record), 2),
                       "seconds_per_epoch": record["seconds_per_epoch"]}
        if machine:
            run_summary["cpu"] = machine
        if runs.get(seed) == run_summary:
            continue  # seed 42 as it was
        runs[seed] = run_summary
        summary.update({key: record[key] for key in ("framework", "framework_version", "backend", "backend_version",
                                                      "model", "device", "epochs", "train_rows") if key in record})
        summary["runs"] = sorted(runs.values(), key=lambda r: seeds.index(r["seed"]) if r["seed"] in seeds else len(seeds))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        partial.replace(path)  # a stopped study never leaves a half-written record
        print(f"{path.relative_to(root) if path.is_relative_to(root) else path} SEED={seed}: test accuracy "
              f"{record['test_accuracy']:.4f}, {steady_seconds(record):.1f} s per epoch", flush=True)
    return summary


def main(argv: list[str]) -> int:
    if argv in (["--all"], ["--committed"]):
        for notebook, backend, seeds in STUDY:
            if argv == ["--all"] or (SEEDS_DIR / record_name(notebook, backend)).is_file():
                study(notebook, backend, seeds, SEEDS_DIR, ROOT, train_missing=argv == ["--all"])
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, seeds = Path(argv[0]), [int(seed) for seed in argv[1:]]
    accuracies = []
    for seed in seeds:
        record, completed = run(path, seed)
        accuracy = record["test_accuracy"]
        accuracies.append(accuracy)
        print(f"{path} SEED={seed}: test accuracy {accuracy:.4f}" + ("" if completed else " (the notebook failed)"),
              flush=True)
    if len(accuracies) > 1:
        print(f"{len(accuracies)} seeds: min {min(accuracies):.4f}, mean {statistics.mean(accuracies):.4f}, "
              f"max {max(accuracies):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
