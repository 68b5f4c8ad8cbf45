"""Test-wide settings: every notebook runs in smoke mode, whatever the user's shell exported, and the run ends
with seconds per notebook."""
import importlib.util
import os
import platform
from collections import defaultdict

import pytest

# The suite sets every variable the notebooks read, so that `make test` means the same in any shell: smoke
# runs on the repository's data/, Keras on its default TensorFlow backend, Theano with the notebooks' own
# flags, and the C locale with Python reading and writing UTF-8 (the suite's own code names its encoding).
# tests/test_keras_backends.py runs the Keras notebooks again in a suite of their own on another backend, and
# names it in POLYDLOT_TEST_KERAS_BACKEND, which only the suite sets.
HERMETIC = {"POLYDLOT_SMOKE": "1", "PYTHONUTF8": "1",
            "KERAS_BACKEND": os.environ.pop("POLYDLOT_TEST_KERAS_BACKEND", "tensorflow")}
UNSET = ("MNIST_DATA_DIR", "THEANO_FLAGS", "LC_ALL", "LC_CTYPE", "LANG", "LANGUAGE")
for name in UNSET:
    os.environ.pop(name, None)
os.environ.update(HERMETIC)

# The module each notebook folder imports. A framework with no wheel for this platform (MXNet on an Apple Silicon
# Mac, README.md "Platforms") is not installed there: every test that runs its notebooks is skipped, saying so.
MODULES = {"keras": "keras", "tensorflow": "tensorflow", "pytorch": "torch", "jax": "flax", "mxnet": "mxnet",
           "theano": "theano"}


def missing_framework(folder: str) -> str | None:
    """Why the notebooks of `folder` cannot run here, or None when they can."""
    module = MODULES.get(folder)
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return (f"{module} is not installed: it has no wheel for {platform.system()} on {platform.machine()} "
            "(README.md, Platforms)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path if item.path.suffix == ".ipynb" else None
        if path is None and item.get_closest_marker("runs_notebook") and hasattr(item, "callspec"):
            path = item.callspec.params.get("path")
        reason = missing_framework(path.parent.name) if path is not None else None
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if _notebook_seconds:
        terminalreporter.section("seconds per notebook (smoke mode)")
        for path, seconds in sorted(_notebook_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
        terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  all notebooks")
