"""Every relative link in the READMEs and in the notebooks' markdown points at a file of the repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nbtools import ROOT, cells, source

LINK = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
DOCUMENTS = sorted({ROOT / "README.md", *ROOT.glob("*.md"), *ROOT.glob("*/README.md"), *ROOT.glob("*.ipynb"),
                    *ROOT.glob("*/0[123]-mnist-*.ipynb")} - set(ROOT.glob(".venv/**/*")))


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def relative_links(text: str) -> list[str]:
    return [t for t in LINK.findall(text) if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", t, re.I)]


def test_the_link_pattern_finds_relative_links_only():
    text = ("[a](b.md) ![plot](img/x.png) [c](https://example.org/d) [e](#section) [f](g/h.ipynb#top) "
            "[i](mailto:someone@example.org)")
    assert relative_links(text) == ["b.md", "img/x.png", "g/h.ipynb#top"]


def dead_links(document: Path, root: Path = ROOT) -> list[str]:
    """The relative links of `document` that name no file or folder inside `root`."""
    dead = []
    for target in relative_links(markdown_of(document)):
        path = (document.parent / target.split("#")[0]).resolve()
        if not path.exists() or not path.is_relative_to(root):
            dead.append(target)
    return dead


def test_a_dead_link_and_a_link_out_of_the_repository_are_found(tmp_path):
    (tmp_path / "repo" / "docs").mkdir(parents=True)
    (tmp_path / "outside.md").write_text("", encoding="utf-8")
    (tmp_path / "repo" / "docs" / "here.md").write_text("", encoding="utf-8")
    document = tmp_path / "repo" / "README.md"
    document.write_text("[ok](docs/here.md) [ok too](docs/) [gone](docs/gone.md) [out](../outside.md)", encoding="utf-8")
    assert dead_links(document, tmp_path / "repo") == ["docs/gone.md", "../outside.md"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_relative_links_resolve(document):
    dead = dead_links(document)
    assert not dead, f"{document.relative_to(ROOT)}: links that lead nowhere in the repository: {dead}"


FRAMEWORKS = sorted({p.parent.name for p in ROOT.glob("*/0[123]-mnist-*.ipynb")})


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_readmes_link_both_ways(framework):
    """The README links each framework's README; that README links back and to its notebooks."""
    assert f"{framework}/README.md" in relative_links(markdown_of(ROOT / "README.md"))
    links = relative_links(markdown_of(ROOT / framework / "README.md"))
    assert "../README.md" in links
    notebooks = sorted(p.name for p in (ROOT / framework).glob("0[123]-mnist-*.ipynb"))
    assert set(notebooks) <= set(links), f"{framework}/README.md does not link {notebooks}"


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/0[123]-mnist-*.ipynb")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_notebook_title_links_its_framework_readme(path):
    title = next(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    assert "README.md" in relative_links(title), f"{path.name}: the title cell does not link README.md"
