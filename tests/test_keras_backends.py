"""The Keras notebooks run unchanged on each of Keras 3's backends (TensorFlow runs with every notebook)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nbtools import EPOCHS, FLOOR, MODELS, PARAMETERS, ROOT

KERAS_NOTEBOOKS = sorted((ROOT / "keras").glob("0[123]-mnist-*.ipynb"))
SMOKE_RESULTS = Path(tempfile.gettempdir(), "polydlot-results")


@pytest.mark.skipif(not KERAS_NOTEBOOKS, reason="no Keras notebooks yet")
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_notebooks_run_on_backend(backend):
    started = time.time()
    env = {**os.environ, "POLYDLOT_TEST_KERAS_BACKEND": backend}  # conftest.py sets KERAS_BACKEND from it
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, KERAS_NOTEBOOKS)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    for model in MODELS:
        record = json.loads((SMOKE_RESULTS / f"keras-{backend}-{model}.json").read_text(encoding="utf-8"))
        assert record["backend"] == backend and record["smoke"] is True
        assert (SMOKE_RESULTS / f"keras-{backend}-{model}.json").stat().st_mtime >= started


@pytest.mark.skipif(not KERAS_NOTEBOOKS, reason="no Keras notebooks yet")
@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("model", list(MODELS))
def test_full_run_records_exist_for_every_backend(backend, model):
    record = json.loads((ROOT / "results" / f"keras-{backend}-{model}.json").read_text(encoding="utf-8"))
    assert record["backend"] == backend and record["smoke"] is False
    assert record["parameters"] == PARAMETERS[model] and record["epochs"] == EPOCHS[model]
    assert record["seed"] == 42 and record["train_rows"] == 54000 and record["test_accuracy"] >= FLOOR[model]
