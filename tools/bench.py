"""Race every configuration's own notebook code side by side on this machine: `make bench` (results/bench.json).

Usage: python tools/bench.py [--rounds N] [--models fcn,cnn,rnn] [--output PATH]
       python tools/bench.py --compare FIRST.json SECOND.json   (two races: do their rankings agree?)

For each model, every configuration (each framework's notebook, Keras's on its three backends) gets a kernel of
its own, which runs the notebook's cells up to its training loop with the parameters of a short training:
`DATA_DIR` a folder whose `mnist_train.csv` is the first ROWS[model] rows of data/mnist_train.csv (the same rows
and batch order everywhere, a tenth of them for validation, as in a full run) and `NUM_EPOCHS` EPOCHS. Then the
configurations take turns, ROUNDS times: each runs the notebook's own training cell once more, its epochs timed
as the notebook times them (training and validation), and nothing else runs meanwhile. A round starts one
configuration later than the round before, so that no configuration always runs first or last. The first epoch
of each turn is left out (it holds tracing and compiling, and on later turns whatever the framework redoes when
its loop starts); the rest give the turn's seconds per 1,000 training rows.

results/bench.json keeps, per model and configuration, every turn's epochs and seconds per 1,000 rows, the CPU
time stolen by the hypervisor during the turn (from /proc/stat, where there is one), how many cores the
kernel kept busy (its CPU seconds over the turn's wall-clock seconds), each framework's math library as the
kernel reports it, the CPU, and this machine's float32 matrix-product peak measured at the start
(tools/peak.py). It reports each configuration's ratio to the fastest configuration of its model: the median
over rounds of the ratio within each round (both timed minutes apart, so drift cancels), with a 95% interval
from a bootstrap over the rounds; and each Keras backend over its framework's own notebook ("Keras on X over
X"), the same way. tools/results_table.py writes the README's speed columns from it. --compare lists the pairs of
configurations that two races rank in opposite orders although their intervals do not overlap in either race:
two races on one machine should list none.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat
import numpy as np
from jupyter_client.manager import KernelManager

import peak
from run_notebooks import QUIET, cpu_name

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = {"fcn": "01", "cnn": "02", "rnn": "03"}
# (label, folder, Keras backend): every configuration of a model, in the README's order
CONFIGURATIONS = [("Keras on TensorFlow", "keras", "tensorflow"), ("Keras on JAX", "keras", "jax"),
                  ("Keras on PyTorch", "keras", "torch"), ("TensorFlow", "tensorflow", None),
                  ("PyTorch", "pytorch", None), ("JAX", "jax", None), ("MXNet", "mxnet", None),
                  ("Theano", "theano", None)]
# Keras on a backend against that backend's own notebook: the wrapper's cost
WRAPPERS = {"Keras on TensorFlow": "TensorFlow", "Keras on PyTorch": "PyTorch", "Keras on JAX": "JAX"}
# Rows of mnist_train.csv each model trains on: a tenth of them validate, in whole batches of 1,000 (or one
# smaller batch), so no evaluation meets a second shape; a steady epoch takes a few seconds
ROWS = {"fcn": 60_000, "cnn": 6_000, "rnn": 20_000}
EPOCHS = 3  # per turn: one to warm up, two timed
ROUNDS = 5
# What each framework computes with, asked inside its kernel after the notebook's set-up
LIBRARY = {
    "tensorflow": "from tensorflow.python.util import _pywrap_util_port\n"
                  "library = 'oneDNN' if _pywrap_util_port.IsMklEnabled() else 'Eigen'",
    "torch": "import torch\nshown = torch.__config__.show()\n"
             "library = ', '.join(name for name, mark in (('oneDNN', 'MKL-DNN'), ('MKL', 'Math Kernel Library'),"
             " ('OpenBLAS', 'OpenBLAS')) if mark in shown)",
    "jax": "library = 'XLA (Eigen' + (', XNNPACK off' if 'xnnpack=false' in os.environ.get('XLA_FLAGS', '') else '') + ')'",
    "mxnet": "features = mx.runtime.Features()\nlibrary = ', '.join(name for name, flag in (('oneDNN', 'MKLDNN'), "
             "('OpenBLAS', 'BLAS_OPEN'), ('MKL', 'BLAS_MKL')) if features.is_enabled(flag))",
    "theano": "library = runtime.blas()",
}


def probe(folder: str, backend: str | None) -> str:
    return LIBRARY[backend or {"pytorch": "torch"}.get(folder, folder)]


def stolen() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot; (0, 0) where /proc/stat does not exist."""
    path = Path("/proc/stat")
    if not path.is_file():
        return 0, 0
    fields = [int(value) for value in path.read_text().splitlines()[0].split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds a process has used, all its threads together (0 where /proc cannot tell)."""
    path = Path(f"/proc/{pid}/stat")
    if pid is None or not path.is_file():
        return 0.0
    fields = path.read_text().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def training_data(model: str, folder: Path) -> Path:
    """A folder with the first ROWS[model] rows of data/mnist_train.csv and data/mnist_test.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "data" / "mnist_train.csv", encoding="ascii") as source:
        rows = [next(source) for _ in range(ROWS[model])]
    (folder / "mnist_train.csv").write_text("".join(rows), encoding="ascii")
    (folder / "mnist_test.csv").symlink_to(ROOT / "data" / "mnist_test.csv")
    return folder


class Configuration:
    """One notebook in a kernel of its own, set up up to its training loop."""

    def __init__(self, label: str, notebook: Path, backend: str | None, data_dir: Path, sockets: Path,
                 env: dict[str, str] | None = None):
        self.label, self.notebook, self.backend = label, notebook, backend
        cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        loop = next(i for i, c in enumerate(cells) if "range(1, NUM_EPOCHS + 1)" in c.source or "net.fit(" in c.source)
        tagged = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
        override = f"SMOKE, DATA_DIR, NUM_EPOCHS, TRAIN_LIMIT = False, {str(data_dir)!r}, {EPOCHS}, None"
        self.setup = [c.source for c in cells[:tagged + 1]] + [override] + [c.source for c in cells[tagged + 1:loop]]
        self.training = cells[loop].source
        environment = {key: value for key, value in os.environ.items() if key not in ("POLYDLOT_SMOKE", "KERAS_BACKEND")}
        env = {**environment, **QUIET, **(env or {})}
        if backend:
            env["KERAS_BACKEND"] = backend
        self.manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets))  # local sockets
        self.manager.start_kernel(cwd=str(notebook.parent), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str) -> str:
        """Run code in the kernel; its standard output, or RuntimeError with the error."""
        printed: list[str] = []

        def output(message: dict) -> None:
            if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
                printed.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                printed.append("\n".join(message["content"]["traceback"]))

        reply = self.client.execute_interactive(code, timeout=None, output_hook=output)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{self.notebook} ({self.label}) failed:\n{''.join(printed)[-3000:]}")
        return "".join(printed)

    def set_up(self) -> str:
        """Run the notebook up to its training loop; the math library its framework reports."""
        for source in self.setup:
            self.run(source)
        folder = self.notebook.parent.name
        self.rows = int(self.run("print(len(x_train))"))
        return self.run(probe(folder, self.backend) + "\nprint(library)").strip()

    def turn(self) -> dict:
        """The training cell once more: its epochs' seconds, the share of CPU time stolen meanwhile, and the
        cores the kernel kept busy (its CPU seconds over the wall-clock seconds)."""
        steal, total = stolen()
        used, start = cpu_seconds(self.manager.provisioner.pid), time.perf_counter()
        self.run(f"_before = len(history['seconds'])\n{self.training}")
        used, wall = cpu_seconds(self.manager.provisioner.pid) - used, time.perf_counter() - start
        after_steal, after_total = stolen()
        seconds = json.loads(self.run("print(json.dumps(history['seconds'][_before:]))"))
        per_1000 = statistics.median(seconds[1:]) / (self.rows / 1000)
        share = (after_steal - steal) / (after_total - total) if after_total > total else 0.0
        return {"epoch_seconds": [round(s, 3) for s in seconds], "seconds_per_1000_rows": round(per_1000, 4),
                "steal": round(share, 4), "busy_cores": round(used / wall, 2)}

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def bootstrap_median(values: list[float], draws: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """A 95% interval of the median of `values`, by resampling them with replacement."""
    rng = np.random.default_rng(seed)
    samples = np.median(rng.choice(values, size=(draws, len(values)), replace=True), axis=1)
    return float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))


def ratios(turns: dict[str, list[dict]], over: str) -> list[float]:
    """Each round's ratio of every configuration's seconds to `over`'s, by configuration."""
    return {label: [mine["seconds_per_1000_rows"] / theirs["seconds_per_1000_rows"]
                    for mine, theirs in zip(runs, turns[over])] for label, runs in turns.items()}


def summary(turns: dict[str, list[dict]]) -> dict:
    """Per configuration: median seconds per 1,000 rows over rounds, and the ratio to the fastest with its
    interval; and the Keras wrappers over their frameworks."""
    median = {label: statistics.median(t["seconds_per_1000_rows"] for t in runs) for label, runs in turns.items()}
    fastest = min(median, key=median.get)
    result = {"fastest": fastest, "configurations": {}}
    for label, values in ratios(turns, fastest).items():
        low, high = bootstrap_median(values)
        result["configurations"][label] = {"seconds_per_1000_rows": round(median[label], 4),
                                           "ratio": round(statistics.median(values), 3),
                                           "interval": [round(low, 3), round(high, 3)]}
    result["wrappers"] = {}
    for wrapper, framework in WRAPPERS.items():
        if wrapper in turns and framework in turns:
            values = ratios({wrapper: turns[wrapper], framework: turns[framework]}, framework)[wrapper]
            low, high = bootstrap_median(values)
            result["wrappers"][f"{wrapper} over {framework}"] = {
                "ratio": round(statistics.median(values), 3), "interval": [round(low, 3), round(high, 3)]}
    return result


def disagreements(first: dict, second: dict) -> list[tuple[str, str, str]]:
    """(model, a, b) for each pair of configurations that the two races rank in opposite orders although their
    intervals lie apart in at least one of the races."""
    found = []
    for model in first["models"]:
        one, two = first["models"][model]["configurations"], second["models"][model]["configurations"]
        labels = sorted(set(one) & set(two))
        for index, a in enumerate(labels):
            for b in labels[index + 1:]:
                flipped = (one[a]["ratio"] < one[b]["ratio"]) != (two[a]["ratio"] < two[b]["ratio"])
                apart = any(race[a]["interval"][1] < race[b]["interval"][0]
                            or race[b]["interval"][1] < race[a]["interval"][0] for race in (one, two))
                if flipped and apart:
                    found.append((model, a, b))
    return found


def race(model: str, configurations: list[tuple], rounds: int, scratch: Path) -> dict:
    """Set up every configuration of `model` (label, notebook, Keras backend or None, and optionally variables of
    the environment that differ, for comparing a setting), then take `rounds` turns each; the model's part of
    bench.json."""
    data_dir = training_data(model, scratch / model)
    kernels, libraries = [], {}
    try:
        for index, (label, notebook, backend, *env) in enumerate(configurations):
            kernel = Configuration(label, notebook, backend, data_dir, scratch / f"kernel-{model}-{index}", *env)
            kernels.append(kernel)
            libraries[label] = kernel.set_up()
            print(f"{model}: {label} set up ({libraries[label]})", flush=True)
        turns: dict[str, list[dict]] = {kernel.label: [] for kernel in kernels}
        for round_number in range(rounds):
            start = round_number % len(kernels)
            for kernel in kernels[start:] + kernels[:start]:
                turns[kernel.label].append(kernel.turn())
                print(f"{model} round {round_number + 1}/{rounds}: {kernel.label} "
                      f"{turns[kernel.label][-1]['seconds_per_1000_rows']:.3f} s per 1,000 rows", flush=True)
    finally:
        for kernel in kernels:
            kernel.close()
    return {"rows": ROWS[model], "train_rows": kernels[0].rows, "epochs_per_turn": EPOCHS, "rounds": rounds,
            "libraries": libraries, "turns": turns, **summary(turns)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--models", default="fcn,cnn,rnn")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench.json")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("FIRST", "SECOND"))
    options = parser.parse_args(argv)
    if options.compare:
        first, second = (json.loads(path.read_text(encoding="utf-8")) for path in options.compare)
        found = disagreements(first, second)
        for model, a, b in found:
            print(f"{model}: {a} and {b} are ranked in opposite orders, their intervals apart")
        print(f"{len(found)} disagreements where the intervals do not overlap")
        return 1 if found else 0
    started = time.perf_counter()
    measured = peak.measure()
    record = {"cpu": cpu_name(), "cores": os.cpu_count(), "date": date.today().isoformat(), "peak": measured,
              "models": {}}
    with tempfile.TemporaryDirectory() as scratch:
        for model in options.models.split(","):
            configurations = [(label, ROOT / folder / f"{NUMBERS[model]}-mnist-{model}.ipynb", backend)
                              for label, folder, backend in CONFIGURATIONS]
            record["models"][model] = race(model, configurations, options.rounds, Path(scratch))
    record["minutes"] = round((time.perf_counter() - started) / 60, 1)
    options.output.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    for model, part in record["models"].items():
        print(f"\n{model}: fastest {part['fastest']}")
        for label, entry in part["configurations"].items():
            print(f"  {label:22} {entry['seconds_per_1000_rows']:7.3f} s per 1,000 rows  {entry['ratio']:5.2f}x "
                  f"[{entry['interval'][0]:.2f}, {entry['interval'][1]:.2f}]")
        for name, entry in part["wrappers"].items():
            print(f"  {name:40} {entry['ratio']:5.2f}x [{entry['interval'][0]:.2f}, {entry['interval'][1]:.2f}]")
    print(f"bench: {record['minutes']} minutes; wrote {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
