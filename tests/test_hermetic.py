"""`make test` means the same in any shell: the suite sets what the notebooks read and names every encoding."""
from __future__ import annotations

import os
import subprocess
import sys

from nbtools import ROOT

# What a user's shell may export: another data folder, another Keras backend, Theano flags, full runs, and a
# locale whose encoding is ASCII (C without Python's UTF-8 mode), where any text read or written without an
# encoding fails on the notebooks' "—".
HOSTILE = {"MNIST_DATA_DIR": "/nonexistent/mnist", "KERAS_BACKEND": "jax", "THEANO_FLAGS": "device=cuda,floatX=float64",
           "POLYDLOT_SMOKE": "0", "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
CHECKS = ["tests/test_contract.py", "tests/test_loader.py", "tests/test_results_table.py", "tests/test_links.py",
          "tests/test_parity_cell.py::test_floors_are_the_contracts_and_the_check_holds_them",
          "tests/test_papermill.py::test_papermill_runs_write_their_record_elsewhere",
          "tests/test_hermetic.py::test_the_suite_sets_what_the_notebooks_read"]


def test_the_suite_sets_what_the_notebooks_read():
    assert os.environ["POLYDLOT_SMOKE"] == "1" and os.environ["PYTHONUTF8"] == "1"
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert not {"MNIST_DATA_DIR", "THEANO_FLAGS", "LC_ALL", "POLYDLOT_TEST_KERAS_BACKEND"} & set(os.environ)


def test_the_contract_checks_pass_with_a_hostile_environment():
    env = {**os.environ, **HOSTILE}
    encoding = subprocess.run([sys.executable, "-c", "import locale; print(locale.getpreferredencoding())"],
                              env=env, capture_output=True, text=True).stdout.strip()
    assert encoding in ("ANSI_X3.4-1968", "US-ASCII", "ascii"), f"the locale under test reads {encoding}, not ASCII"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS], cwd=ROOT,
                          env=env, capture_output=True, text=True, encoding="utf-8", errors="replace")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
