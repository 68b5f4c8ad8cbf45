"""What the JAX notebooks set around JAX itself: imported once, before `import jax`.

- XLA's XNNPACK kernels are switched off on the CPU (`XLA_FLAGS`, read when JAX loads): with them, JAX 0.7.1
  computes a compiled training step wrongly on some x86-64 CPUs (found for Keras on JAX, keras/README.md).
  A user's own XLA_FLAGS are kept.
- `full_float32()`: the two checks ("same weights, same numbers", "same gradients, same step") compute in full
  float32 on every device. On NVIDIA GPUs JAX computes float32 matrix products and convolutions in
  TensorFloat-32 (a 10-bit mantissa) by default; inside `full_float32()` it does not
  (`jax_default_matmul_precision`), and the setting comes back afterwards. Training keeps JAX's default. On
  the CPU there is nothing to switch.
- Subnormal numbers: XLA flushes them to zero in its own threads, the policy every notebook keeps.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def with_xnnpack_off(xla_flags: str | None) -> str:
    return " ".join(filter(None, [xla_flags, "--xla_cpu_use_xnnpack=false"]))


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """Full float32 matrix products and convolutions inside the block."""
    import jax

    precision = jax.config.jax_default_matmul_precision
    jax.config.update("jax_default_matmul_precision", "float32")
    try:
        yield
    finally:
        jax.config.update("jax_default_matmul_precision", precision)


os.environ["XLA_FLAGS"] = with_xnnpack_off(os.environ.get("XLA_FLAGS"))
