"""requirements.txt and environment.yml describe one environment."""
import re

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from nbtools import ROOT


def pins(lines):
    return sorted(line.strip() for line in lines if re.match(r"^[A-Za-z0-9_.\-]+==", line.strip()))


def test_every_requirement_is_pinned():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    loose = [l for l in lines if l and not l.startswith("#") and "==" not in l]
    assert not loose, f"unpinned requirements: {loose}"


def test_environment_yml_mirrors_requirements():
    conda = (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
    assert "  - python=3.11" in conda
    pip_section = [l.strip().removeprefix("- ") for l in conda if l.startswith("      - ")]
    assert pins(pip_section) == pins((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())


def requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


ENVIRONMENTS = {  # what pip's markers see on each supported platform
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64", "os_name": "posix"},
    "linux-aarch64": {"sys_platform": "linux", "platform_machine": "aarch64", "os_name": "posix"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64", "os_name": "posix"},
}


@pytest.mark.parametrize("platform", ENVIRONMENTS)
def test_each_platform_gets_one_tensorflow_and_mxnet_only_where_it_has_wheels(platform):
    environment = {**default_environment(), "python_full_version": "3.11.7", "python_version": "3.11",
                   **ENVIRONMENTS[platform]}
    chosen = {r.name.lower().replace("_", "-") for r in requirements() if r.marker is None or r.marker.evaluate(environment)}
    tensorflow = chosen & {"tensorflow", "tensorflow-cpu"}
    assert tensorflow == ({"tensorflow-cpu"} if platform == "linux-x86_64" else {"tensorflow"})
    assert ("mxnet" in chosen) == platform.startswith("linux")
    assert {"torch", "jax", "jaxlib", "flax", "optax", "keras", "theano", "numpy"} <= chosen


def test_no_cuda_package_is_pinned():
    """torch pins its CUDA packages itself; pinned here, they would be installed beside PyTorch's CPU build."""
    pinned = [r.name for r in requirements() if r.name.startswith(("nvidia-", "cuda-", "triton"))]
    assert not pinned and any(r.name == "torch" and str(r.specifier) == "==2.13.0" for r in requirements())
