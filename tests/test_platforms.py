"""A framework that has no wheel for the platform: its notebooks stop with one sentence, the suite skips them."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from nbtools import ROOT, cells, source


def root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_framework_that_is_not_installed_is_named_with_the_reason(monkeypatch):
    conftest = root_conftest()
    real = importlib.util.find_spec
    monkeypatch.setattr(conftest.importlib.util, "find_spec", lambda name: None if name == "mxnet" else real(name))
    reason = conftest.missing_framework("mxnet")
    assert reason and reason.startswith("mxnet is not installed: it has no wheel for") and "Platforms" in reason
    assert conftest.missing_framework("pytorch") is None and conftest.missing_framework("tests") is None


@pytest.mark.parametrize("notebook", ["mxnet/01-mnist-fcn.ipynb", "mxnet/02-mnist-cnn.ipynb", "mxnet/03-mnist-rnn.ipynb"])
def test_mxnet_notebooks_stop_in_their_first_cell_with_one_sentence(notebook):
    first = next(source(c) for c in cells(ROOT / notebook) if c["cell_type"] == "code")
    program = f"import sys\nsys.modules['mxnet'] = None  # import mxnet fails, as where no wheel exists\nexec({first!r})"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT / "mxnet")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: MXNet 1.9.1 has no wheel for ") and "Linux container" in last and "WSL" in last
    assert "During handling" not in done.stderr  # the sentence, not a chain of tracebacks


def test_theano_notebooks_start_without_a_compiler(tmp_path):
    """The g++ and OpenBLAS probe of theano/runtime.py answers False, without an error, where g++ is missing,
    and Theano's flags say so."""
    program = ("import os, runtime\n"
               "print(runtime.builds_with('-fopenmp'), runtime.builds_with('-lopenblas'), os.environ['THEANO_FLAGS'])")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT / "theano",
                          env={"PATH": str(tmp_path)})  # no g++ on this PATH
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 2)[:2] == ["False", "False"] and "openmp=False" in done.stdout


def test_the_pins_resolve_for_every_supported_platform_and_the_readme_says_so():
    """`make platforms --check`; skipped only when the package index cannot be reached."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "platforms.py"), "--check"], capture_output=True,
                          text=True, encoding="utf-8")
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout + done.stderr


def test_make_uses_the_python_it_is_given_and_says_how_to_get_one(tmp_path):
    """`make test PYTHON=...` builds the venv with that Python; the version check names a way to get 3.11."""
    done = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), ".venv/.installed", "PYTHON=/elsewhere/python3.11"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "/elsewhere/python3.11 -c" in done.stdout and "/elsewhere/python3.11 -m venv" in done.stdout
    assert "uv python install 3.11" in done.stdout


def test_the_workflow_runs_on_the_three_supported_platforms():
    workflow = (ROOT / ".github" / "workflows" / "test.yml").read_text(encoding="utf-8")
    assert "os: [ubuntu-24.04, ubuntu-24.04-arm, macos-14]" in workflow and "runs-on: ${{ matrix.os }}" in workflow


def test_a_supported_platform_that_does_not_resolve_fails_the_check(monkeypatch, capsys):
    platforms = importlib.import_module("platforms")
    monkeypatch.setattr(platforms, "resolve", lambda target: "no: no wheel of x==1" if "apple" in target else "resolves")
    monkeypatch.setattr(platforms, "with_table", lambda readme, text: readme)  # README.md as it is
    assert platforms.main(["--check"]) == 1  # an unsupported platform (Intel Macs) that fails is only reported
    assert capsys.readouterr().err == "platforms: the pins do not resolve for macOS 14+ arm64 (Apple Silicon)\n"
