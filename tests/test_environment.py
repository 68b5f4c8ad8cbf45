"""requirements.txt and environment.yml describe one environment."""
import re

from nbtools import ROOT


def pins(lines):
    return sorted(line.strip() for line in lines if re.match(r"^[A-Za-z0-9_.\-]+==", line.strip()))


def test_every_requirement_is_pinned():
    lines = [l.strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    loose = [l for l in lines if l and not l.startswith("#") and "==" not in l]
    assert not loose, f"unpinned requirements: {loose}"


def test_environment_yml_mirrors_requirements():
    conda = (ROOT / "environment.yml").read_text().splitlines()
    assert "  - python=3.11" in conda
    pip_section = [l.strip().removeprefix("- ") for l in conda if l.startswith("      - ")]
    assert pins(pip_section) == pins((ROOT / "requirements.txt").read_text().splitlines())
