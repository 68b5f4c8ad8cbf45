"""Measure this machine's float32 matrix-product peak, for the README's "% of peak" column.

Usage: python tools/peak.py
  times a 4096 x 4096 float32 product (2 * 4096**3 floating-point operations) with each library of the
  environment that has one (PyTorch, TensorFlow, numpy), best of 3 after a warm-up, on all cores, and
  writes the fastest to results/peak.json with the CPU's name. `make run` runs it, on an otherwise idle
  machine, so that % of peak sets its epochs against the peak of the machine they ran on.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from run_notebooks import cpu_name

ROOT = Path(__file__).resolve().parent.parent
SIZE = 4096


def best_seconds(product: Callable[[], object], repeats: int = 3) -> float:
    product()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        timings.append(time.perf_counter() - start)
    return min(timings)


def libraries() -> dict[str, Callable[[], Callable[[], object]]]:
    """Each library's product of two random SIZE x SIZE float32 matrices, ready to time."""
    def torch_product():
        import torch
        torch.set_num_threads(os.cpu_count())
        a, b = torch.rand(SIZE, SIZE), torch.rand(SIZE, SIZE)
        return lambda: torch.matmul(a, b)

    def tensorflow_product():
        import tensorflow as tf
        a, b = tf.random.uniform([SIZE, SIZE]), tf.random.uniform([SIZE, SIZE])
        return lambda: tf.matmul(a, b).numpy()

    def numpy_product():
        rng = np.random.default_rng(0)
        a, b = rng.random((SIZE, SIZE), dtype=np.float32), rng.random((SIZE, SIZE), dtype=np.float32)
        return lambda: a @ b

    return {"PyTorch": torch_product, "TensorFlow": tensorflow_product, "numpy": numpy_product}


def main(argv: list[str]) -> int:
    flops = 2 * SIZE**3
    measured = {}
    for name, make in libraries().items():
        measured[name] = round(flops / best_seconds(make()) / 1e9, 1)
        print(f"{name:10} {measured[name]:7.1f} GFLOP/s", flush=True)
    fastest = max(measured, key=measured.get)
    record = {"gflops": measured[fastest], "library": fastest, "all": measured, "size": SIZE,
              "cores": os.cpu_count(), "cpu": cpu_name(),
              "date": date.today().isoformat()}
    (ROOT / "results" / "peak.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"peak: {measured[fastest]} GFLOP/s with {fastest}; wrote results/peak.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
