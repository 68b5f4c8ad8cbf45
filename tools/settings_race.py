"""The race behind results/README.md's table of speed settings: each setting that makes a framework fast on the
CPU (and each that was tried and not kept), measured with and without on this machine, interleaved.

Usage: python tools/settings_race.py MODEL [--rounds N] [--output PATH]

For each setting of SETTINGS that applies to MODEL, a copy of the notebook differs from the committed one in
that setting alone: a line of its code, or a variable of its environment. The copies and the committed
notebooks they differ from race turn by turn (tools/bench.py's `race`: the same rows and turns as `make bench`),
and the table gives each copy's seconds per 1,000 training rows over its committed notebook's, the median of
the rounds' ratios with their range. A ratio above 1: the committed notebook is faster with the setting (or
without the candidate the copy adds).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import nbformat

import bench

ROOT = Path(__file__).resolve().parent.parent
ALL = ("fcn", "cnn", "rnn")
XLA_ADAM = "@tf.function(jit_compile=True, autograph=False)\ndef adam_update"
SUBNORMALS_KEPT = ("import ctypes\nlibm = ctypes.CDLL('libm.so.6')\nfenv = (ctypes.c_uint32 * 8)()\nlibm.fegetenv(fenv)\n"
                   "fenv[7] &= ~0x8000  # the flush-to-zero bit off again\nlibm.fesetenv(fenv)")
UNROLLED = """    hidden = cell = T.zeros((x.shape[0], UNITS))
    for step in range(28):  # 28 copies of the step in the graph: unrolled
        hidden, cell = lstm_step(inputs[:, step], hidden, cell, recurrent)
    last = apply_dropout(hidden, dropout) if training else hidden"""
SCAN = """    start = T.zeros((x.shape[0], UNITS))
    (hidden, _), _ = theano.scan(lstm_step, sequences=inputs.dimshuffle(1, 0, 2),
                                 outputs_info=[start, start], non_sequences=[recurrent])
    last = apply_dropout(hidden[-1], dropout) if training else hidden[-1]"""
# (the copy's label, the configuration it differs from, the models, the difference): a difference is a dict of
# environment variables, or a list of (a line only the cell holds, text, what it becomes; "+" appends)
SETTINGS = [
    ("TensorFlow, oneDNN off", "TensorFlow", ALL, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    ("TensorFlow, Adam op by op", "TensorFlow", ("fcn", "cnn"), [("def adam_update", XLA_ADAM, "def adam_update")]),
    ("TensorFlow, Adam compiled by XLA", "TensorFlow", ("rnn",), [("def adam_update", "def adam_update", XLA_ADAM)]),
    ("TensorFlow, per-step slices", "TensorFlow", ("rnn",), [
        ("trainable parameters", "for step_inputs in tf.unstack(inputs, axis=1):", "for step in range(28):"),
        ("trainable parameters", "z = step_inputs + ", "z = inputs[:, step] + ")]),
    ("Keras on TensorFlow, oneDNN off", "Keras on TensorFlow", ALL, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    ("Keras on TensorFlow, validation in 128s", "Keras on TensorFlow", ALL,
     [("net.fit(", "validation_batch_size=1000, ", "")]),
    ("Keras on PyTorch, subnormals kept", "Keras on PyTorch", ALL,
     [("import keras", "+", "engine.set_flush_denormal(False)")]),
    ("PyTorch, subnormals kept", "PyTorch", ALL, [("import torch", "+", "torch.set_flush_denormal(False)")]),
    ("PyTorch, Adam not fused", "PyTorch", ALL, [("def build_optimizer", ",\n                            fused=True)", ")")]),
    ("PyTorch, channels first", "PyTorch", ("cnn",),
     [("trainable parameters", ".to(memory_format=torch.channels_last)", "")]),
    ("JAX, nnx.jit step", "JAX", ALL, [("nnx.cached_partial", "nnx.cached_partial(train_step, net, optimizer)",
                                        "lambda x, y: train_step(net, optimizer, x, y)")]),
    ("MXNet, hybridize()", "MXNet", ALL, [("trainable parameters", "static_alloc=True, static_shape=True", "")]),
    ("Theano, subnormals kept", "Theano", ALL, [("import theano\n", "+", SUBNORMALS_KEPT)]),
    ("Theano, pool_2d and T.nnet.relu", "Theano", ("cnn",), [  # the step check refuses these gradients: off
        ("trainable parameters", "hidden = max_pool_2(relu(hidden))",
         "hidden = theano.tensor.signal.pool.pool_2d(T.nnet.relu(hidden), ws=(2, 2), ignore_border=True)"),
        ("import theano\n", "+", "import theano.tensor.signal.pool"),
        ("EPSILON_FORM", "assert gradient_gap <= 1e-4 and step_gap <= 5e-7,", "assert True,")]),
    ("Theano, theano.scan", "Theano", ("rnn",), [("trainable parameters", UNROLLED, SCAN)]),
    ("Theano, the other networks' threads", "Theano", ("rnn",),
     [("import theano\n", "runtime.share_small_ops()", "pass")]),
    ("Theano, share_small_ops()", "Theano", ("fcn", "cnn"),
     [("import theano\n", "from theano.sandbox.rng_mrg import MRG_RandomStreams\n",
       "from theano.sandbox.rng_mrg import MRG_RandomStreams\nruntime.share_small_ops()\n")]),
]


def changed(notebook: Path, changes: list[tuple[str, str, str]], tree: Path) -> Path:
    """A copy of `notebook` in `tree` (beside a link to data/, with its folder's helpers), with `changes` made."""
    folder = tree / notebook.parent.name
    folder.mkdir(parents=True)
    (tree / "data").symlink_to(ROOT / "data")
    for helper in notebook.parent.glob("*.py"):
        (folder / helper.name).symlink_to(helper.resolve())
    copy = nbformat.read(notebook, as_version=4)
    for marker, old, new in changes:
        cells = [c for c in copy.cells if c.cell_type == "code" and marker in c.source]
        if len(cells) != 1 or (old != "+" and old not in cells[0].source):
            raise ValueError(f"{notebook}: no single cell with {marker!r} holding {old!r}")
        cells[0].source = cells[0].source + "\n" + new if old == "+" else cells[0].source.replace(old, new)
    nbformat.write(copy, folder / notebook.name)
    return folder / notebook.name


def configurations(model: str, tree: Path) -> list[tuple]:
    """The committed configurations that a setting of `model` changes, then each copy."""
    committed = {label: (label, ROOT / folder / f"{bench.NUMBERS[model]}-mnist-{model}.ipynb", backend)
                 for label, folder, backend in bench.CONFIGURATIONS}
    settings = [s for s in SETTINGS if model in s[2]]
    chosen = [committed[label] for label in dict.fromkeys(s[1] for s in settings)]
    for index, (label, base, _, difference) in enumerate(settings):
        _, notebook, backend = committed[base]
        if isinstance(difference, dict):
            chosen.append((label, notebook, backend, difference))
        else:
            chosen.append((label, changed(notebook, difference, tree / f"copy-{index}"), backend))
    return chosen


def table(race: dict, model: str) -> list[str]:
    """Per copy: the committed notebook's and the copy's median seconds per 1,000 rows, and the copy's ratio."""
    lines = []
    for label, base, models, _ in SETTINGS:
        if model not in models:
            continue
        mine = [t["seconds_per_1000_rows"] for t in race["turns"][label]]
        theirs = [t["seconds_per_1000_rows"] for t in race["turns"][base]]
        ratios = [a / b for a, b in zip(mine, theirs)]
        lines.append(f"| {model} | {label} | {statistics.median(theirs):.3f} | {statistics.median(mine):.3f} | "
                     f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=ALL)
    parser.add_argument("--rounds", type=int, default=bench.ROUNDS)
    parser.add_argument("--output", type=Path)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        race = bench.race(options.model, configurations(options.model, Path(scratch)), options.rounds, Path(scratch))
    if options.output:
        options.output.write_text(json.dumps(race, indent=1) + "\n", encoding="utf-8")
    print("| model | copy | committed, s / 1,000 rows | copy | copy over committed (rounds) |\n|---|---|---|---|---|")
    print("\n".join(table(race, options.model)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
