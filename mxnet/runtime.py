"""What it takes to run MXNet 1.9.1 (2022) on today's numpy and CPUs: imported once, before `import mxnet`.

- MXNet 1.9.1 still uses `np.bool`, an alias numpy 1.24 removed: it is restored; nothing else is patched.
- Importing MXNet sets its OpenMP threads to 1 unless `OMP_NUM_THREADS` says otherwise: we set it to the
  number of cores, as the other frameworks use every core.
- On x86-64 Linux the CPU's flush-to-zero mode is switched on, and the threads MXNet starts inherit it.
  Adam's running averages of squared gradients decay, for weights that seldom get a gradient, below
  float32's smallest normal number (about 1.2e-38) into subnormal numbers, which x86 CPUs compute many
  times slower: the epochs grew longer as training went on (measured in README.md). TensorFlow sets this
  mode in its own threads; MXNet has no setting for it, so we ask the C library through `ctypes`. Only
  results below 1.2e-38 change: they become 0.
- Where MXNet has no wheel (Apple Silicon Macs, Windows), the import stops with a sentence saying what to do.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import platform

import numpy as np

MXCSR_FLUSH_TO_ZERO = 0x8000


def flush_subnormals_to_zero() -> None:
    """Set the flush-to-zero bit of SSE's MXCSR register for this thread and the threads it starts."""
    libm = ctypes.CDLL("libm.so.6")
    fenv = (ctypes.c_uint32 * 8)()  # glibc's fenv_t: the x87 state, then MXCSR in the last 4 bytes
    libm.fegetenv(fenv)
    fenv[7] |= MXCSR_FLUSH_TO_ZERO
    libm.fesetenv(fenv)


def no_wheel(system: str, machine: str) -> str:
    return (f"MXNet 1.9.1 has no wheel for {system} on {machine}: on an Apple Silicon Mac run this "
            "notebook in a Linux container or under Rosetta 2, on Windows in WSL (README.md, Platforms)")


np.bool = bool
os.environ["OMP_NUM_THREADS"] = str(os.cpu_count())
if platform.system() == "Linux" and platform.machine() == "x86_64":
    flush_subnormals_to_zero()
if importlib.util.find_spec("mxnet") is None:
    raise ImportError(no_wheel(platform.system(), platform.machine()))
