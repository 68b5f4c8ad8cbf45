"""What the PyTorch notebooks set around PyTorch itself: imported once, before `import torch`.

- Subnormal numbers are flushed to zero (`torch.set_flush_denormal`), the policy every notebook keeps
  (README.md, "Fair speed"): Adam's running averages of squared gradients decay, for weights that seldom get a
  gradient, below float32's smallest normal number (about 1.2e-38), which x86 CPUs compute many times slower.
  Only results below 1.2e-38 change: they become 0.
- `full_float32()`: the two checks ("same weights, same numbers", "same gradients, same step") compute in full
  float32 on every device. On Ampere and newer NVIDIA GPUs cuDNN computes float32 convolutions and recurrent
  layers in TensorFloat-32 (a 10-bit mantissa) by default; inside `full_float32()` matrix products,
  convolutions and recurrent layers use IEEE float32, and PyTorch's settings come back afterwards. Training
  keeps PyTorch's defaults. On the CPU there is nothing to switch.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

SWITCHES = (torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn)


@contextlib.contextmanager
def full_float32() -> Iterator[None]:
    """IEEE float32 for matrix products, convolutions and recurrent layers inside the block."""
    saved = [switch.fp32_precision for switch in SWITCHES]
    for switch in SWITCHES:
        switch.fp32_precision = "ieee"
    try:
        yield
    finally:
        for switch, precision in zip(SWITCHES, saved):
            switch.fp32_precision = precision


torch.set_flush_denormal(True)
