"""tools/run_notebooks.py: what `make run` does to outputs before they are committed."""
import base64
import json
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


def environment_notebook(path):
    """A notebook that writes what its kernel sees of POLYDLOT_SMOKE into a file beside it, and prints it."""
    code = ("import os, pathlib\nseen = os.environ.get('POLYDLOT_SMOKE', 'unset')\n"
            "pathlib.Path('seen.txt').write_text(seen)\nprint(seen)")
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), path)


def test_main_runs_without_the_smoke_variable_and_saves_the_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYDLOT_SMOKE", "1")
    path = tmp_path / "env.ipynb"
    environment_notebook(path)
    assert run_notebooks.main([str(path)]) == 0
    assert (tmp_path / "seen.txt").read_text(encoding="utf-8") == "unset"
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "unset\n"


def test_records_only_runs_the_notebook_and_leaves_its_file_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYDLOT_SMOKE", "1")
    path = tmp_path / "env.ipynb"
    environment_notebook(path)
    before = path.read_bytes()
    assert run_notebooks.main(["--records-only", str(path)]) == 0
    assert (tmp_path / "seen.txt").read_text(encoding="utf-8") == "unset"  # it ran, as a full run
    assert path.read_bytes() == before


def test_main_leaves_this_process_environment_alone(tmp_path, monkeypatch):
    """The kernels get the environment without POLYDLOT_SMOKE; the caller (this test suite) keeps it."""
    monkeypatch.setenv("POLYDLOT_SMOKE", "1")
    path = tmp_path / "env.ipynb"
    environment_notebook(path)
    run_notebooks.main(["--records-only", str(path)])
    assert os.environ.get("POLYDLOT_SMOKE") == "1"


def test_main_fails_when_a_notebook_fails(tmp_path):
    path = tmp_path / "failing.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("raise ValueError('broken')")]), path)
    assert run_notebooks.main(["--records-only", str(path)]) == 1
    assert run_notebooks.main([]) == 2


def test_the_records_a_run_writes_are_noted_with_the_cpu(tmp_path, monkeypatch):
    """results/machine.json: each record a notebook wrote, and the CPU it was written on; others kept."""
    results = tmp_path / "results"
    results.mkdir()
    (results / "old-fcn.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(run_notebooks, "MACHINE_RECORD", results / "machine.json")
    monkeypatch.setattr(run_notebooks, "cpu_name", lambda: "Test CPU")
    run_notebooks.note_machine([results / "kept-fcn.json"], "Earlier CPU")
    path = tmp_path / "record.ipynb"
    code = f"import pathlib\npathlib.Path({str(results / 'new-fcn.json')!r}).write_text('{{}}')"
    nbformat.write(new_notebook(cells=[new_code_cell(code)]), path)
    assert run_notebooks.main(["--records-only", str(path)]) == 0
    assert json.loads((results / "machine.json").read_text(encoding="utf-8")) == {
        "kept-fcn.json": "Earlier CPU", "new-fcn.json": "Test CPU"}


def test_the_cpu_has_a_name():
    assert run_notebooks.cpu_name().strip()
