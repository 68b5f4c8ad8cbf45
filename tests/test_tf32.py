"""Contract 6b: every parity cell computes in full float32 on a GPU too, and gives training its default back."""
import re

import pytest

from nbtools import NOTEBOOKS, ROOT, cells, source

ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
# (what switches TensorFloat-32 off, what puts the setting back) in each framework's parity cell
GUARDS = {
    "pytorch": [(r"matmul, (convolution|recurrent) = torch\.backends\.cuda\.matmul, torch\.backends\.cudnn\.(conv|rnn)\n"
                 r"tf32 = matmul\.fp32_precision, \1\.fp32_precision\n"
                 r'matmul\.fp32_precision = \1\.fp32_precision = "ieee"',
                 r"matmul\.fp32_precision, (convolution|recurrent)\.fp32_precision = tf32")],
    "tensorflow": [(r"enable_tensor_float_32_execution\(False\)", r"enable_tensor_float_32_execution\(tf32\)")],
    "keras": [(r"enable_tensor_float_32_execution\(False\)", r"enable_tensor_float_32_execution\(tf32\)"),
              (r'update\("jax_default_matmul_precision", "float32"\)', r'update\("jax_default_matmul_precision", tf32\)'),
              (r'engine\.backends\.cudnn\.(conv|rnn)\.fp32_precision = "ieee"',
               r"engine\.backends\.cuda\.matmul\.fp32_precision, engine\.backends\.cudnn\.(conv|rnn)\.fp32_precision = tf32")],
    "mxnet": [(r'parity_device = device if os\.environ\.get\("NVIDIA_TF32_OVERRIDE"\) == "0" else mx\.cpu\(\)',
               r"ctx=parity_device")],
    "theano": [],  # CPU only: the markdown says there is nothing to switch off
}


CUDNN = {"fcn": "conv", "cnn": "conv", "rnn": "rnn"}  # cuDNN's kind of layer whose TF32 the cell switches off


def parity_cell(path):
    all_cells = cells(path)
    index = next(i for i, c in enumerate(all_cells) if c["cell_type"] == "code" and "Path(\"../data/parity-" in source(c))
    return source(all_cells[index - 1]), source(all_cells[index])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_the_parity_cell_turns_tensorfloat32_off_and_back(path):
    prose, code = parity_cell(path)
    assert "TensorFloat-32" in prose, f"{path.name}: the prose before the parity cell does not say what it does"
    computed = code.index("logits_gap = ")
    for off, back in GUARDS[path.parent.name]:
        switched, restored = re.search(off, code), re.search(back, code)
        assert switched and restored, f"{path.name}: {off} / {back}"
        assert switched.start() < restored.start() <= computed, f"{path.name}: the guard does not wrap the check"
    if path.parent.name in ("pytorch", "keras"):  # convolutions, or recurrent layers, as the model has
        kind = CUDNN[path.stem.rsplit("-", 1)[-1]]
        assert f"backends.cudnn.{kind}" in code and f"backends.cudnn.{'rnn' if kind == 'conv' else 'conv'}" not in code
    if path.parent.name == "mxnet":
        assert "ctx=device" not in code[code.index("parity_device = "):], f"{path.name}: a parity array on `device`"
