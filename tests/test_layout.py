"""What a reader meets first (contract, "Side by side"): the framework on the first screen, lines that fit
GitHub and side-by-side panes, and what old frameworks need on today's Python kept in `runtime.py`."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nbtools import NOTEBOOKS, ROOT, cells, source

ALL = NOTEBOOKS + [ROOT / "traps.ipynb", ROOT / "compare.ipynb"]
MAX_LINE = 100
MAX_BEFORE_MODEL = 60
# Every folder's runtime.py, and the module it is imported before
RUNTIMES = {"keras": "keras", "tensorflow": "tensorflow", "pytorch": "torch", "jax": "flax", "mxnet": "mxnet",
            "theano": "theano"}


def code_lines_before_model(path) -> int:
    count = 0
    for cell in cells(path):
        if cell["cell_type"] == "markdown" and source(cell).startswith("## The model"):
            return count
        if cell["cell_type"] == "code":
            count += sum(1 for line in source(cell).splitlines() if line.strip())
    raise AssertionError(f"{path.name} has no '## The model' heading")


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(ROOT)) for p in ALL])
def test_no_code_line_is_longer_than_100_characters(path):
    long = [f"code cell {i}: {len(line)} characters: {line.strip()[:50]}..." for i, c in enumerate(cells(path))
            if c["cell_type"] == "code" for line in source(c).splitlines() if len(line) > MAX_LINE]
    assert not long, f"{path.name}: {long}"


def test_the_line_counter_counts_code_only(tmp_path):
    import json
    notebook = {"cells": [{"cell_type": "markdown", "source": "# Title\n\nprose"},
                          {"cell_type": "code", "source": "import os\n\nx = 1\n"},
                          {"cell_type": "markdown", "source": "## The model\nthe net"},
                          {"cell_type": "code", "source": "net = 1\n"}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert code_lines_before_model(path) == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_the_model_comes_within_60_code_lines(path):
    assert code_lines_before_model(path) <= MAX_BEFORE_MODEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_the_papermill_advice_names_the_notebooks_own_folder(path):
    prose = " ".join(source(cell) for cell in cells(path) if cell["cell_type"] == "markdown")
    assert re.findall(r"--cwd (\w+)", prose) == [path.parent.name]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_runtime_is_imported_in_one_line_before_the_framework_and_linked(path):
    folder = path.parent.name
    imports = source(next(c for c in cells(path) if c["cell_type"] == "code"))
    prose = next(source(c) for c in cells(path) if source(c).startswith("## Imports and device"))
    if folder not in RUNTIMES:
        assert "runtime" not in imports and not (path.parent / "runtime.py").exists()
        return
    lines = imports.splitlines()
    first_framework = next(i for i, line in enumerate(lines) if line.startswith(f"import {RUNTIMES[folder]}"))
    assert lines[first_framework - 1].startswith("import runtime  # "), imports
    assert "[runtime.py](runtime.py)" in prose


def run_runtime(folder: str, code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("THEANO_FLAGS", "XLA_FLAGS", "KERAS_BACKEND")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT / folder, env=environment | env,
                          capture_output=True, text=True, timeout=120)


def test_theano_runtime_writes_defaults_that_the_users_flags_override():
    done = run_runtime("theano", "import os, numpy, runtime; print(os.environ['THEANO_FLAGS']); "
                                 "print(numpy.bool is bool, numpy.complex is complex)",
                       THEANO_FLAGS="floatX=float64")
    assert done.returncode == 0, done.stderr
    flags, aliases = done.stdout.splitlines()
    assert flags.startswith("device=cpu,floatX=float32,") and flags.endswith(",floatX=float64")
    assert aliases == "True True"


def test_theano_runtime_picks_openblas_kernels_from_the_cpu_flags():
    done = run_runtime("theano", "import runtime; print(runtime.openblas_coretype(['fpu', 'avx2', 'avx512f']), "
                                 "runtime.openblas_coretype(['avx2']), runtime.openblas_coretype(['sse2']))")
    assert done.stdout.split() == ["SkylakeX", "Haswell", "None"], done.stderr


def test_theano_runtime_lets_scan_import_without_pkg_resources():
    """setuptools 81 removed pkg_resources, which theano.scan's import of the GPU back end needs."""
    done = run_runtime("theano", "import runtime, theano, theano.tensor as T\n"
                                 "result, _ = theano.scan(lambda a: a * 2, sequences=T.vector())\n"
                                 "print(type(result).__name__)")
    assert done.returncode == 0 and done.stdout.strip() == "TensorVariable", done.stderr[-2000:]


def test_mxnet_runtime_says_what_to_do_where_mxnet_has_no_wheel():
    code = ("import importlib.util; importlib.util.find_spec = lambda name, *args: None\n"
            "import runtime")
    done = run_runtime("mxnet", code)
    assert done.returncode != 0
    assert "ImportError: MXNet 1.9.1 has no wheel for" in done.stderr and "Rosetta 2" in done.stderr


def test_mxnet_runtime_gives_openmp_every_core():
    done = run_runtime("mxnet", "import os, runtime; print(os.environ['OMP_NUM_THREADS'], os.cpu_count())")
    if done.returncode != 0 and "no wheel" in done.stderr:
        pytest.skip("MXNet is not installed here")
    threads, cores = done.stdout.split()
    assert threads == cores


@pytest.mark.parametrize("backend, flags", [("jax", "--xla_cpu_use_xnnpack=false"), ("torch", "unset")])
def test_keras_runtime_switches_xnnpack_off_on_jax_only(backend, flags):
    done = run_runtime("keras", "import os, runtime; print(os.environ.get('XLA_FLAGS', 'unset'))",
                       KERAS_BACKEND=backend)
    assert done.stdout.strip() == flags, done.stderr


def test_jax_runtime_switches_xnnpack_off_and_keeps_the_users_xla_flags():
    done = run_runtime("jax", "import os, runtime; print(os.environ['XLA_FLAGS'])")
    assert done.stdout.strip() == "--xla_cpu_use_xnnpack=false", done.stderr
    done = run_runtime("jax", "import os, runtime; print(os.environ['XLA_FLAGS'])", XLA_FLAGS="--xla_dump_to=/tmp/x")
    assert done.stdout.strip() == "--xla_dump_to=/tmp/x --xla_cpu_use_xnnpack=false", done.stderr


def test_keras_runtime_keeps_the_users_xla_flags():
    done = run_runtime("keras", "import os, runtime; print(os.environ['XLA_FLAGS'])",
                       KERAS_BACKEND="jax", XLA_FLAGS="--xla_dump_to=/tmp/x")
    assert done.stdout.strip() == "--xla_dump_to=/tmp/x --xla_cpu_use_xnnpack=false", done.stderr
