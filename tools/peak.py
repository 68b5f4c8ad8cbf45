"""Measure this machine's float32 matrix-product peak, for the README's "% of peak" column.

Usage: python tools/peak.py
  times a 4096 x 4096 float32 product (2 * 4096**3 floating-point operations) with each library of the
  environment that has one (PyTorch, TensorFlow, JAX, numpy), best of 3 after a warm-up, on all cores, and
  prints each and the fastest. `make bench` measures it the same way (`measure()`) at its start and keeps it in
  results/bench.json, so that % of peak sets the race's epochs against the peak of the machine they ran on.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import date
from typing import Callable

import numpy as np

from run_notebooks import cpu_name

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

    def jax_product():
        import jax
        a, b = jax.random.uniform(jax.random.key(0), (2, SIZE, SIZE))
        return lambda: jax.block_until_ready(a @ b)

    def numpy_product():
        rng = np.random.default_rng(0)
        a, b = rng.random((SIZE, SIZE), dtype=np.float32), rng.random((SIZE, SIZE), dtype=np.float32)
        return lambda: a @ b

    return {"PyTorch": torch_product, "TensorFlow": tensorflow_product, "JAX": jax_product, "numpy": numpy_product}


def measure() -> dict:
    """Each library's GFLOP/s, the fastest, and the machine (what bench.json keeps)."""
    flops = 2 * SIZE**3
    measured = {}
    for name, make in libraries().items():
        measured[name] = round(flops / best_seconds(make()) / 1e9, 1)
        print(f"{name:10} {measured[name]:7.1f} GFLOP/s", flush=True)
    fastest = max(measured, key=measured.get)
    return {"gflops": measured[fastest], "library": fastest, "all": measured, "size": SIZE,
            "cores": os.cpu_count(), "cpu": cpu_name(), "date": date.today().isoformat()}


def main(argv: list[str]) -> int:
    record = measure()
    print(f"peak: {record['gflops']} GFLOP/s with {record['library']} on {record['cpu']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
