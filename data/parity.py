"""Write data/parity-fcn.npz, parity-cnn.npz and parity-rnn.npz: what each notebook's "Same weights, same
numbers" and "Same gradients, same step" cells check.

Usage: python data/parity.py [--data-dir DIR]

Each fixture holds weights in Keras's layout (dense kernels (in, out), convolution kernels (height, width,
in, out), images flattened in NHWC order, LSTM kernels (in, 4·units) and (units, 4·units) with one bias
of 4·units, gates in the order input, forget, cell, output) drawn from a fixed seed, two batches of ROWS
test rows with their labels (x, y: the first ROWS rows of mnist_test.csv; x_2, y_2: the next ROWS), and what
the plain numpy model below computes from them in float64, with dropout off:
- logits and loss: the logits and the mean softmax cross-entropy of the first batch;
- gradient_<weight>: the gradient of that mean loss for every weight, on the first batch;
- paper_<weight> and epsilon_hat_<weight>: every weight after two Adam steps (ADAM: learning rate 0.001,
  β = (0.9, 0.999), ε = 1e-7), one on each batch, both taken from the fixture's weights (put back after the
  first step, the moments kept: adam_steps says why), with ε in the paper's place (added to the bias-corrected
  √v̂: PyTorch, optax, the hand-written optimizers) or in the "ε-hat" place (the bias correction folded into
  the learning rate, ε added to √v: Keras, MXNet). Two steps, because the first does not depend on the β's.
The gradients and stepped weights are stored in float32, which the notebooks compute in. A fixture is rebuilt
when it is missing or differs from what this script computes, written to a temporary name and renamed into
place, so it is never half-written; an up-to-date one is left untouched. parity-checksums.json, beside this
file, fingerprints what the fixtures must hold (tests/test_parity_reference.py).
"""
from __future__ import annotations

import argparse
import hashlib
import json
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
# The weights of each model, in the order its functions below take them
NAMES = {"fcn": ["kernel_1", "bias_1", "kernel_2", "bias_2", "kernel_3", "bias_3"],
         "cnn": ["kernel_1", "bias_1", "kernel_2", "bias_2", "kernel_3", "bias_3", "kernel_4", "bias_4"],
         "rnn": ["kernel_1", "recurrent_kernel_1", "bias_1", "kernel_2", "bias_2"]}
ADAM = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
FORMS = ("paper", "epsilon_hat")  # where Adam's ε goes (adam_steps)
INPUTS = ("x", "y", "x_2", "y_2")  # with the weights, what a fixture is computed from
CHECKSUMS = Path(__file__).resolve().parent / "parity-checksums.json"


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return x @ kernel + bias


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def windows_same(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Every (height, width) window of NHWC images zero-padded to keep their size: (n, H, W, in, h, w)."""
    top, left = (height - 1) // 2, (width - 1) // 2
    padded = np.pad(images, ((0, 0), (top, height - 1 - top), (left, width - 1 - left), (0, 0)))
    return np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(1, 2))


def conv2d_same(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Cross-correlation of NHWC images with an (h, w, in, out) kernel, stride 1, zero padding to the same size."""
    return np.tensordot(windows_same(images, *kernel.shape[:2]), kernel, axes=([3, 4, 5], [2, 0, 1])) + bias


def conv2d_same_backward(images: np.ndarray, kernel: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, ...]:
    """The gradients of conv2d_same's kernel, bias and images, given the gradient of its output. For an odd
    kernel the padding is symmetric, so the images' gradient is the output's gradient correlated, with the
    same padding, with the kernel flipped in height and width and its in and out swapped."""
    height, width = kernel.shape[:2]
    assert height % 2 == width % 2 == 1, "odd kernels only"
    kernel_grad = np.tensordot(windows_same(images, height, width), grad, axes=([0, 1, 2], [0, 1, 2]))
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
    return kernel_grad.transpose(1, 2, 0, 3), grad.sum(axis=(0, 1, 2)), conv2d_same(grad, flipped, 0.0)


def max_pool_2(images: np.ndarray) -> np.ndarray:
    """2×2 max pooling with stride 2 of NHWC images whose height and width are even."""
    n, height, width, channels = images.shape
    return images.reshape(n, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))


def max_pool_2_backward(images: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The gradient of max_pool_2's images: each window's gradient goes to its largest value (the first of
    equal ones; after a ReLU, equal values are zeros, whose gradient the ReLU stops anyway)."""
    n, height, width, channels = images.shape
    windows = images.reshape(n, height // 2, 2, width // 2, 2, channels).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(*windows.shape[:4], 4)
    chosen = windows.argmax(axis=-1)[..., None] == np.arange(4)  # one-hot over each window's 4 values
    spread = (chosen * grad[..., None]).reshape(n, height // 2, width // 2, channels, 2, 2)
    return spread.transpose(0, 1, 4, 2, 5, 3).reshape(images.shape)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def mean_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the rows of -log softmax(logits)[label], computed stably."""
    return float(-log_softmax(logits)[np.arange(len(labels)), labels].mean())


def mean_cross_entropy_backward(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The gradient of mean_cross_entropy for the logits: (softmax - one-hot label) / rows."""
    grad = np.exp(log_softmax(logits))
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)


def dense_backward(x: np.ndarray, kernel: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, ...]:
    """The gradients of dense's kernel, bias and input x, given the gradient of its output."""
    return x.T @ grad, grad.sum(axis=0), grad @ kernel.T


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


def lstm_steps(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> list[dict]:
    """An LSTM over x (rows, steps, features), from a zero initial state: for each step, the hidden and cell
    states it starts from, its four gates after their activations and the states it ends with. The four
    blocks of kernel (features, 4·units), recurrent (units, 4·units) and bias (4·units) are the gates in
    Keras's order: input, forget, cell (the candidate, tanh), output."""
    units = recurrent.shape[0]
    hidden = np.zeros((len(x), units))
    cell = np.zeros((len(x), units))
    steps = []
    for step in range(x.shape[1]):
        z = x[:, step] @ kernel + hidden @ recurrent + bias
        gate_in, gate_forget, candidate, gate_out = (z[:, k * units:(k + 1) * units] for k in range(4))
        gates = sigmoid(gate_in), sigmoid(gate_forget), np.tanh(candidate), sigmoid(gate_out)
        start = {"hidden": hidden, "cell": cell}
        cell = gates[1] * cell + gates[0] * gates[2]
        hidden = gates[3] * np.tanh(cell)
        steps.append({"start": start, "gates": gates, "cell": cell, "hidden": hidden})
    return steps


def lstm_last_hidden(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The last hidden state of the LSTM of lstm_steps."""
    return lstm_steps(x, kernel, recurrent, bias)[-1]["hidden"]


def lstm_backward(x: np.ndarray, recurrent: np.ndarray, steps: list[dict], grad: np.ndarray) -> list[np.ndarray]:
    """The gradients of the LSTM's kernel, recurrent kernel and bias, given lstm_steps' steps and the gradient
    of the last hidden state: back through the steps, the cell state's gradient carried from each to the
    one before."""
    hidden_grad, cell_grad = grad, np.zeros_like(grad)
    grads = [np.zeros((x.shape[2], recurrent.shape[1])), np.zeros_like(recurrent), np.zeros(recurrent.shape[1])]
    for step in reversed(range(x.shape[1])):
        gate_in, gate_forget, candidate, gate_out = steps[step]["gates"]
        cell_tanh = np.tanh(steps[step]["cell"])
        cell_grad = cell_grad + hidden_grad * gate_out * (1 - cell_tanh ** 2)
        z_grad = np.concatenate([cell_grad * candidate * gate_in * (1 - gate_in),
                                 cell_grad * steps[step]["start"]["cell"] * gate_forget * (1 - gate_forget),
                                 cell_grad * gate_in * (1 - candidate ** 2),
                                 hidden_grad * cell_tanh * gate_out * (1 - gate_out)], axis=1)
        grads[0] += x[:, step].T @ z_grad
        grads[1] += steps[step]["start"]["hidden"].T @ z_grad
        grads[2] += z_grad.sum(axis=0)
        hidden_grad, cell_grad = z_grad @ recurrent.T, cell_grad * gate_forget
    return grads


def rnn_logits(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """Each image as a sequence of its 28 rows, top to bottom, 28 pixels each."""
    kernel, recurrent, bias, k2, b2 = weights
    return dense(lstm_last_hidden(x.reshape(-1, 28, 28), kernel, recurrent, bias), k2, b2)


def fcn_gradients(weights: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The gradient of the mean cross-entropy for every weight of the fully connected network, dropout off."""
    k1, b1, k2, b2, k3, b3 = weights
    z1 = dense(x, k1, b1)
    z2 = dense(relu(z1), k2, b2)
    logits = dense(relu(z2), k3, b3)
    g_k3, g_b3, grad = dense_backward(relu(z2), k3, mean_cross_entropy_backward(logits, labels))
    g_k2, g_b2, grad = dense_backward(relu(z1), k2, grad * (z2 > 0))
    g_k1, g_b1, _ = dense_backward(x, k1, grad * (z1 > 0))
    return [g_k1, g_b1, g_k2, g_b2, g_k3, g_b3]


def cnn_gradients(weights: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The gradient of the mean cross-entropy for every weight of the convolutional network, dropout off."""
    k1, c1, k2, c2, k3, b3, k4, b4 = weights
    images = x.reshape(-1, 28, 28, 1)
    z1 = conv2d_same(images, k1, c1)
    pooled_1 = max_pool_2(relu(z1))
    z2 = conv2d_same(pooled_1, k2, c2)
    flat = max_pool_2(relu(z2)).reshape(len(x), -1)  # NHWC order
    z3 = dense(flat, k3, b3)
    logits = dense(relu(z3), k4, b4)
    g_k4, g_b4, grad = dense_backward(relu(z3), k4, mean_cross_entropy_backward(logits, labels))
    g_k3, g_b3, grad = dense_backward(flat, k3, grad * (z3 > 0))
    grad = max_pool_2_backward(relu(z2), grad.reshape(-1, 7, 7, 64)) * (z2 > 0)
    g_k2, g_c2, grad = conv2d_same_backward(pooled_1, k2, grad)
    grad = max_pool_2_backward(relu(z1), grad) * (z1 > 0)
    g_k1, g_c1, _ = conv2d_same_backward(images, k1, grad)
    return [g_k1, g_c1, g_k2, g_c2, g_k3, g_b3, g_k4, g_b4]


def rnn_gradients(weights: list[np.ndarray], x: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """The gradient of the mean cross-entropy for every weight of the recurrent network, dropout off."""
    kernel, recurrent, bias, k2, b2 = weights
    sequences = x.reshape(-1, 28, 28)
    steps = lstm_steps(sequences, kernel, recurrent, bias)
    logits = dense(steps[-1]["hidden"], k2, b2)
    g_k2, g_b2, grad = dense_backward(steps[-1]["hidden"], k2, mean_cross_entropy_backward(logits, labels))
    return [*lstm_backward(sequences, recurrent, steps, grad), g_k2, g_b2]


LOGITS = {"fcn": fcn_logits, "cnn": cnn_logits, "rnn": rnn_logits}
GRADIENTS = {"fcn": fcn_gradients, "cnn": cnn_gradients, "rnn": rnn_gradients}


def adam_steps(weights: list[np.ndarray], gradients, batches: list[tuple[np.ndarray, np.ndarray]], form: str,
               learning_rate: float, beta_1: float, beta_2: float, epsilon: float) -> list[np.ndarray]:
    """The weights after Adam's last step, one step per batch from zero moments, every step taken from `weights`:
    the weights are put back after each step and the moments kept, so every gradient is taken at the same
    weights, and float32 noise in one step's result (which Adam blows up where a gradient is near zero) cannot
    move the next step's gradient across a ReLU's or a max-pool's kink. `form` places ε: "paper" (Kingma and
    Ba's algorithm 1: w - lr·m̂ / (√v̂ + ε), with m̂ = m / (1 - β1^t) and v̂ = v / (1 - β2^t)) or "epsilon_hat"
    (their section 2's faster order: w - lr·√(1 - β2^t) / (1 - β1^t) · m / (√v + ε))."""
    if form not in FORMS:
        raise ValueError(f"unknown form of Adam: {form!r}, expected one of {FORMS}")
    first = [np.zeros_like(w) for w in weights]
    second = [np.zeros_like(w) for w in weights]
    for t, (x, labels) in enumerate(batches, start=1):
        grads = gradients(weights, x, labels)
        first = [beta_1 * m + (1 - beta_1) * g for m, g in zip(first, grads)]
        second = [beta_2 * v + (1 - beta_2) * g ** 2 for v, g in zip(second, grads)]
    if form == "paper":
        steps = [learning_rate * m / (1 - beta_1 ** t) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon)
                 for m, v in zip(first, second)]
    else:
        rate = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        steps = [rate * m / (np.sqrt(v) + epsilon) for m, v in zip(first, second)]
    return [w - step for w, step in zip(weights, steps)]


def fixture(model: str, images: np.ndarray, labels: np.ndarray, images_2: np.ndarray | None = None,
            labels_2: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and small random biases (so that a misplaced bias shows), and the reference outputs:
    the logits and loss of the first batch, and, given a second batch, the gradients and the two Adam steps."""
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
    weights = [arrays[name].astype(np.float64) for name in NAMES[model]]
    logits = LOGITS[model](weights, images.astype(np.float64))
    arrays.update(x=images, y=labels, logits=logits, loss=np.float64(mean_cross_entropy(logits, labels)))
    if images_2 is None:
        return arrays
    first, second = (images.astype(np.float64), labels), (images_2.astype(np.float64), labels_2)
    arrays.update(x_2=images_2, y_2=labels_2)
    for name, grad in zip(NAMES[model], GRADIENTS[model](weights, *first)):
        arrays[f"gradient_{name}"] = grad.astype(np.float32)
    for form in FORMS:
        for name, stepped in zip(NAMES[model], adam_steps(weights, GRADIENTS[model], [first, second], form, **ADAM)):
            arrays[f"{form}_{name}"] = stepped.astype(np.float32)
    return arrays


def test_rows(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first 2·ROWS rows of mnist_test.csv (the fixtures' two batches): pixels scaled to float32 in [0, 1],
    int64 labels."""
    path = data_dir / "mnist_test.csv"
    rows = np.loadtxt(path, delimiter=",", dtype=np.int64, max_rows=2 * ROWS, ndmin=2)
    if rows.shape != (2 * ROWS, 785) or rows[:, 0].max() > 9 or rows.min() < 0 or rows.max() > 255:
        raise ValueError(f"{path}: the first {2 * ROWS} rows are not MNIST rows; run data/fetch_mnist.py")
    return rows[:, 1:].astype(np.float32) / 255, rows[:, 0]


def checksums(arrays: dict[str, np.ndarray]) -> dict[str, dict]:
    """What each array of a fixture must hold. The weights and batches are drawn or read, the same bits on every
    machine: their sha256. The rest is computed in float64, whose last bits differ between CPUs (their BLAS and
    vector kernels sum in other orders), so a hash of it would fail on another machine: three sums instead,
    rounded to 10 digits (plain, absolute, and weighted by a fixed random pattern, so that a moved value shows),
    which a test compares to a relative 1e-6."""
    sums = {}
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        entry = {"shape": list(array.shape), "dtype": str(array.dtype)}
        if name in INPUTS or name in NAMES["fcn"] + NAMES["cnn"] + NAMES["rnn"]:
            entry["sha256"] = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
        else:
            values = array.astype(np.float64).ravel()
            pattern = np.random.default_rng(SEED).uniform(-1, 1, values.size)
            entry["sums"] = [float(f"{total:.10g}") for total in (values.sum(), np.abs(values).sum(), values @ pattern)]
        sums[name] = entry
    return sums


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
    parser.add_argument("--write-checksums", action="store_true",
                        help=f"also write {CHECKSUMS.name}, after a deliberate change of the fixtures")
    options = parser.parse_args(argv)
    images, labels = test_rows(options.data_dir)
    written, sums = [], {}
    for model in SHAPES:
        path = options.data_dir / f"parity-{model}.npz"
        arrays = fixture(model, images[:ROWS], labels[:ROWS], images[ROWS:], labels[ROWS:])
        sums[path.name] = checksums(arrays)
        if not up_to_date(path, arrays):
            write(path, arrays)
            written.append(path.name)
    if written:
        print(f"parity: wrote {', '.join(written)}")
    if options.write_checksums:
        files = [f"  {json.dumps(name)}: {{\n" + ",\n".join(f"    {json.dumps(key)}: {json.dumps(entry)}"
                                                          for key, entry in entries.items()) + "\n  }"
                 for name, entries in sums.items()]
        CHECKSUMS.write_text("{\n" + ",\n".join(files) + "\n}\n", encoding="utf-8")
        print(f"parity: wrote {CHECKSUMS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
