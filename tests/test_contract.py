"""Every notebook keeps the contract of CONTRIBUTING.md and commits clean full-run outputs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nbtools import (EPOCHS, FLOOR, MACHINE_PATH, MODELS, NOTEBOOKS, PARAMETERS, ROOT, assert_clean_outputs, cells, model_of,
                     output_text, source)

ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+): loss=\d\.\d{4} accuracy=\d\.\d{4} val_loss=\d\.\d{4} "
                        r"val_accuracy=\d\.\d{4} time=\d+\.\ds$")


def code_cells(path: Path) -> list[dict]:
    return [c for c in cells(path) if c["cell_type"] == "code"]


def stdout(cell: dict) -> str:
    return "".join(output_text(o) for o in cell.get("outputs", []) if o.get("name") == "stdout")


def first_index(path: Path, predicate, what: str) -> int:
    found = [i for i, c in enumerate(cells(path)) if c["cell_type"] == "code" and predicate(source(c))]
    assert found, f"{path.name}: no {what} cell"
    return found[0]


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def record_path(path: Path) -> Path:
    return ROOT / "results" / f"{path.parent.name}-{model_of(path)}.json"


def test_every_framework_folder_has_its_three_notebooks_and_a_readme():
    folders = {p.parent for p in NOTEBOOKS}
    for folder in folders:
        assert all((folder / name).is_file() for name in MODELS.values()), folder.name
        assert (folder / "README.md").is_file(), f"{folder.name}/README.md is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_kernelspec_and_title(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    first = notebook["cells"][0]
    kind = {"fcn": "a fully connected network", "cnn": "a convolutional network",
            "rnn": "a recurrent network"}[model_of(path)]
    assert first["cell_type"] == "markdown"
    assert source(first).startswith(f"# MNIST digit classification with {kind} — ")


STEPS = [  # the code cells of every notebook, one step each, in this order (CONTRIBUTING.md)
    ("imports and device", lambda s: "import numpy as np" in s and "print(" in s),
    ("parameters", lambda s: "TRAIN_LIMIT = None" in s),
    ("this run", lambda s: "if SMOKE:" in s and "NUM_EPOCHS, TRAIN_LIMIT = 1, 6000" in s),
    ("loading", lambda s: "mnist_train.csv" in s),
    ("data for the framework", lambda s: "x_train, y_train = x_train[:TRAIN_LIMIT]" in s),
    ("model", lambda s: "trainable parameters" in s),
    ("same weights, same numbers", lambda s: 'Path("../data/parity-' in s and "assert agrees" in s),
    ("optimizer and evaluation", lambda s: "def evaluate(net, x, y, batch_size=1000):" in s),
    ("same gradients, same step", lambda s: "EPSILON_FORM = " in s and "step_gap <= " in s),
    ("epoch line", lambda s: "def log_epoch(" in s),
    ("training", lambda s: "range(1, NUM_EPOCHS + 1)" in s or "net.fit(" in s),
    ("learning curves", lambda s: "history[metric]" in s),
    ("test evaluation", lambda s: "evaluate(net, x_test, y_test)" in s),
    ("confusion matrix", lambda s: "pd.crosstab(" in s),
    ("misclassified digits", lambda s: "wrong = " in s),
    ("save and reload", lambda s: "reloaded" in s and "full_run = " in s),
    ("record", lambda s: "record_path.write_text" in s),
    ("check", lambda s: "assert test_accuracy >= floor" in s),
]
FRAMEWORK_NAMES = re.compile(r"\b(Keras|TensorFlow|PyTorch|JAX|MXNet|Theano)\b")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_cells_are_the_contract_steps_in_order(path):
    code = [source(c) for c in code_cells(path)]
    assert len(code) == len(STEPS), f"{path.name}: {len(code)} code cells, expected {len(STEPS)}"
    wrong = [f"code cell {i}: not the {name} step" for i, ((name, is_step), cell) in enumerate(zip(STEPS, code))
             if not is_step(cell)]
    assert not wrong, f"{path.name}: {wrong}"
    assert "parameters" in tags(code_cells(path)[1]), "the second code cell must be tagged 'parameters'"


def headings(path: Path) -> list[str]:
    return [FRAMEWORK_NAMES.sub("<framework>", line) for c in cells(path) if c["cell_type"] == "markdown"
            for line in source(c).splitlines() if line.startswith("#")]


@pytest.mark.parametrize("model", list(MODELS))
def test_notebooks_of_a_model_line_up(model):
    """Side by side: the same headings in the same order and the same number of code cells."""
    notebooks = [p for p in NOTEBOOKS if model_of(p) == model]
    reference = notebooks[0]
    for path in notebooks[1:]:
        assert headings(path) == headings(reference), f"{path.relative_to(ROOT)}: headings differ from {reference.relative_to(ROOT)}"
        assert len(code_cells(path)) == len(code_cells(reference))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_code_cell_follows_a_sentence_of_markdown(path):
    all_cells = cells(path)
    for index, cell in enumerate(all_cells):
        if cell["cell_type"] == "code":
            assert index > 0 and all_cells[index - 1]["cell_type"] == "markdown", f"{path.name}: cell {index}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_deterministic_cells_are_checked_by_nbval(path):
    checked = [c for c in code_cells(path) if "nbval-check-output" in tags(c)]
    assert len(checked) == 2, f"{path.name}: expected the loading and parameter-count cells to be checked"
    assert "mnist_train.csv" in source(checked[0])
    assert stdout(checked[0]) == "train (54000, 784), validation (6000, 784), test (10000, 784)\n"
    assert stdout(checked[1]).strip().endswith(f"trainable parameters: {PARAMETERS[model_of(path)]:,}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_outputs_are_a_clean_full_run(path):
    assert_clean_outputs(path)
    code = code_cells(path)
    epochs = [line for c in code for line in stdout(c).splitlines() if line.startswith("Epoch ")]
    assert epochs, f"{path.name}: no epoch lines committed"
    assert all(EPOCH_LINE.match(line) for line in epochs), f"{path.name}: an epoch line breaks the format"
    assert [EPOCH_LINE.match(line).group(1, 2) for line in epochs] == [
        (str(e), str(EPOCHS[model_of(path)])) for e in range(1, EPOCHS[model_of(path)] + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_record_is_the_full_run_shown(path):
    record = json.loads(record_path(path).read_text(encoding="utf-8"))
    model = model_of(path)
    assert record["smoke"] is False
    assert record["model"] == model and record["parameters"] == PARAMETERS[model]
    assert record["seed"] == 42 and record["epochs"] == EPOCHS[model] and record["train_rows"] == 54000
    assert len(record["seconds_per_epoch"]) == EPOCHS[model]
    assert record["total_train_seconds"] == pytest.approx(sum(record["seconds_per_epoch"]), abs=0.05)
    assert record["test_accuracy"] >= FLOOR[model]
    shown = "".join(stdout(c) for c in code_cells(path))
    assert f'"test_accuracy": {record["test_accuracy"]}' in shown, "the record differs from the notebook's output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_parity_cell_shows_its_largest_differences(path):
    parity = [c for c in code_cells(path) if "Path(\"../data/parity-" in source(c)][0]
    found = re.search(r"largest differences from the numpy reference: logits (\S+), loss (\S+)$", stdout(parity).strip())
    assert found, f"{path.name}: the parity cell's output is missing"
    assert float(found.group(1)) <= 1e-4 and float(found.group(2)) <= 1e-5


STEP_LINE = re.compile(r"largest gaps from the numpy reference: gradients (\S+) of each tensor's largest; "
                       r"weights after two Adam steps \((paper|epsilon_hat) form of ε\) (\S+)")
FORMS = {"keras": "epsilon_hat", "mxnet": "epsilon_hat"}  # Keras's and MXNet's Adam; the others' is the paper's


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_step_cell_shows_its_gaps_and_its_form_of_epsilon(path):
    step = next(c for c in code_cells(path) if "EPSILON_FORM = " in source(c))
    found = STEP_LINE.search(stdout(step))
    assert found, f"{path.name}: the step cell's output is missing"
    assert float(found.group(1)) <= 1e-4 and float(found.group(3)) <= 5e-7
    assert found.group(2) == FORMS.get(path.parent.name, "paper")


@pytest.mark.parametrize("text", ["C:\\Users\\ann\\polydlot", "C:\\\\Users\\\\ann", "c:/Users/ann", "/opt/conda/lib",
                                  "/srv/polydlot/data", "/var/folders/xy/T/polydlot-results", "/home/ann/polydlot",
                                  "/Users/ann/polydlot", "/tmp/polydlot-results", "/root/polydlot"])
def test_a_machine_path_in_an_output_is_recognised(text):
    assert MACHINE_PATH.search(f"wrote {text}/pytorch-fcn.json")


@pytest.mark.parametrize("text", ["wrote results/pytorch-fcn.json", "saved pytorch-fcn.pt in models/",
                                  "loss=0.0712 accuracy=0.9781", "train (54000, 784)"])
def test_relative_paths_and_numbers_are_not_machine_paths(text):
    assert not MACHINE_PATH.search(text)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "theano"], ids=lambda p: p.stem)
def test_theanos_first_epoch_counts_its_compiling(path):
    """Theano compiles its functions before the training loop; the first epoch counts that time, as every
    other framework's first epoch holds its tracing, compiling or hybridizing."""
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    before, after = next(c for c in code if "compiling = time.perf_counter()" in c).split(
        "compiling = time.perf_counter()")
    # compile_train_step is only defined before the clock starts; it compiles when called, after
    assert before.count("theano.function(") == 1 and "def compile_train_step(" in before
    assert "train_step = compile_train_step(weights)" in after and after.count("theano.function(") == 2
    assert after.rstrip().split("\n\n\n")[0].endswith("compile_seconds = time.perf_counter() - compiling")
    loop = next(c for c in code if "for epoch in range(1, NUM_EPOCHS + 1):" in c)
    assert "start = time.perf_counter() - (compile_seconds if epoch == 1 else 0.0)" in loop
