"""tools/gpu_check.py (`make gpu-check`): no GPU, no check; a notebook that ran on the CPU fails it."""
from __future__ import annotations

import os
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

import gpu_check
from nbtools import ROOT

TOOL = [sys.executable, str(ROOT / "tools" / "gpu_check.py")]


def test_without_a_gpu_it_says_so_in_one_line_and_fails(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no nvidia-smi
    done = subprocess.run(TOOL, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "no NVIDIA GPU is visible" in done.stderr


def test_an_unknown_configuration_is_refused():
    assert gpu_check.main(["theano"]) == 2


def executed(*lines):
    cell = new_code_cell("")
    cell.outputs = [new_output("stream", name="stdout", text=line + "\n") for line in lines]
    return new_notebook(cells=[cell])


def test_a_row_says_what_the_notebook_printed_and_recorded():
    notebook = executed("Python 3.11.7, numpy 2.1.3, PyTorch 2.13.0, device cuda, 16 CPU threads",
                        "largest differences from the numpy reference: logits 2.4e-07, loss 1.2e-08")
    record = {"device": "cuda", "test_accuracy": 0.93411, "seconds_per_epoch": [1.234]}
    assert gpu_check.summary(notebook, record, "") == {"device": "cuda", "parity logits": "2.4e-07",
                                                       "parity loss": "1.2e-08", "test accuracy": "0.9341",
                                                       "s / epoch": "1.2", "result": "passed"}
    assert gpu_check.summary(notebook, record | {"device": "cpu"}, "")["result"] == "ran on cpu, not a GPU"
    failed = gpu_check.summary(notebook, None, "AssertionError: this model does not compute what the reference computes")
    assert failed["result"].startswith("AssertionError") and failed["device"] == "cuda"


def test_a_notebook_that_ran_on_the_cpu_fails_the_check(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA Pretend GPU'\n", encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([*TOOL, "pytorch"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1, done.stdout + done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| pytorch/")]
    assert len(rows) == len(gpu_check.NOTEBOOKS) == 3, done.stdout  # fully connected, convolutional, recurrent
    assert all("| cpu |" in row and "ran on cpu, not a GPU" in row for row in rows), done.stdout
    assert all(float(row.split(" | ")[3]) <= 1e-4 for row in rows)  # the parity cell ran and printed its gaps
