"""data/parity.py: the numpy reference of the three models, its gradients and Adam, and the fixtures it writes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import parity

ROOT = Path(__file__).resolve().parent.parent


def test_convolution_matches_a_direct_loop():
    rng = np.random.default_rng(0)
    images, kernel, bias = rng.normal(size=(2, 6, 7, 3)), rng.normal(size=(5, 5, 3, 4)), rng.normal(size=4)
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    expected = np.zeros((2, 6, 7, 4))
    for n in range(2):
        for row in range(6):
            for column in range(7):
                for out in range(4):
                    expected[n, row, column, out] = bias[out] + sum(
                        padded[n, row + i, column + j, c] * kernel[i, j, c, out]
                        for i in range(5) for j in range(5) for c in range(3))
    np.testing.assert_allclose(parity.conv2d_same(images, kernel, bias), expected, rtol=1e-12, atol=1e-12)


def test_max_pooling_matches_a_direct_loop():
    images = np.random.default_rng(1).normal(size=(2, 4, 6, 3))
    expected = np.array([[[[max(images[n, 2 * r + i, 2 * c + j, k] for i in range(2) for j in range(2))
                            for k in range(3)] for c in range(3)] for r in range(2)] for n in range(2)])
    np.testing.assert_array_equal(parity.max_pool_2(images), expected)


def test_cross_entropy_by_hand():
    logits = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])  # softmax [1/4, 3/4] and [1/2, 1/2]
    labels = np.array([1, 0])
    assert parity.mean_cross_entropy(logits, labels) == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2, rel=1e-12)
    assert parity.mean_cross_entropy(logits + 1000.0, labels) == pytest.approx((-np.log(0.75) - np.log(0.5)) / 2)


def test_fcn_is_dense_relu_dense_relu_dense():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    weights = [rng.normal(size=s) for s in [(4, 5), (5,), (5, 2), (2,), (2, 3), (3,)]]
    hidden = np.maximum(np.maximum(x @ weights[0] + weights[1], 0) @ weights[2] + weights[3], 0)
    np.testing.assert_allclose(parity.fcn_logits(weights, x), hidden @ weights[4] + weights[5])


def images_and_labels(rows=4):
    rng = np.random.default_rng(3)
    return rng.uniform(0, 1, (rows, 784)).astype(np.float32), rng.integers(0, 10, rows)


def test_lstm_matches_a_step_by_step_hand_computation():
    """One unit at a time, each gate with its own weights, in Keras's order: input, forget, cell, output."""
    rng = np.random.default_rng(4)
    steps, features, units = 5, 3, 2
    x = rng.normal(size=(1, steps, features))
    w = {gate: rng.normal(size=(features, units)) for gate in parity.GATES}
    u = {gate: rng.normal(size=(units, units)) for gate in parity.GATES}
    b = {gate: rng.normal(size=units) for gate in parity.GATES}
    h, c = [0.0] * units, [0.0] * units
    for t in range(steps):
        def z(gate, j):
            return (sum(x[0, t, k] * w[gate][k, j] for k in range(features))
                    + sum(h[m] * u[gate][m, j] for m in range(units)) + b[gate][j])
        gates = [{g: z(g, j) for g in parity.GATES} for j in range(units)]
        c = [1 / (1 + np.exp(-g["forget"])) * c[j] + 1 / (1 + np.exp(-g["input"])) * np.tanh(g["cell"])
             for j, g in enumerate(gates)]
        h = [1 / (1 + np.exp(-g["output"])) * np.tanh(c[j]) for j, g in enumerate(gates)]
    kernel = np.concatenate([w[g] for g in parity.GATES], axis=1)
    recurrent = np.concatenate([u[g] for g in parity.GATES], axis=1)
    bias = np.concatenate([b[g] for g in parity.GATES])
    np.testing.assert_allclose(parity.lstm_last_hidden(x, kernel, recurrent, bias)[0], h, rtol=1e-12)


@pytest.mark.parametrize("biases, expected", [
    ((-100, 0, 1, 0), 0.0),  # input gate shut: the cell stays 0
    ((100, 100, 1, 100), np.tanh(3 * np.tanh(1))),  # forget gate open: the cell adds up tanh(1) three times
    ((100, -100, 1, 100), np.tanh(np.tanh(1))),  # forget gate shut: only the last step's tanh(1)
    ((100, 100, 1, -100), 0.0),  # output gate shut
])
def test_lstm_gates_are_in_keras_order(biases, expected):
    """With zero kernels, each gate's bias alone decides; three steps tell the forget gate from the others."""
    bias = np.repeat(np.array(biases, dtype=float), 2)  # 2 units per gate
    hidden = parity.lstm_last_hidden(np.zeros((1, 3, 4)), np.zeros((4, 8)), np.zeros((2, 8)), bias)
    np.testing.assert_allclose(hidden, expected, atol=1e-12)


def test_the_rnn_reads_each_image_row_by_row():
    """Step t of the sequence is the image's row t: with only row 0 lit, an LSTM that sees rows sees it first."""
    arrays = parity.fixture("rnn", *images_and_labels(2))
    weights = [arrays[k].astype(np.float64) for k in
               ("kernel_1", "recurrent_kernel_1", "bias_1", "kernel_2", "bias_2")]
    images = np.zeros((1, 784))
    images[0, :28] = 1.0  # the top row
    by_rows = parity.lstm_last_hidden(images.reshape(1, 28, 28), *weights[:3])
    np.testing.assert_allclose(parity.rnn_logits(weights, images), by_rows @ weights[3] + weights[4])
    columns = parity.lstm_last_hidden(images.reshape(1, 28, 28).transpose(0, 2, 1), *weights[:3])
    assert np.abs(by_rows - columns).max() > 1e-3


@pytest.mark.parametrize("model", ["fcn", "cnn", "rnn"])
def test_fixtures_are_deterministic_and_in_keras_layout(model):
    images, labels = images_and_labels()
    first, second = parity.fixture(model, images, labels), parity.fixture(model, images, labels)
    assert sorted(first) == sorted(second)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert [first[f"kernel_{i}"].shape for i in range(1, len(parity.SHAPES[model]) + 1)] == parity.SHAPES[model]
    assert first["logits"].shape == (4, 10) and np.isfinite(first["loss"])
    if model == "rnn":
        assert first["recurrent_kernel_1"].shape == parity.RECURRENT == (128, 512)
        assert first["bias_1"].shape == (512,)  # one bias vector: Keras's form


def test_the_cnn_flattens_in_nhwc_order():
    """The first dense kernel's row (y * 7 + x) * 64 + channel reads that pooled position and channel."""
    images, labels = images_and_labels(1)
    arrays = parity.fixture("cnn", images, labels)
    weights = [arrays[f"{kind}_{i}"].astype(np.float64) for i in range(1, 5) for kind in ("kernel", "bias")]
    hidden = parity.max_pool_2(parity.relu(parity.conv2d_same(images.reshape(-1, 28, 28, 1).astype(np.float64),
                                                              weights[0], weights[1])))
    hidden = parity.max_pool_2(parity.relu(parity.conv2d_same(hidden, weights[2], weights[3])))
    flat = np.array([hidden[0, y, x, c] for y in range(7) for x in range(7) for c in range(64)])
    dense = np.maximum(flat @ weights[4] + weights[5], 0) @ weights[6] + weights[7]
    np.testing.assert_allclose(arrays["logits"][0], dense, rtol=1e-10)


@pytest.mark.parametrize("model", ["fcn", "cnn", "rnn"])
def test_gradients_match_central_finite_differences(model):
    """In float64, for every tensor of every model: its largest gradient and five other coordinates, on a small
    batch (central differences with a step of 1e-6 are exact to about 1e-9 of the largest)."""
    images, labels = images_and_labels(3)
    arrays = parity.fixture(model, images, labels)
    weights = [arrays[name].astype(np.float64) for name in parity.NAMES[model]]
    x = images.astype(np.float64)
    gradients = parity.GRADIENTS[model](weights, x, labels)
    rng = np.random.default_rng(5)

    def loss(changed):
        return parity.mean_cross_entropy(parity.LOGITS[model](changed, x), labels)

    for index, (weight, gradient) in enumerate(zip(weights, gradients)):
        assert gradient.shape == weight.shape, parity.NAMES[model][index]
        nonzero = np.argwhere(gradient != 0)
        coordinates = [np.unravel_index(np.abs(gradient).argmax(), gradient.shape)]
        coordinates += [tuple(c) for c in nonzero[rng.choice(len(nonzero), 3, replace=False)]]
        coordinates += [tuple(rng.integers(0, size) for size in weight.shape) for _ in range(2)]
        for coordinate in coordinates:
            plus, minus = [w.copy() for w in weights], [w.copy() for w in weights]
            plus[index][coordinate] += 1e-6
            minus[index][coordinate] -= 1e-6
            central = (loss(plus) - loss(minus)) / 2e-6
            assert central == pytest.approx(gradient[coordinate], abs=1e-6 * np.abs(gradient).max()), \
                f"{model} {parity.NAMES[model][index]}{coordinate}"


def test_max_pooling_sends_the_gradient_to_the_first_largest_value():
    images = np.array([[[[1.0], [3.0]], [[3.0], [2.0]]]])  # one 2×2 window: 3 twice
    np.testing.assert_array_equal(parity.max_pool_2_backward(images, np.array([[[[5.0]]]])),
                                  [[[[0.0], [5.0]], [[0.0], [0.0]]]])


def test_adam_by_hand():
    """Two steps on one weight, each from the same weights, with the gradients 5e-6 and then -2.5e-6: small
    enough for the place of ε to matter."""
    gradients = iter([5e-6, -2.5e-6])

    def given(weights, x, labels):
        return [np.array([next(gradients)])]

    m = 0.9 * (0.1 * 5e-6) + 0.1 * -2.5e-6  # = 2e-7
    v = 0.999 * (0.001 * 25e-12) + 0.001 * 6.25e-12  # = 3.1225e-14
    paper = 2.0 - 0.001 * (m / (1 - 0.9 ** 2)) / ((v / (1 - 0.999 ** 2)) ** 0.5 + 1e-7)
    hat = 2.0 - 0.001 * (1 - 0.999 ** 2) ** 0.5 / (1 - 0.9 ** 2) * m / (v ** 0.5 + 1e-7)
    batches = [(None, None), (None, None)]
    assert parity.adam_steps([np.array([2.0])], given, batches, "paper", **parity.ADAM)[0][0] == pytest.approx(
        paper, rel=1e-15)
    gradients = iter([5e-6, -2.5e-6])
    assert parity.adam_steps([np.array([2.0])], given, batches, "epsilon_hat", **parity.ADAM)[0][0] == pytest.approx(
        hat, rel=1e-15)
    assert abs(paper - hat) > 5e-5  # the two places of ε differ after two steps
    with pytest.raises(ValueError, match="unknown form of Adam"):
        parity.adam_steps([np.array([2.0])], given, batches, "ε", **parity.ADAM)


def test_every_adam_step_is_taken_from_the_given_weights():
    """The gradient of the second step is taken at the weights the first started from."""
    seen = []

    def recorded(weights, x, labels):
        seen.append(weights[0].copy())
        return [np.ones(2)]

    parity.adam_steps([np.array([1.0, -1.0])], recorded, [(None, None)] * 2, "paper", **parity.ADAM)
    np.testing.assert_array_equal(seen[0], seen[1])


@pytest.mark.parametrize("model", ["fcn", "cnn", "rnn"])
def test_a_fixture_with_two_batches_holds_gradients_and_both_forms_of_adam(model):
    images, labels = images_and_labels(4)
    arrays = parity.fixture(model, images[:2], labels[:2], images[2:], labels[2:])
    for name in parity.NAMES[model]:
        for prefix in ("gradient_", "paper_", "epsilon_hat_"):
            assert arrays[prefix + name].shape == arrays[name].shape and arrays[prefix + name].dtype == np.float32
        assert not np.array_equal(arrays[f"paper_{name}"], arrays[name])  # every weight stepped
    assert arrays["x_2"].shape == (2, 784) and list(arrays["y_2"]) == list(labels[2:])


@pytest.mark.parametrize("name", ["parity-fcn.npz", "parity-cnn.npz", "parity-rnn.npz"])
def test_the_written_fixtures_match_their_checksums(name):
    """make data wrote what data/parity-checksums.json holds: the drawn and read arrays to the bit, the computed
    ones to a relative 1e-6 (parity.checksums says why). After a deliberate change of the fixtures:
    python data/parity.py --write-checksums."""
    path = ROOT / "data" / name
    assert path.is_file(), f"{path}: missing; run `make data`"
    expected = json.loads(parity.CHECKSUMS.read_text(encoding="utf-8"))[name]
    with np.load(path) as stored:
        found = parity.checksums({key: stored[key] for key in stored.files})
    assert sorted(found) == sorted(expected)
    for key, entry in expected.items():
        assert found[key]["shape"] == entry["shape"] and found[key]["dtype"] == entry["dtype"], key
        if "sha256" in entry:
            assert found[key]["sha256"] == entry["sha256"], key
        else:
            scale = max(abs(total) for total in entry["sums"])
            assert found[key]["sums"] == pytest.approx(entry["sums"], rel=1e-6, abs=1e-9 * scale), key


def test_checksums_tell_a_moved_value():
    values = np.arange(12, dtype=np.float32)
    moved = values.copy()
    moved[[2, 7]] = moved[[7, 2]]
    first, second = parity.checksums({"gradient_x": values}), parity.checksums({"gradient_x": moved})
    assert first["gradient_x"]["sums"][:2] == second["gradient_x"]["sums"][:2]
    assert first["gradient_x"]["sums"][2] != pytest.approx(second["gradient_x"]["sums"][2], rel=1e-6)


def write_test_csv(folder, rows=2 * parity.ROWS):
    images, labels = images_and_labels(rows)
    pixels = np.round(images * 255).astype(int)
    (folder / "mnist_test.csv").write_text("".join(
        ",".join(map(str, [label, *row])) + "\n" for label, row in zip(labels, pixels)), encoding="utf-8")


def test_main_writes_both_fixtures_then_leaves_them_alone(tmp_path, capsys):
    write_test_csv(tmp_path)
    assert parity.main(["--data-dir", str(tmp_path)]) == 0
    assert "parity-fcn.npz, parity-cnn.npz, parity-rnn.npz" in capsys.readouterr().out
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("parity-*.npz")}
    assert parity.main(["--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("parity-*.npz")} == stamps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_test.csv", "parity-cnn.npz", "parity-fcn.npz",
                                                          "parity-rnn.npz"]


def test_a_stale_fixture_is_rebuilt(tmp_path):
    write_test_csv(tmp_path)
    np.savez(tmp_path / "parity-fcn.npz", x=np.zeros(1))
    parity.main(["--data-dir", str(tmp_path)])
    with np.load(tmp_path / "parity-fcn.npz") as stored:
        assert "kernel_1" in stored.files


def test_a_failed_write_leaves_the_old_fixture_and_no_partial_file(tmp_path, monkeypatch):
    write_test_csv(tmp_path)
    old = tmp_path / "parity-fcn.npz"
    np.savez(old, x=np.zeros(1))
    before = old.read_bytes()

    def broken_savez(stream, **arrays):
        stream.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(parity.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        parity.main(["--data-dir", str(tmp_path)])
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist_test.csv", "parity-fcn.npz"]


def test_bad_test_rows_are_refused(tmp_path):
    write_test_csv(tmp_path, rows=3)
    with pytest.raises(ValueError, match="mnist_test.csv: the first 128 rows are not MNIST rows"):
        parity.main(["--data-dir", str(tmp_path)])
