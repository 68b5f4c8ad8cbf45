"""Where Keras on TensorFlow's slow epochs go: `fit` against a `train_on_batch` loop, batch by batch.

Usage: python tools/fit_stall.py MODEL [--turns N] [--backend BACKEND]

In one kernel set up as `make bench` sets it up (tools/bench.py: the notebook's cells up to its training loop, the
bench's rows), each turn runs the notebook's own `fit` call for 3 epochs with a callback that times every batch,
then a loop of `train_on_batch` over the same arrays in a fresh order each epoch with the same validation. Per
epoch it prints the seconds, the first batch's seconds, the other batches' median, and the cores the kernel kept
busy (its CPU seconds over the epoch's). A slow epoch whose extra seconds sit in its first batch, with the cores
idle meanwhile, is a wait where the epoch's input pipeline starts, not slower arithmetic.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parent.parent
TIMER = """
class BatchTimes(keras.callbacks.Callback):  # fit_stall.py: every batch's seconds, and the epoch's CPU seconds
    def on_epoch_begin(self, epoch, logs=None):
        self.start = self.last = time.perf_counter()
        self.cpu, self.gaps = time.process_time(), []

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        self.last = now

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        stall_epochs.append([self.gaps, seconds, time.process_time() - self.cpu])
"""
LOOP = """
stall_epochs = []
for _ in range(3):
    start = last = time.perf_counter()
    cpu, gaps = time.process_time(), []
    order = loop_rng.permutation(len(x_train))
    for first in range(0, len(order), BATCH_SIZE):
        rows = order[first:first + BATCH_SIZE]
        net.train_on_batch(x_train[rows], y_train[rows])
        gaps.append(time.perf_counter() - last)
        last = time.perf_counter()
    net.evaluate(x_val, y_val, batch_size=1000, verbose=0)
    stall_epochs.append([gaps, time.perf_counter() - start, time.process_time() - cpu])
print(json.dumps(stall_epochs))
"""


def describe(gaps: list[float], seconds: float, cpu_seconds: float) -> dict:
    """An epoch in four figures: its seconds, its first batch's, the other batches' median, the cores busy."""
    if len(gaps) < 2 or seconds <= 0:
        raise ValueError(f"an epoch needs two batches and a positive duration, got {len(gaps)} and {seconds}")
    return {"seconds": round(seconds, 3), "first_batch": round(gaps[0], 3),
            "other_batches_median": round(statistics.median(gaps[1:]), 4), "busy_cores": round(cpu_seconds / seconds, 2)}


def fit_call(training: str) -> str:
    """The notebook's training cell with the batch timer among fit's callbacks."""
    if training.count("callbacks=[") != 1:
        raise ValueError("the training cell should pass fit one list of callbacks")
    return ("stall_epochs = []\n" + training.replace("callbacks=[", "callbacks=[BatchTimes(), ")
            + "\nprint(json.dumps(stall_epochs))")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(bench.ROWS))
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--backend", default="tensorflow")
    options = parser.parse_args(argv)
    notebook = ROOT / "keras" / f"{bench.NUMBERS[options.model]}-mnist-{options.model}.ipynb"
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = bench.training_data(options.model, Path(scratch) / "data")
        kernel = bench.Configuration(f"Keras on {options.backend}", notebook, options.backend, data_dir,
                                     Path(scratch) / "kernel")
        try:
            print(f"{options.model}, Keras on {options.backend} ({kernel.set_up()}), {kernel.rows} rows")
            kernel.run(TIMER + "\nloop_rng = np.random.default_rng(0)")
            for turn in range(1, options.turns + 1):
                for way, code in (("fit", fit_call(kernel.training)), ("loop", LOOP)):
                    for epoch in json.loads(kernel.run(code).strip().splitlines()[-1]):  # after the epoch lines
                        print(f"turn {turn} {way:4} {describe(*epoch)}", flush=True)
        finally:
            kernel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
