"""What it takes to run Theano 1.0.5 (2020) on today's Python, numpy and CPUs: imported once, before `import theano`.

- numpy 1.24 removed the aliases `np.bool` and `np.complex`, which Theano still uses: they are restored.
- Theano reads `THEANO_FLAGS` when it is imported, so the defaults go there first: float32 on the CPU,
  OpenMP when the compiler supports it (Apple's clang does not), intermediate arrays kept between calls
  (`allow_gc=False`), and OpenBLAS for matrix products when `g++` links it (else Theano's slower fallback
  through numpy). Flags the user set come after ours and win.
- OpenBLAS names its kernels from the CPU's instruction sets unless `OPENBLAS_CORETYPE` is set, and its own
  detection misses some newer Xeons; we set it from `/proc/cpuinfo` (unless the user did).
- OpenMP uses every core, OpenBLAS one thread per call (Theano's own ops are the parallel part). The recurrent
  network's per-step products and gate arrays (128 rows by 512) are too small for that: with these defaults one
  core did its work, so its notebook calls `share_small_ops()` (OpenBLAS on every core, OpenMP from 10,000
  elements), which the other two networks run slower with (README.md).
- On x86-64 Linux the CPU's flush-to-zero mode is switched on (tools/subnormals.py), the policy of every
  notebook: Adam's running averages decay into subnormal numbers, which x86 CPUs compute many times slower.
- Theano walks its graphs recursively when it optimises and pickles them; the recurrent network's 28 unrolled
  steps nest deeper than Python's default recursion limit (1,000), so the limit is raised to 10,000.
- `theano.scan` imports Theano's GPU back end, whose `linalg` module imports `pkg_resources` for one
  exception class, `DistributionNotFound`; setuptools 81 removed `pkg_resources`. Where it is missing, a
  module with only that class stands in for it.
- `scan`'s compiled loop is C code that Cython 0.28 generated in 2018, which no longer compiles against
  Python 3.11 (it includes `longintrepr.h`, which 3.11 moved into `cpython/`). Theano falls back to its Python loop when that module cannot be imported, but not
  when its compilation fails, so the module is marked as missing: each step still runs the compiled inner
  function, and only the loop over the 28 steps is Python.

The measurements behind these settings are in README.md.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

np.bool = bool
np.complex = complex


def builds_with(flag: str) -> bool:
    """Whether g++ (Apple's clang on a Mac) builds a shared library with this flag."""
    return shutil.which("g++") is not None and subprocess.run(
        ["g++", "-x", "c++", "-shared", "-o", os.devnull, "-", flag], input=b"", capture_output=True
    ).returncode == 0


def openblas_coretype(cpu_flags: list[str]) -> str | None:
    """The OpenBLAS kernel family for a CPU with these /proc/cpuinfo flags (None: let OpenBLAS decide)."""
    if "avx512f" in cpu_flags:
        return "SkylakeX"
    if "avx2" in cpu_flags:
        return "Haswell"
    return None


def theano_flags(openmp: bool, openblas: bool, user_flags: str | None) -> str:
    """Our defaults, then the user's flags (Theano takes the last value of a flag given twice)."""
    defaults = (f"device=cpu,floatX=float32,openmp={openmp},allow_gc=False,"
                f"blas.ldflags={'-lopenblas' if openblas else ''}")
    return ",".join(filter(None, [defaults, user_flags]))


def blas() -> str:
    """The BLAS Theano was configured with, in words (call after `import theano`)."""
    import theano

    ldflags = theano.config.blas.ldflags
    if ldflags != "-lopenblas":  # our default, unless THEANO_FLAGS names another BLAS
        return ldflags or "none (numpy C-API fallback)"
    openblas = ctypes.CDLL(ctypes.util.find_library("openblas"))
    openblas.openblas_get_corename.restype = ctypes.c_char_p
    return f"OpenBLAS with its {openblas.openblas_get_corename().decode()} kernels"


def share_small_ops() -> None:
    """OpenBLAS on every core and OpenMP from 10,000 elements, for compiling what follows (call after `import
    theano`), unless the user set OpenBLAS's threads or Theano's OpenMP threshold."""
    import theano

    if "openmp_elemwise_minsize" not in (USER_FLAGS or ""):
        theano.config.openmp_elemwise_minsize = 10_000
    if not USER_THREADS and theano.config.blas.ldflags == "-lopenblas":
        ctypes.CDLL(ctypes.util.find_library("openblas")).openblas_set_num_threads(int(THREADS))


def pkg_resources_stand_in() -> types.ModuleType:
    """All of `pkg_resources` that Theano 1.0.5 uses: the exception its GPU back end catches."""
    module = types.ModuleType("pkg_resources", "Stand-in for setuptools' removed pkg_resources (runtime.py)")
    module.DistributionNotFound = type("DistributionNotFound", (Exception,), {})
    return module


SUBNORMALS = Path(__file__).resolve().parent.parent / "tools" / "subnormals.py"
subnormals = importlib.util.module_from_spec(importlib.util.spec_from_file_location("subnormals", SUBNORMALS))
subnormals.__spec__.loader.exec_module(subnormals)
subnormals.flush_to_zero()
if importlib.util.find_spec("pkg_resources") is None:
    sys.modules["pkg_resources"] = pkg_resources_stand_in()
sys.modules["theano.scan_module.scan_perform_ext"] = None  # `import` raises ImportError: Python loop
cpuinfo = Path("/proc/cpuinfo")
coretype = openblas_coretype(cpuinfo.read_text().split() if cpuinfo.is_file() else [])
if coretype:
    os.environ.setdefault("OPENBLAS_CORETYPE", coretype)
USER_FLAGS, USER_THREADS = os.environ.get("THEANO_FLAGS"), "OPENBLAS_NUM_THREADS" in os.environ
os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count()))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["THEANO_FLAGS"] = theano_flags(builds_with("-fopenmp"), builds_with("-lopenblas"), USER_FLAGS)
THREADS = os.environ["OMP_NUM_THREADS"]
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
