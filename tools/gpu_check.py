"""Run every GPU-capable notebook in smoke mode on this machine's NVIDIA GPU and check what it did.

Usage: python tools/gpu_check.py [--write] [CONFIGURATION ...]      (what `make gpu-check` runs)

A configuration is a notebook folder and, for Keras, its backend: pytorch, tensorflow, jax, mxnet,
keras-tensorflow, keras-jax, keras-torch (default: all seven; Theano is CPU only). Each of its notebooks runs as a smoke run, in a
kernel of its own, in a temporary folder (nothing in results/ or models/ changes). The check fails unless every
notebook reports a GPU device, passes its "Same weights, same numbers" cell (TensorFloat-32 off) and its smoke
floor. It prints one table: notebook, backend, device, parity gaps, test accuracy and seconds per epoch;
--write also writes it, with the GPU's name and the date, to results/gpu/gpu-check.md. Without a visible NVIDIA
GPU it says so in one line and exits with status 1.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from run_notebooks import QUIET, execute, link_helpers

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATIONS = {"pytorch": ("pytorch", None), "tensorflow": ("tensorflow", None), "jax": ("jax", None),
                  "mxnet": ("mxnet", None),
                  "keras-tensorflow": ("keras", "tensorflow"), "keras-jax": ("keras", "jax"),
                  "keras-torch": ("keras", "torch")}
NOTEBOOKS = ["01-mnist-fcn.ipynb", "02-mnist-cnn.ipynb", "03-mnist-rnn.ipynb"]
HEADER = ["notebook", "backend", "device", "parity logits", "parity loss", "test accuracy", "s / epoch", "result"]


def gpus() -> list[str]:
    """The names of the NVIDIA GPUs that nvidia-smi lists; none without the driver."""
    if shutil.which("nvidia-smi") is None:
        return []
    done = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True)
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def is_gpu(device: str) -> bool:
    return device.lower().startswith(("cuda", "gpu"))


def summary(notebook: nbformat.NotebookNode, record: dict | None, failure: str) -> dict[str, str]:
    """The table's cells for one executed notebook: what its device line, parity line and record say."""
    printed = "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                        for output in cell.get("outputs", []))
    device = re.search(r", device ([^,\s]+)", printed)
    parity = re.search(r"largest differences from the numpy reference: logits (\S+), loss (\S+)", printed)
    row = {"device": record["device"] if record else (device.group(1) if device else "?"),
           "parity logits": parity.group(1) if parity else "-", "parity loss": parity.group(2) if parity else "-",
           "test accuracy": f"{record['test_accuracy']:.4f}" if record else "-",
           "s / epoch": f"{record['seconds_per_epoch'][-1]:.1f}" if record else "-"}
    problem = failure or ("" if is_gpu(row["device"]) else f"ran on {row['device']}, not a GPU")
    return row | {"result": problem or "passed"}


def check(folder: str, backend: str | None, name: str) -> dict[str, str]:
    path = ROOT / folder / name
    with tempfile.TemporaryDirectory() as temporary:
        copy = Path(temporary, folder)
        copy.mkdir()
        link_helpers(path.parent, copy)
        Path(temporary, "data").symlink_to(ROOT / "data")  # CSVs and parity fixtures, read only
        env = {key: value for key, value in os.environ.items() if key not in ("MNIST_DATA_DIR", "KERAS_BACKEND")}
        env.update(QUIET, POLYDLOT_SMOKE="1", TMPDIR=temporary, **({"KERAS_BACKEND": backend} if backend else {}))
        notebook = nbformat.read(path, as_version=4)
        failure = ""
        try:
            execute(notebook, copy, env)
        except CellExecutionError as error:
            failure = f"{error.ename}: {error.evalue}"[:120]
        records = sorted(Path(temporary, "polydlot-results").glob("*.json"))
        record = json.loads(records[0].read_text(encoding="utf-8")) if len(records) == 1 else None
    return {"notebook": f"{folder}/{name}", "backend": backend or "-"} | summary(notebook, record, failure)


def markdown(rows: list[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(row[column] for column in HEADER) + " |" for row in rows])


def main(argv: list[str]) -> int:
    write = "--write" in argv
    chosen = [a for a in argv if a != "--write"] or list(CONFIGURATIONS)
    unknown = [c for c in chosen if c not in CONFIGURATIONS]
    if unknown:
        print(f"gpu-check: unknown configuration {', '.join(unknown)}; choose from {', '.join(CONFIGURATIONS)}",
              file=sys.stderr)
        return 2
    names = gpus()
    if not names:
        print("gpu-check: no NVIDIA GPU is visible here (nvidia-smi lists none), so nothing was checked",
              file=sys.stderr)
        return 1
    rows = []
    for configuration in chosen:
        folder, backend = CONFIGURATIONS[configuration]
        for name in NOTEBOOKS:
            rows.append(check(folder, backend, name))
            print(f"gpu-check: {rows[-1]['notebook']} ({rows[-1]['backend']}): {rows[-1]['result']}", flush=True)
    table = markdown(rows)
    print(table)
    if write:
        out = ROOT / "results" / "gpu" / "gpu-check.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"Smoke runs on {', '.join(names)}, {date.today().isoformat()} "
                       f"(`python tools/gpu_check.py --write {' '.join(chosen)}`):\n\n{table}\n", encoding="utf-8")
        print(f"gpu-check: wrote {out.relative_to(ROOT)}")
    return 0 if all(row["result"] == "passed" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
