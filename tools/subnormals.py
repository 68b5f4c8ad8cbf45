"""Flush subnormal numbers to zero on x86-64 Linux: what mxnet/runtime.py and theano/runtime.py load, for the
frameworks that have no setting of their own (PyTorch has `torch.set_flush_denormal`; TensorFlow and XLA set
the mode in their own threads).

Adam's running averages of squared gradients decay, for weights that seldom get a gradient, below float32's
smallest normal number (about 1.2e-38) into subnormal numbers, which x86 CPUs compute many times slower. The
CPU's flush-to-zero mode (the FTZ bit of SSE's MXCSR register) makes such results 0; only results below
1.2e-38 change. The mode is set for the calling thread, and the threads it starts afterwards inherit it.
"""
from __future__ import annotations

import ctypes
import platform

MXCSR_FLUSH_TO_ZERO = 0x8000


def flush_to_zero() -> bool:
    """Set the flush-to-zero bit for this thread and the threads it starts; False where this is not x86-64 Linux."""
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        return False
    libm = ctypes.CDLL("libm.so.6")
    fenv = (ctypes.c_uint32 * 8)()  # glibc's fenv_t: the x87 state, then MXCSR in the last 4 bytes
    libm.fegetenv(fenv)
    fenv[7] |= MXCSR_FLUSH_TO_ZERO
    libm.fesetenv(fenv)
    return True
