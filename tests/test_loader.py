"""The CSV-loading cell: identical everywhere, fast, and strict about bad input."""
from __future__ import annotations

import hashlib
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import fetch_mnist
from nbtools import NOTEBOOKS, ROOT, loading_cell

REFERENCE = NOTEBOOKS[0] if NOTEBOOKS else None
DATA = ROOT / "data"


def run_cell(data_dir: Path) -> dict:
    """Execute the loading cell's exact source, as a notebook would after its imports and parameters."""
    namespace = {"np": np, "Path": Path, "DATA_DIR": str(data_dir), "warnings": warnings}
    exec(loading_cell(REFERENCE), namespace)
    return namespace


def row(label: int, pixels: list[int] | None = None) -> str:
    values = [label] + (pixels if pixels is not None else [(label * 7 + i) % 256 for i in range(784)])
    return ",".join(str(v) for v in values)


def write_pair(folder: Path, train_rows: list[str], test_rows: list[str] | None = None) -> None:
    test_rows = test_rows if test_rows is not None else [row(d % 10) for d in range(5)]
    (folder / "mnist_train.csv").write_text("".join(r + "\n" for r in train_rows), encoding="utf-8")
    (folder / "mnist_test.csv").write_text("".join(r + "\n" for r in test_rows), encoding="utf-8")


GOOD = [row(d % 10) for d in range(20)]


def test_the_cell_is_identical_in_every_notebook():
    assert NOTEBOOKS, "no notebooks found"
    reference = loading_cell(REFERENCE)
    differing = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if loading_cell(p) != reference]
    assert not differing, f"the loading cell differs from {REFERENCE.relative_to(ROOT)} in {differing}"


def test_good_csv_loads_scaled_and_split(tmp_path):
    write_pair(tmp_path, GOOD)
    ns = run_cell(tmp_path)
    assert ns["x_train"].shape == (18, 784) and ns["x_val"].shape == (2, 784) and ns["x_test"].shape == (5, 784)
    assert ns["x_train"].dtype == np.float32 and ns["y_train"].dtype == np.int64
    expected = np.array([[int(v) for v in r.split(",")] for r in GOOD])
    np.testing.assert_array_equal(ns["y_train"], expected[:18, 0])
    np.testing.assert_array_equal(ns["y_val"], expected[18:, 0])
    np.testing.assert_array_equal(ns["x_train"], (expected[:18, 1:] / 255).astype(np.float32))
    assert ns["x_train"].min() >= 0 and ns["x_train"].max() <= 1


def test_three_digit_leading_zeros_and_missing_final_newline_are_fine(tmp_path):
    rows = GOOD[:]
    rows[3] = "007," + ",".join(["000", "00", "255"] + ["1"] * 781)
    write_pair(tmp_path, rows)
    (tmp_path / "mnist_train.csv").write_text("\n".join(rows), encoding="utf-8")
    ns = run_cell(tmp_path)
    assert ns["y_train"][3] == 7
    np.testing.assert_array_equal(ns["x_train"][3, :3] * 255, [0, 0, 255])


# Variants numpy's parser accepts and the hand-written parser before it refused. None changes a value: each
# file reads exactly as the plain one beside it.
FIVE = "5," + GOOD[6].split(",", 1)[1]
HARMLESS = {
    "a blank line (skipped)": (GOOD[:6] + [""] + GOOD[6:], GOOD),
    "Windows line ends": ([r + "\r" for r in GOOD], GOOD),
    "spaces around a field": (GOOD[:6] + [" " + FIVE.replace(",", " ,", 1)] + GOOD[7:], GOOD[:6] + [FIVE] + GOOD[7:]),
    "leading zeros beyond three digits": (GOOD[:6] + ["000" + FIVE] + GOOD[7:], GOOD[:6] + [FIVE] + GOOD[7:]),
    "a plus sign": (GOOD[:6] + ["+" + FIVE] + GOOD[7:], GOOD[:6] + [FIVE] + GOOD[7:]),
}


@pytest.mark.parametrize("case", HARMLESS, ids=list(HARMLESS))
def test_harmless_variants_read_as_the_plain_file(tmp_path, case):
    variant, plain = HARMLESS[case]
    (tmp_path / "variant").mkdir()
    (tmp_path / "plain").mkdir()
    write_pair(tmp_path / "variant", variant)
    write_pair(tmp_path / "plain", plain)
    got, expected = run_cell(tmp_path / "variant"), run_cell(tmp_path / "plain")
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(got[name], expected[name])


def bad_row(label="3", pixel="0", column=100, columns=785):
    fields = [label] + ["0"] * 784
    fields[column - 1] = pixel
    fields = (fields + ["0"] * columns)[:columns]
    return ",".join(fields)


BAD = {
    "header row": (["label," + ",".join(f"pixel{i}" for i in range(784))] + GOOD, "row 1: label 'label' is not an integer"),
    "784 columns": (GOOD[:4] + [bad_row(columns=784)] + GOOD, "row 5: 784 columns, expected 785 (a label and 784 pixels)"),
    "786 columns": (GOOD[:4] + [bad_row(columns=786)] + GOOD, "row 5: 786 columns, expected 785 (a label and 784 pixels)"),
    "786 columns in row 1": ([bad_row(columns=786)] + GOOD, "row 1: 786 columns, expected 785 (a label and 784 pixels)"),
    "non-integer pixel": (GOOD[:2] + [bad_row(pixel="1.5")] + GOOD, "row 3: pixel in column 100 '1.5' is not an integer"),
    "text pixel": (GOOD[:2] + [bad_row(pixel="abc", column=785)] + GOOD, "row 3: pixel in column 785 'abc' is not an integer"),
    "non-integer label": (GOOD[:2] + [bad_row(label="2.0")] + GOOD, "row 3: label '2.0' is not an integer"),
    "label 10": (GOOD[:7] + [bad_row(label="10")] + GOOD, "row 8: label 10 is outside 0-9"),
    "label -1": (GOOD[:7] + [bad_row(label="-1")] + GOOD, "row 8: label -1 is outside 0-9"),
    "pixel 256": (GOOD + [bad_row(pixel="256", column=2)], "row 21: pixel in column 2 256 is outside 0-255"),
    "pixel -1": (GOOD + [bad_row(pixel="-1", column=2)], "row 21: pixel in column 2 -1 is outside 0-255"),
    "huge pixel": (GOOD + [bad_row(pixel="99999")], "row 21: pixel in column 100 99999 is outside 0-255"),
    "empty pixel": (GOOD[:9] + [bad_row(pixel="")] + GOOD, "row 10: pixel in column 100 '' is not an integer"),
    "empty label": (GOOD[:9] + [bad_row(label="")] + GOOD, "row 10: label '' is not an integer"),
    "a pixel in hexadecimal": (GOOD[:6] + [bad_row(pixel="0x1f")] + GOOD, "row 7: pixel in column 100 '0x1f' is not an integer"),
    "a byte that is not ASCII": (GOOD[:1] + [bad_row(pixel="\u00e9")] + GOOD, "row 2: pixel in column 100 '\ufffd\ufffd' is not an integer"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_training_csv_names_file_row_and_fault(tmp_path, case):
    rows, fault = BAD[case]
    write_pair(tmp_path, rows)
    with pytest.raises(ValueError) as error:
        run_cell(tmp_path)
    assert str(error.value) == f"{tmp_path / 'mnist_train.csv'}: {fault}"


def test_bad_test_csv_is_named(tmp_path):
    write_pair(tmp_path, GOOD, test_rows=[row(1), bad_row(label="11")])
    with pytest.raises(ValueError, match=r"mnist_test\.csv: row 2: label 11 is outside 0-9$"):
        run_cell(tmp_path)


def test_empty_file(tmp_path):
    write_pair(tmp_path, [])
    with pytest.raises(ValueError, match=r"mnist_train\.csv: the file is empty$"):
        run_cell(tmp_path)


def test_missing_file_says_how_to_fetch(tmp_path):
    (tmp_path / "mnist_test.csv").write_text(row(1) + "\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError) as error:
        run_cell(tmp_path)
    assert str(tmp_path / "mnist_train.csv") in str(error.value)
    assert "make data" in str(error.value) and "MNIST_DATA_DIR" in str(error.value)


real_data = pytest.mark.skipif(not (DATA / "mnist_train.csv").is_file(), reason="MNIST CSVs not fetched (make data)")


@real_data
def test_real_mnist_loads_to_the_verified_arrays():
    ns = run_cell(DATA)
    assert (ns["x_train"].shape, ns["x_val"].shape, ns["x_test"].shape) == ((54000, 784), (6000, 784), (10000, 784))
    pixels = np.concatenate([ns["x_train"], ns["x_val"]]) * 255
    as_uint8 = np.round(pixels).astype(np.uint8)
    np.testing.assert_allclose(pixels, as_uint8, atol=1e-4)
    labels = np.concatenate([ns["y_train"], ns["y_val"]]).astype(np.uint8)
    assert hashlib.sha256(as_uint8.tobytes()).hexdigest() == fetch_mnist.MNIST.x_train
    assert hashlib.sha256(labels.tobytes()).hexdigest() == fetch_mnist.MNIST.y_train


MEASUREMENTS: list[str] = []  # printed at the end of the test run (conftest.py)


@real_data
def test_the_time_the_cell_takes_is_measured():
    """A measurement, not an assert: the time depends on the machine and on what else runs."""
    namespace = run_cell(DATA)  # defines read_mnist_csv (and warms the file cache)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        for name in ("mnist_train.csv", "mnist_test.csv"):
            namespace["read_mnist_csv"](DATA / name)
        timings.append(time.perf_counter() - start)
    MEASUREMENTS.append(f"the loading cell read both CSVs in {statistics.median(timings):.2f} s (median of 3)")
