"""Write data/parity-fcn.npz, parity-cnn.npz and parity-rnn.npz: what each notebook's "Same weights, same
numbers" cell checks.

Usage: python data/parity.py [--data-dir DIR]

Each fixture holds weights in Keras's layout (dense kernels (in, out), convolution kernels (height, width,
in, out), images flattened in NHWC order, LSTM kernels (in, 4·units) and (units, 4·units) with one bias
of 4·units, gates in the order input, forget, cell, output) drawn from a fixed seed, the first ROWS rows of mnist_test.csv
with their labels, and the logits and mean softmax cross-entropy that the plain numpy model below computes
from them, in float64. A fixture is rebuilt when it is missing or differs from what this script computes,
written to a temporary name and renamed into place, so it is never half-written; an up-to-date one is left
untouched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

SEED = 2017
ROWS = 64
SHAPES = {
    "fcn": [(784, 512), (512, 256), (256, 10)],
    "cnn": [(5, 5, 1, 32), (5, 5, 32, 64), (7 * 7 * 64, 1024), (1024, 10)],
    "rnn": [(28, 4 * 128), (128, 10)],  # the LSTM's input kernel, then the dense layer; see RECURRENT
}
UNITS = 128
RECURRENT = (UNITS, 4 * UNITS)  # the LSTM's recurrent kernel, "recurrent_kernel_1" in the RNN fixture
GATES = ("input", "forget", "cell", "output")  # Keras's order of the four blocks of an LSTM kernel


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return x @ kernel + bias


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def conv2d_same(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Cross-correlation of NHWC images with an (h, w, in, out) kernel, stride 1, zero padding to the same size."""
    height, width = kernel.shape[:2]
    top, left = (height - 1) // 2, (width - 1) // 2
    padded = np.pad(images, ((0, 0), (top, height - 1 - top), (left, width - 1 - left), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(1, 2))  # n, H, W, in, h, w
    return np.tensordot(windows, kernel, axes=([3, 4, 5], [2, 0, 1])) + bias


def max_pool_2(images: np.ndarray) -> np.ndarray:
    """2×2 max pooling with stride 2 of NHWC images whose height and width are even."""
    n, height, width, channels = images.shape
    return images.reshape(n, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))


def mean_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the rows of -log softmax(logits)[label], computed stably."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_softmax[np.arange(len(labels)), labels].mean())


def fcn_logits(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    k1, b1, k2, b2, k3, b3 = weights
    return dense(relu(dense(relu(dense(x, k1, b1)), k2, b2)), k3, b3)


def cnn_logits(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    k1, c1, k2, c2, k3, b3, k4, b4 = weights
    hidden = max_pool_2(relu(conv2d_same(x.reshape(-1, 28, 28, 1), k1, c1)))
    hidden = max_pool_2(relu(conv2d_same(hidden, k2, c2)))
    return dense(relu(dense(hidden.reshape(len(x), -1), k3, b3)), k4, b4)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def lstm_last_hidden(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The last hidden state of an LSTM over x (rows, steps, features), from a zero initial state. The four
    blocks of kernel (features, 4·units), recurrent (units, 4·units) and bias (4·units) are the gates in
    Keras's order: input, forget, cell (the candidate, tanh), output."""
    units = recurrent.shape[0]
    hidden = np.zeros((len(x), units))
    cell = np.zeros((len(x), units))
    for step in range(x.shape[1]):
        z = x[:, step] @ kernel + hidden @ recurrent + bias
        gate_in, gate_forget, candidate, gate_out = (z[:, k * units:(k + 1) * units] for k in range(4))
        cell = sigmoid(gate_forget) * cell + sigmoid(gate_in) * np.tanh(candidate)
        hidden = sigmoid(gate_out) * np.tanh(cell)
    return hidden


def rnn_logits(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Each image as a sequence of its 28 rows, top to bottom, 28 pixels each."""
    kernel, recurrent, bias, k2, b2 = weights
    return dense(lstm_last_hidden(x.reshape(-1, 28, 28), kernel, recurrent, bias), k2, b2)


def fixture(model: str, images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and small random biases (so that a misplaced bias shows), and the reference outputs."""
    rng = np.random.default_rng(SEED)
    arrays: dict[str, np.ndarray] = {}
    for index, shape in enumerate(SHAPES[model], start=1):
        receptive_field = int(np.prod(shape[:-2]))
        limit = np.sqrt(6 / ((shape[-2] + shape[-1]) * receptive_field))
        arrays[f"kernel_{index}"] = rng.uniform(-limit, limit, shape).astype(np.float32)
        arrays[f"bias_{index}"] = rng.uniform(-0.1, 0.1, shape[-1]).astype(np.float32)
    if model == "rnn":
        limit = np.sqrt(6 / sum(RECURRENT))
        arrays["recurrent_kernel_1"] = rng.uniform(-limit, limit, RECURRENT).astype(np.float32)
    kinds = ("kernel", "recurrent_kernel", "bias")
    weights = [arrays[f"{kind}_{i}"].astype(np.float64) for i in range(1, len(SHAPES[model]) + 1)
               for kind in kinds if f"{kind}_{i}" in arrays]
    logits = {"fcn": fcn_logits, "cnn": cnn_logits, "rnn": rnn_logits}[model](weights, images.astype(np.float64))
    return {**arrays, "x": images, "y": labels, "logits": logits, "loss": np.float64(mean_cross_entropy(logits, labels))}


def test_rows(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first ROWS rows of mnist_test.csv: pixels scaled to float32 in [0, 1], int64 labels."""
    path = data_dir / "mnist_test.csv"
    rows = np.loadtxt(path, delimiter=",", dtype=np.int64, max_rows=ROWS, ndmin=2)
    if rows.shape != (ROWS, 785) or rows[:, 0].max() > 9 or rows.min() < 0 or rows.max() > 255:
        raise ValueError(f"{path}: the first {ROWS} rows are not MNIST rows; run data/fetch_mnist.py")
    return rows[:, 1:].astype(np.float32) / 255, rows[:, 0]


def up_to_date(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    if not path.is_file():
        return False
    with np.load(path) as stored:
        return sorted(stored.files) == sorted(arrays) and all(
            stored[key].dtype == value.dtype and np.array_equal(stored[key], value) for key, value in arrays.items())


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write to a temporary file in the same folder, then rename it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.chmod(temporary, 0o644)  # mkstemp makes the file private; the fixtures are not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent)
    data_dir = parser.parse_args(argv).data_dir
    images, labels = test_rows(data_dir)
    written = []
    for model in SHAPES:
        path = data_dir / f"parity-{model}.npz"
        arrays = fixture(model, images, labels)
        if not up_to_date(path, arrays):
            write(path, arrays)
            written.append(path.name)
    if written:
        print(f"parity: wrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
