"""What it takes to run MXNet 1.9.1 (2022) on today's numpy and CPUs: imported once, before `import mxnet`.

- MXNet 1.9.1 still uses `np.bool`, an alias numpy 1.24 removed: it is restored; nothing else is patched.
- Importing MXNet sets its OpenMP threads to 1 unless `OMP_NUM_THREADS` says otherwise: we set it to the
  number of cores, as the other frameworks use every core.
- On x86-64 Linux the CPU's flush-to-zero mode is switched on, and the threads MXNet starts inherit it.
  Adam's running averages of squared gradients decay, for weights that seldom get a gradient, below
  float32's smallest normal number (about 1.2e-38) into subnormal numbers, which x86 CPUs compute many
  times slower: the epochs grew longer as training went on (measured in README.md). TensorFlow sets this
  mode in its own threads; MXNet has no setting for it, so tools/subnormals.py asks the C library through
  `ctypes`, as for Theano. Only results below 1.2e-38 change: they become 0.
- Where MXNet has no wheel (Apple Silicon Macs, Windows), the import stops with a sentence saying what to do.
- `check_device(device)`: where the two checks ("same weights, same numbers", "same gradients, same step")
  compute, in full float32. MXNet's CUDA builds use TensorFloat-32 (a 10-bit mantissa) for float32 on Ampere
  and newer GPUs, and MXNet 1.9.1 has no switch for it: only `NVIDIA_TF32_OVERRIDE=0`, set before the notebook
  starts, turns it off, for the whole process. With it the checks run on the GPU; without it, on the CPU.
  Training keeps MXNet's default.
"""
from __future__ import annotations

import importlib.util
import os
import platform
from pathlib import Path

import numpy as np


def check_device(device):
    """The context the checks compute on in full float32: `device`, unless that is a GPU using TensorFloat-32."""
    import mxnet

    return device if os.environ.get("NVIDIA_TF32_OVERRIDE") == "0" else mxnet.cpu()


def no_wheel(system: str, machine: str) -> str:
    return (f"MXNet 1.9.1 has no wheel for {system} on {machine}: on an Apple Silicon Mac run this "
            "notebook in a Linux container or under Rosetta 2, on Windows in WSL (README.md, Platforms)")


np.bool = bool
os.environ["OMP_NUM_THREADS"] = str(os.cpu_count())
SUBNORMALS = Path(__file__).resolve().parent.parent / "tools" / "subnormals.py"
subnormals = importlib.util.module_from_spec(importlib.util.spec_from_file_location("subnormals", SUBNORMALS))
subnormals.__spec__.loader.exec_module(subnormals)
subnormals.flush_to_zero()
if importlib.util.find_spec("mxnet") is None:
    raise ImportError(no_wheel(platform.system(), platform.machine()))
