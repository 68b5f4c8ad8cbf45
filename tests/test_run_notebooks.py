"""tools/run_notebooks.py: what `make run` does to outputs before they are committed."""
import base64
import os
import time

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

import run_notebooks


def notebook_with(*outputs):
    cell = new_code_cell("print(1)")
    cell.outputs = list(outputs)
    return new_notebook(cells=[cell])


def test_stderr_is_taken_out_and_shown(capsys):
    notebook = notebook_with(new_output("stream", name="stdout", text="kept\n"),
                             new_output("stream", name="stderr", text="W0000 some log line\n"))
    assert run_notebooks.clean(notebook, "nb") == []
    assert [o["name"] for o in notebook.cells[0].outputs] == ["stdout"]
    assert "some log line" in capsys.readouterr().err


def test_machine_paths_progress_bars_and_large_images_are_reported():
    big = base64.b64encode(b"\x89PNG" + bytes(run_notebooks.MAX_IMAGE_BYTES)).decode()
    notebook = notebook_with(new_output("stream", name="stdout", text=f"saved {run_notebooks.machine_paths()[0]}/x\n"),
                             new_output("stream", name="stdout", text="50%\r100%\n"),
                             new_output("display_data", data={"image/png": big, "text/plain": "<Figure>"}))
    problems = run_notebooks.clean(notebook, "nb")
    assert len(problems) == 3
    assert "path" in problems[0] and "progress bar" in problems[1] and "image of" in problems[2]
    nbformat.validate(notebook)


def test_a_failing_notebook_is_saved_with_its_error_and_reported(tmp_path):
    path = tmp_path / "failing.ipynb"
    notebook = new_notebook(cells=[new_code_cell("print('before')"), new_code_cell("assert 1 == 2, 'bar missed'")])
    nbformat.write(notebook, path)
    problems = run_notebooks.run(path, save=True)
    assert len(problems) == 1 and "failed" in problems[0] and "bar missed" in problems[0]
    saved = nbformat.read(path, as_version=4)
    assert saved.cells[0].outputs[0]["text"] == "before\n"
    assert saved.cells[1].outputs[0]["output_type"] == "error"


def test_the_kernel_is_shut_down_after_the_run(tmp_path):
    path = tmp_path / "pid.ipynb"
    notebook = new_notebook(cells=[new_code_cell("import os\nprint(os.getpid())")])
    nbformat.write(notebook, path)
    assert run_notebooks.run(path, save=True) == []
    pid = int(nbformat.read(path, as_version=4).cells[0].outputs[0]["text"])
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"kernel {pid} still runs after its notebook finished")
