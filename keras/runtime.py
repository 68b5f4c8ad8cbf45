"""What the Keras notebooks need around Keras itself: imported once, before `import keras`.

- On the JAX backend, XLA's XNNPACK kernels are switched off (`XLA_FLAGS`, read when JAX loads): with them,
  JAX 0.7.1 computes Keras's compiled training step wrongly on some x86-64 CPUs, and the network learns
  far less than on the other backends (measured in README.md). A user's own XLA_FLAGS are kept.
- On the TensorFlow backend, oneDNN's kernels are switched on for every CPU (`TF_ENABLE_ONEDNN_OPTS=1`, read
  when TensorFlow loads), as in the TensorFlow notebooks: TensorFlow turns them on by itself only on CPUs with
  AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX (README.md, "Fair speed"). A value the user set wins.
- `backend_and_device()` imports the backend's own library (for its version) and asks it for its device:
  every backend puts the work on a GPU by itself when it sees one. On the torch backend it also tells
  PyTorch to use every core, as the PyTorch notebooks do (TensorFlow and JAX do by default), and to flush
  subnormal numbers to zero, the policy of every notebook (TensorFlow and XLA do it in their own threads).
- `full_float32(backend)`: the two checks ("same weights, same numbers", "same gradients, same step") compute
  in full float32 on every device. On Ampere and newer NVIDIA GPUs each backend may use TensorFloat-32 (a
  10-bit mantissa) for float32 products by default (TensorFlow and JAX for matrix products and convolutions,
  PyTorch for cuDNN's convolutions and recurrent layers); inside `full_float32()` none does, and the
  backend's settings come back afterwards. Training keeps the backend's defaults. The switch is the backend
  framework's own `full_float32`, from the runtime.py of its notebooks.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
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
    torch.set_flush_denormal(True)
    return torch, "cuda" if torch.cuda.is_available() else "cpu"


FRAMEWORK_FOLDERS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "pytorch"}


def full_float32(backend: str) -> contextlib.AbstractContextManager:
    """No TensorFloat-32 in the backend inside the block: the backend framework's own switch, from the
    runtime.py of that framework's notebooks (tensorflow/, jax/, pytorch/), so that each lives in one place."""
    path = Path(__file__).resolve().parent.parent / FRAMEWORK_FOLDERS[backend] / "runtime.py"
    spec = importlib.util.spec_from_file_location(f"{FRAMEWORK_FOLDERS[backend]}_runtime", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.full_float32()


if os.environ.get("KERAS_BACKEND") == "jax":
    os.environ["XLA_FLAGS"] = with_xnnpack_off(os.environ.get("XLA_FLAGS"))
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
