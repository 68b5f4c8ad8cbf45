"""Contract 6b and 6c: both checks compute in full float32 on a GPU too, and give training its default back.

The switch lives in one place per framework, its folder's runtime.py (`full_float32()`; MXNet, which has no
switch, `check_device()`; Theano runs on the CPU only). These tests run each switch on this machine, where the
settings exist without a GPU, and check that every notebook computes both checks inside it.
"""
import os
import subprocess
import sys

import pytest

from nbtools import NOTEBOOKS, ROOT, cells, source

ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
# How each framework's checks compute in full float32, as their cells write it
GUARD = {"pytorch": "runtime.full_float32()", "tensorflow": "runtime.full_float32()", "jax": "runtime.full_float32()",
         "keras": "runtime.full_float32(BACKEND)", "mxnet": "checking = runtime.check_device(device)"}


def check_cells(path):
    code = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    return next(c for c in code if 'Path("../data/parity-' in c), next(c for c in code if "EPSILON_FORM = " in c)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_both_checks_compute_inside_the_frameworks_switch(path):
    parity, step = check_cells(path)
    folder = path.parent.name
    if folder == "theano":  # CPU only: the prose says so
        assert "CPU" in next(source(c) for c in cells(path) if source(c).startswith("## Same weights, same numbers"))
        return
    if folder == "mxnet":
        assert GUARD[folder] in parity and "ctx=checking" in step
        assert "ctx=device" not in parity + step, f"{path.name}: a check's array on `device`"
        return
    for cell, computes in ((parity, "parity_loss = "), (step, "train")):
        guarded = cell.split(f"with {GUARD[folder]}:" if folder != "pytorch" or cell is step
                             else f"with torch.no_grad(), {GUARD[folder]}:")
        assert len(guarded) == 2, f"{path.name}: no `with {GUARD[folder]}` block"
        block = guarded[1].split("\n")
        inside = "\n".join(line for line in block[1:] if line.startswith("    "))
        assert computes in inside, f"{path.name}: the check computes outside {GUARD[folder]}"


def run(folder: str, code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "NVIDIA_TF32_OVERRIDE")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT / folder, env=environment | env,
                          capture_output=True, text=True, timeout=300)


SWITCH_AND_RESTORE = {
    "pytorch": ("import runtime, torch\n"
                "switches = (torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn)\n"
                "before = [s.fp32_precision for s in switches]\n"
                "with runtime.full_float32():\n    inside = [s.fp32_precision for s in switches]\n"
                "print(inside == ['ieee'] * 3, [s.fp32_precision for s in switches] == before)"),
    "tensorflow": ("import runtime, tensorflow as tf\n"
                   "with runtime.full_float32():\n"
                   "    inside = tf.config.experimental.tensor_float_32_execution_enabled()\n"
                   "print(inside is False, tf.config.experimental.tensor_float_32_execution_enabled() is True)"),
    "jax": ("import runtime, jax\nbefore = jax.config.jax_default_matmul_precision\n"
            "with runtime.full_float32():\n    inside = jax.config.jax_default_matmul_precision\n"
            "print(inside == 'float32', jax.config.jax_default_matmul_precision == before)"),
}


@pytest.mark.parametrize("folder", list(SWITCH_AND_RESTORE))
def test_each_switch_turns_tensorfloat32_off_and_back(folder):
    done = run(folder, SWITCH_AND_RESTORE[folder])
    assert done.stdout.split() == ["True", "True"], done.stderr[-2000:]


@pytest.mark.parametrize("backend, folder", [("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "pytorch")])
def test_keras_uses_its_backends_own_switch(backend, folder):
    code = (f"import runtime\nswitch = runtime.full_float32({backend!r})\n"
            "print(type(switch).__name__, switch.gen.gi_code.co_filename)")
    done = run("keras", code, KERAS_BACKEND=backend)
    name, filename = done.stdout.split()
    assert name == "_GeneratorContextManager" and filename == str(ROOT / folder / "runtime.py"), done.stderr[-2000:]


def test_mxnet_checks_on_the_cpu_unless_tensorfloat32_is_off_for_the_process():
    code = "import runtime, mxnet as mx\nprint(runtime.check_device(mx.gpu(0)))"
    cpu, gpu = run("mxnet", code), run("mxnet", code, NVIDIA_TF32_OVERRIDE="0")
    if cpu.returncode != 0 and "no wheel" in cpu.stderr:
        pytest.skip("MXNet is not installed here")
    assert (cpu.stdout.strip(), gpu.stdout.strip()) == ("cpu(0)", "gpu(0)"), cpu.stderr[-2000:] + gpu.stderr[-2000:]
