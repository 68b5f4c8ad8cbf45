"""What the Keras notebooks need around Keras itself: imported once, before `import keras`.

- On the JAX backend, XLA's XNNPACK kernels are switched off (`XLA_FLAGS`, read when JAX loads): with them,
  JAX 0.7.1 computes Keras's compiled training step wrongly on some x86-64 CPUs, and the network learns
  far less than on the other backends (measured in README.md). A user's own XLA_FLAGS are kept.
- `backend_and_device()` imports the backend's own library (for its version) and asks it for its device:
  every backend puts the work on a GPU by itself when it sees one. On the torch backend it also tells
  PyTorch to use every core, as the PyTorch notebooks do; TensorFlow and JAX do by default.
"""
from __future__ import annotations

import os
from types import ModuleType


def with_xnnpack_off(xla_flags: str | None) -> str:
    return " ".join(filter(None, [xla_flags, "--xla_cpu_use_xnnpack=false"]))


def backend_and_device(backend: str) -> tuple[ModuleType, str]:
    """The backend's library and the device it computes on: "gpu"/"cuda" when it sees one, else "cpu"."""
    if backend == "tensorflow":
        import tensorflow

        return tensorflow, "gpu" if tensorflow.config.list_physical_devices("GPU") else "cpu"
    if backend == "jax":
        import jax

        return jax, jax.default_backend()
    import torch

    torch.set_num_threads(os.cpu_count())
    return torch, "cuda" if torch.cuda.is_available() else "cpu"


if os.environ.get("KERAS_BACKEND") == "jax":
    os.environ["XLA_FLAGS"] = with_xnnpack_off(os.environ.get("XLA_FLAGS"))
