"""What the TensorFlow notebooks set around TensorFlow itself: imported once, before `import tensorflow`.

- oneDNN's kernels on every CPU (`TF_ENABLE_ONEDNN_OPTS=1`, read when TensorFlow loads). Since 2.9 TensorFlow
  turns them on by itself only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX, so on others (an AMD
  EPYC before Zen 4, say) it ran its generic Eigen kernels while PyTorch and MXNet ran oneDNN's on the same CPU
  (README.md, "Fair speed"). A value the user set wins.
- `full_float32()`: the two checks ("same weights, same numbers", "same gradients, same step") compute in full
  float32 on every device. On Ampere and newer NVIDIA GPUs TensorFlow computes float32 matrix products and
  convolutions in TensorFloat-32 (a 10-bit mantissa) by default; inside `full_float32()` it does not, and the
  setting comes back afterwards. Training keeps TensorFlow's default. On the CPU there is nothing to switch.
- Subnormal numbers: TensorFlow flushes them to zero in its own threads, the policy every notebook keeps.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """No TensorFloat-32 inside the block."""
    import tensorflow as tf

    enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(enabled)


os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
