"""Execute notebooks in place with full training and leave clean, small outputs (what `make run` does).

Usage: python tools/run_notebooks.py [--records-only] NOTEBOOK [NOTEBOOK ...]

Each notebook runs in its own folder with POLYDLOT_SMOKE unset; one that fails is saved with its error and
the others still run. Afterwards stderr outputs are taken out of the notebook and shown here instead (so a
real warning is seen, not committed), and the run fails if a notebook failed or an output holds a path of
this machine, a progress bar or an image larger than the contract allows.

--records-only executes the notebooks for their results records and leaves the notebook files as they
are (used for the Keras notebooks on their JAX and torch backends, whose committed outputs stay those of
the default TensorFlow backend).

Every record a notebook writes into results/ is noted in results/machine.json with the CPU of the machine
it ran on (the record's own "device" says whether a GPU did the work), so that epochs timed on two machines
are never pooled into one speed (tools/seed_study.py, tools/results_table.py).
"""
from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
MACHINE_RECORD = ROOT / "results" / "machine.json"
MAX_IMAGE_BYTES = 60_000
# Quiet the C++ start-up log lines of TensorFlow and XLA; warnings and errors still show.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def cpu_name() -> str:
    """The processor's model name, as the operating system gives it (the machine, where it gives none)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    if platform.system() == "Darwin":
        return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                              text=True, check=False).stdout.strip() or platform.machine()
    return platform.processor() or platform.machine()


def note_machine(written: list[Path], machine: str, record: Path | None = None) -> None:
    """Note in `record` (results/machine.json) that each results file in `written` was produced on `machine`."""
    record = record or MACHINE_RECORD
    notes = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
    notes.update({path.name: machine for path in written})
    record.write_text(json.dumps(dict(sorted(notes.items())), indent=2) + "\n", encoding="utf-8")


def machine_paths() -> list[str]:
    paths = {str(Path.cwd().resolve()), str(Path.home()), sys.prefix}
    return sorted(p for p in paths if p not in ("", "/"))


def clean(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """Drop stderr outputs (echoing them) and return what breaks the output rules."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                print(f"{name} cell {index} stderr (not committed):\n{output['text'].rstrip()}", file=sys.stderr)
                continue
            kept.append(output)
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str))
            problems += [f"{name} cell {index}: output holds the path {p}" for p in machine_paths() if p in text]
            if "\r" in text or "\x1b[" in text:
                problems.append(f"{name} cell {index}: a progress bar or terminal escape in the output")
            png = output.get("data", {}).get("image/png")
            if png and len(base64.b64decode(png)) > MAX_IMAGE_BYTES:
                problems.append(f"{name} cell {index}: image of {len(base64.b64decode(png)):,} bytes")
        cell.outputs = kept
    return problems


def link_helpers(folder: Path, copy: Path) -> None:
    """Link the modules a notebook imports from its own folder (runtime.py) into the folder of its copy."""
    for module in sorted(folder.glob("*.py")):
        (copy / module.name).symlink_to(module.resolve())


def execute(notebook: nbformat.NotebookNode, folder: Path, env: dict[str, str] | None = None) -> None:
    """Run every cell in a new python3 kernel working in `folder`, with `env` (default: this process's
    environment); a failing cell raises CellExecutionError."""
    with tempfile.TemporaryDirectory() as sockets:  # the kernel talks over local sockets here, not TCP ports
        config = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets, "kernel"))}})
        NotebookClient(notebook, config=config, kernel_name="python3", timeout=None, record_timing=False,
                       resources={"metadata": {"path": str(folder)}}).execute(env=env or dict(os.environ))


def run(path: Path, save: bool, env: dict[str, str] | None = None) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    before = {p: p.stat().st_mtime_ns for p in MACHINE_RECORD.parent.glob("*.json")}
    try:
        execute(notebook, path.parent, env)
        problems = []
    except CellExecutionError as error:
        problems = [f"{path} failed (its outputs show where):\n{str(error).strip().splitlines()[-1]}"]
    written = [p for p in MACHINE_RECORD.parent.glob("*.json")
               if p != MACHINE_RECORD and before.get(p) != p.stat().st_mtime_ns]
    if written:
        note_machine(written, cpu_name())
    if not save:
        return problems
    problems += clean(notebook, str(path))
    nbformat.write(notebook, path)
    return problems


def main(argv: list[str]) -> int:
    save = "--records-only" not in argv
    argv = [a for a in argv if a != "--records-only"]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = {key: value for key, value in os.environ.items() if key != "POLYDLOT_SMOKE"} | QUIET  # full runs
    problems, start = [], time.perf_counter()
    for name in argv:
        began = time.perf_counter()
        problems += run(Path(name), save, env)
        print(f"{time.perf_counter() - began:8.1f} s  {name}", flush=True)
    print(f"{time.perf_counter() - start:8.1f} s  all {len(argv)} notebooks")
    for problem in problems:
        print(f"run_notebooks: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
