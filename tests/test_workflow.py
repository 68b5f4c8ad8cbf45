"""The GitHub workflow runs the README's test command, and is valid against GitHub's workflow schema."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nbtools import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"


def check(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema (pinned in requirements.txt) with the schema of GitHub workflows it ships."""
    checker = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True)


def test_the_workflow_is_valid():
    done = check(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_finds_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    step:\n      - run: make test\n", encoding="utf-8")
    assert check(broken).returncode != 0


def test_the_workflow_runs_the_readme_test_command_on_push_pull_requests_and_weekly():
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "run: make test\n" in text and "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    for trigger in ("push:", "pull_request:", "schedule:"):
        assert f"\n  {trigger}" in text, trigger
    assert "- cron: " in text
    assert 'python-version: "3.11"' in text and "cache: pip" in text and "libopenblas-dev" in text
