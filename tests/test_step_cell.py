"""Contract 6c: every notebook's "Same gradients, same step" cell passes the fixture and refuses each mutant.

A mutant is one plausible mistake in the notebook's own code (issue 30): ε in the other form, the learning rate
× 1.01, β1 = 0.8, β2 = 0.99, the loss summed instead of averaged, one tensor left out of the optimizer, cuDNN's
frozen second bias trained (PyTorch's and MXNet's recurrent notebooks) and dropout left on in the step's copy.
Each is written as a change of the model, parity, optimizer or step cell's source, in every framework where it
can be written. The test runs the notebook up to its step cell (which must pass), then, in the same kernel, each
mutant's cells again from the first one it changes; the step cell must stop each with its own AssertionError.
"ε in the other form" names the other form in the step cell: the check against the other reference must fail,
which shows that it tells the two forms apart, whichever the framework's optimizer uses.
"""
from __future__ import annotations

import json
import os

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from nbtools import NOTEBOOKS, ROOT, model_of
from run_notebooks import execute, link_helpers

ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
# The cells a mutant may change, in notebook order; each is found by a line only it holds
CELLS = ["trainable parameters", 'Path("../data/parity-', "def evaluate(net, x, y, batch_size=1000):", "EPSILON_FORM = "]
OTHER_FORM = {"paper": "epsilon_hat", "epsilon_hat": "paper"}

# Per framework: mutant -> (text in one of CELLS, what it becomes); "frozen bias trained" only where a bias is frozen
MUTANTS = {
    "pytorch": {
        "learning rate × 1.01": ("lr=LEARNING_RATE,", "lr=LEARNING_RATE * 1.01,"),
        "β1 = 0.8": ("betas=(0.9, 0.999)", "betas=(0.8, 0.999)"),
        "β2 = 0.99": ("betas=(0.9, 0.999)", "betas=(0.9, 0.99)"),
        "summed loss": ("loss_fn = nn.CrossEntropyLoss()", 'loss_fn = nn.CrossEntropyLoss(reduction="sum")'),
        "a tensor left out": ("torch.optim.Adam(net.parameters(),", "torch.optim.Adam(list(net.parameters())[1:],"),
        "frozen bias trained": ("    net.lstm.bias_hh_l0.requires_grad_(False)", "    pass"),
    },
    "tensorflow": {
        "learning rate × 1.01": ("assign_sub(LEARNING_RATE * ", "assign_sub(LEARNING_RATE * 1.01 * "),
        "β1 = 0.8": ("BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7", "BETA_1, BETA_2, EPSILON = 0.8, 0.999, 1e-7"),
        "β2 = 0.99": ("BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7", "BETA_1, BETA_2, EPSILON = 0.9, 0.99, 1e-7"),
        "summed loss": ("return tf.reduce_mean(losses)", "return tf.reduce_sum(losses)"),
        "a tensor left out": ("zip(variables, gradients, optimizer.moments)",
                              "zip(variables[1:], gradients[1:], optimizer.moments[1:])"),
    },
    "mxnet": {
        "learning rate × 1.01": ('"learning_rate": LEARNING_RATE,', '"learning_rate": LEARNING_RATE * 1.01,'),
        "β1 = 0.8": ('"beta1": 0.9,', '"beta1": 0.8,'),
        "β2 = 0.99": ('"beta2": 0.999,', '"beta2": 0.99,'),
        "summed loss": ("trainer.step(len(x))", "trainer.step(1)"),
        "a tensor left out": ('gluon.Trainer(net.collect_params(), "adam"',
                              'gluon.Trainer(list(net.collect_params().values())[1:], "adam"'),
        "frozen bias trained": ('    net.lstm.l0_h2h_bias.grad_req = "null"', "    pass  #"),
    },
    "theano": {
        "learning rate × 1.01": ("weight - LEARNING_RATE * ", "weight - LEARNING_RATE * 1.01 * "),
        "β1 = 0.8": ("BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7", "BETA_1, BETA_2, EPSILON = 0.8, 0.999, 1e-7"),
        "β2 = 0.99": ("BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7", "BETA_1, BETA_2, EPSILON = 0.9, 0.99, 1e-7"),
        "summed loss": ("T.nnet.softmax(logits_expression), y).mean()", "T.nnet.softmax(logits_expression), y).sum()"),
        "a tensor left out": ("zip(weights, gradients)", "zip(weights[1:], gradients[1:])"),
    },
    "keras": {
        "learning rate × 1.01": ("Adam(learning_rate=LEARNING_RATE,", "Adam(learning_rate=LEARNING_RATE * 1.01,"),
        "β1 = 0.8": ("beta_1=0.9,", "beta_1=0.8,"),
        "β2 = 0.99": ("beta_2=0.999,", "beta_2=0.99,"),
        "summed loss": ("SparseCategoricalCrossentropy(from_logits=True)",
                        'SparseCategoricalCrossentropy(from_logits=True, reduction="sum")'),
        "a tensor left out": ("def compile_model(net, optimizer):\n",
                              "def compile_model(net, optimizer):\n    net.layers[-1].bias.trainable = False\n"),
    },
    "jax": {
        "learning rate × 1.01": ("optax.adam(LEARNING_RATE,", "optax.adam(LEARNING_RATE * 1.01,"),
        "β1 = 0.8": ("b1=0.9,", "b1=0.8,"),
        "β2 = 0.99": ("b2=0.999,", "b2=0.99,"),
        "summed loss": ("softmax_cross_entropy_with_integer_labels(logits, labels).mean()",
                        "softmax_cross_entropy_with_integer_labels(logits, labels).sum()"),
        # a filter of the optimizer's variables that leaves out one layer's bias
        "a tensor left out": {model: ("eps=1e-7), wrt=nnx.Param)", f'eps=1e-7), wrt=nnx.All(nnx.Param, nnx.Not(nnx.All(nnx.PathContains("{layer}"), '
                                                         'nnx.PathContains("bias")))))')
                              for model, layer in (("fcn", "dense_1"), ("cnn", "dense_1"), ("rnn", "dense"))},
    },
}


def step_cell_index(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and CELLS[-1] in c.source)


def mutants(path, notebook: nbformat.NotebookNode) -> dict[str, tuple[int, list[str]]]:
    """Each mutant of this notebook: the index (in CELLS) of the first cell it changes, and the four cells' sources."""
    sources = [next(c.source for c in notebook.cells if c.cell_type == "code" and marker in c.source) for marker in CELLS]
    form = sources[-1].split('EPSILON_FORM = "')[1].split('"')[0]
    written = {"ε in the other form": (f'EPSILON_FORM = "{form}"', f'EPSILON_FORM = "{OTHER_FORM[form]}"'),
               "dropout on": ("dropout=0.0)", "dropout=0.2)"), **MUTANTS[path.parent.name]}
    if model_of(path) != "rnn":
        written.pop("frozen bias trained", None)
    found = {}
    for name, change in written.items():
        old, new = change[model_of(path)] if isinstance(change, dict) else change
        where = [i for i, s in enumerate(sources) if old in s]
        if name == "frozen bias trained" and not where:
            continue  # this framework's recurrent layer has one bias
        assert len(where) == 1, f"{path.name}: {name}: {old!r} in cells {where}"  # every place in that cell changes
        found[name] = (where[0], [s.replace(old, new) if i == where[0] else s for i, s in enumerate(sources)])
    return found


# Runs in the kernel after the step cell. Mutants are tried from the last cell they change to the first, so that
# each one's cells, run again from its first changed cell, replace what the mutant before it changed.
RECHECK = """
import json
import traceback
outcomes = {}
for name, (first, sources) in sorted(MUTANTS.items(), key=lambda item: -item[1][0]):
    outcome = "passed"
    try:
        for index in range(first, len(sources)):
            try:
                exec(sources[index], globals())
            except AssertionError:
                if index == len(sources) - 1:
                    raise
    except AssertionError as error:
        outcome = "refused"
    except Exception as error:
        outcome = traceback.format_exc()
    outcomes[name] = outcome
print("OUTCOMES", json.dumps(outcomes))
"""


# Every notebook; the Keras ones on each of Keras's backends
RUNS = [(path, backend) for path in NOTEBOOKS
        for backend in (["tensorflow", "jax", "torch"] if path.parent.name == "keras" else [None])]


@pytest.mark.runs_notebook
@pytest.mark.parametrize("path, backend", RUNS,
                         ids=[str(p.relative_to(ROOT)) + (f"-{b}" if b else "") for p, b in RUNS])
def test_the_step_cell_passes_the_fixture_and_refuses_every_mutant(tmp_path, path, backend):
    folder, data = tmp_path / path.parent.name, tmp_path / "data"
    for made in (folder, data):
        made.mkdir()
    link_helpers(path.parent, folder)
    for name in ("mnist_train.csv", "mnist_test.csv", f"parity-{model_of(path)}.npz"):
        (data / name).symlink_to(ROOT / "data" / name)
    notebook = nbformat.read(path, as_version=4)
    found = mutants(path, notebook)
    expected = {"ε in the other form", "learning rate × 1.01", "β1 = 0.8", "β2 = 0.99", "summed loss",
                "a tensor left out", "dropout on"}
    assert expected <= set(found), f"{path.name}: mutants not written: {expected - set(found)}"
    notebook.cells = notebook.cells[:step_cell_index(notebook) + 1] + [
        new_code_cell(f"MUTANTS = {found!r}"), new_code_cell(RECHECK)]
    env = {**os.environ, "POLYDLOT_SMOKE": "1", "TMPDIR": str(tmp_path), **({"KERAS_BACKEND": backend} if backend else {})}
    execute(notebook, folder, env)  # the step cell itself must pass on the right code
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    outcomes = json.loads(printed.rpartition("OUTCOMES")[2])
    assert outcomes == {name: "refused" for name in found}, json.dumps(outcomes, indent=1, ensure_ascii=False)
