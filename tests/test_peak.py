"""tools/peak.py: the fastest library's float32 matrix product is the peak that results/bench.json records."""

import numpy as np
import pytest

import peak


def test_every_library_multiplies_matrices_of_the_size_asked(monkeypatch):
    monkeypatch.setattr(peak, "SIZE", 64)
    for name, make in peak.libraries().items():
        product = np.asarray(make()())
        assert product.shape == (64, 64), name
        assert product.min() > 0, name  # products of matrices of positive numbers


def test_the_fastest_library_is_the_peak(monkeypatch):
    monkeypatch.setattr(peak, "libraries", lambda: {"slow": lambda: "slow", "fast": lambda: "fast"})
    monkeypatch.setattr(peak, "best_seconds", {"slow": 2.0, "fast": 0.5}.get)
    monkeypatch.setattr(peak, "cpu_name", lambda: "Test CPU")
    record = peak.measure()
    assert record["library"] == "fast" and record["gflops"] == pytest.approx(2 * peak.SIZE ** 3 / 0.5 / 1e9, abs=0.1)
    assert record["cpu"] == "Test CPU"
    assert record["all"] == {"slow": pytest.approx(2 * peak.SIZE ** 3 / 2.0 / 1e9, abs=0.1), "fast": record["gflops"]}


def test_the_best_of_the_repeats_is_kept(monkeypatch):
    clock = iter([0.0, 3.0, 3.0, 4.0, 4.0, 6.0])  # (start, end) of each of the three timed products: 3, 1, 2 s
    calls = []
    monkeypatch.setattr(peak.time, "perf_counter", lambda: next(clock))
    assert peak.best_seconds(lambda: calls.append(1)) == 1.0
    assert len(calls) == 4  # a warm-up, then three timed
