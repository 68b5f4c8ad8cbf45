"""Pin the environment for every supported platform, and check that the pins install on each.

Usage: python tools/platforms.py --compile   (make requirements: requirements.in -> requirements.txt, environment.yml)
       python tools/platforms.py             (make platforms: resolve requirements.txt for each platform of
                                              PLATFORMS, print the table and write it into README.md)
       python tools/platforms.py --check     (the same, but only say whether README.md's table is current)

--compile runs uv's universal resolver (`uv pip compile --universal`), which writes one requirements.txt whose
environment markers select each platform's packages (tensorflow-cpu on Linux x86-64, tensorflow elsewhere; mxnet
on Linux only). The CUDA packages that PyTorch's Linux wheel requires are left out: torch pins each of them
exactly itself, and leaving them out lets PyTorch's CPU build satisfy the file (README.md, Set-up).
Without --compile, each platform is resolved from requirements.txt with `uv pip compile --python-platform`, which
also checks that every pinned package has a wheel for that platform (no network: exit status 3, "offline").
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "3.11.7"
# (what the README calls it, uv's --python-platform, whether the notebooks run there, what else it needs)
PLATFORMS = [("Linux x86-64", "x86_64-manylinux_2_28", True, ""),
             ("Linux aarch64 (Graviton, Raspberry Pi 5, Docker on a Mac)", "aarch64-manylinux_2_28", True, ""),
             ("macOS 14+ arm64 (Apple Silicon)", "aarch64-apple-darwin", True,
              "no MXNet (no wheel): its notebooks are skipped; Theano needs Xcode's command line tools"),
             ("macOS x86-64 (Intel)", "x86_64-apple-darwin", False, "no jaxlib or torch wheels"),
             ("Windows x86-64", "x86_64-pc-windows-msvc", False,
              "no MXNet wheel, Theano needs a C++ compiler: use WSL (Linux x86-64)")]
LEFT_OUT = ["triton", "cuda-toolkit", "cuda-bindings", "cuda-pathfinder", "nvidia-cublas", "nvidia-cuda-cupti",
            "nvidia-cuda-nvrtc", "nvidia-cuda-runtime", "nvidia-cudnn-cu13", "nvidia-cufft", "nvidia-cufile",
            "nvidia-curand", "nvidia-cusolver", "nvidia-cusparse", "nvidia-cusparselt-cu13", "nvidia-nccl-cu13",
            "nvidia-nvjitlink", "nvidia-nvshmem-cu13", "nvidia-nvtx"]
START, END = "<!-- platforms:start -->", "<!-- platforms:end -->"
OFFLINE = ("Failed to fetch", "dns error", "error sending request", "Could not connect", "tcp connect error")


def uv(*arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0", "UV_NO_CONFIG": "1"}
    return subprocess.run([sys.executable, "-m", "uv", *arguments], capture_output=True, text=True, env=env, cwd=ROOT)


def compile_pins() -> int:
    """requirements.in -> requirements.txt (universal) and the pip section of environment.yml."""
    with tempfile.TemporaryDirectory() as temporary:
        # numpy stays 1.26.4 (MXNet and Theano need it) in the forks uv also resolves for Pythons after 3.11
        override = Path(temporary, "override.txt")
        override.write_text("numpy==1.26.4\n", encoding="utf-8")
        done = uv("pip", "compile", "--universal", "--python-version", PYTHON, "--no-header", "--no-annotate",
                  "--override", str(override), *[f"--no-emit-package={name}" for name in LEFT_OUT],
                  "requirements.in")  # the pins on standard output
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    pins = [line for line in done.stdout.splitlines() if line and not line.startswith("#")
            and not re.search(r"python_full_version (==|>=) '3\.1[2-9]", line)]  # other Pythons' forks
    header = ["# Generated from requirements.in by `make requirements` (tools/platforms.py: uv pip compile --universal",
              f"# --python-version {PYTHON}): one file for Linux x86-64, Linux aarch64 and macOS 14+ on Apple Silicon,",
              "# whose markers pick each platform's packages; `make platforms` checks that it installs on each.",
              "# The CUDA packages of PyTorch's Linux wheel are left out: torch pins them itself (README.md, Set-up).",
              "# The frameworks train on the CPU with these pins (tensorflow-cpu, MXNet's CPU-only wheel); results/README.md",
              "# (GPU) says what an NVIDIA GPU needs instead."]
    (ROOT / "requirements.txt").write_text("\n".join(header + pins) + "\n", encoding="utf-8")
    conda = (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
    kept = [line for line in conda if not line.startswith("      - ")]
    (ROOT / "environment.yml").write_text("\n".join(kept + [f"      - {pin}" for pin in pins]) + "\n", encoding="utf-8")
    print(f"platforms: wrote requirements.txt and environment.yml, {len(pins)} pins")
    return 0


def resolve(target: str) -> str:
    """'resolves', or why not: uv's first reason; raises ConnectionError when the index cannot be reached."""
    done = uv("pip", "compile", "--python-platform", target, "--python-version", PYTHON, "--no-header",
              "requirements.txt", "-o", os.devnull)
    if done.returncode == 0:
        return "resolves"
    if any(words in done.stderr for words in OFFLINE):
        raise ConnectionError(done.stderr.strip().splitlines()[0])
    missing = sorted(set(re.findall(r"(\S+==\S+) has no wheels? with a matching platform tag", done.stderr)))
    return f"no: no wheel of {', '.join(missing)}" if missing else "no (`make platforms` shows why)"


def table(results: list[tuple[str, bool, str, str]]) -> str:
    lines = [f"| platform | pins resolve (Python {PYTHON}) | supported | notes |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {name} | {result} | {'yes' if supported else 'no'} | {note} |"
                              for name, supported, result, note in results])


def with_table(readme: str, text: str) -> str:
    if readme.count(START) != 1 or readme.count(END) != 1:
        raise ValueError(f"README.md needs exactly one {START} ... {END} pair")
    before, rest = readme.split(START)
    return f"{before}{START}\n{text}\n{END}{rest.split(END)[1]}"


def main(argv: list[str]) -> int:
    if argv == ["--compile"]:
        return compile_pins()
    try:
        results = [(name, supported, resolve(target), note) for name, target, supported, note in PLATFORMS]
    except ConnectionError as error:
        print(f"platforms: skipped: offline ({error})", file=sys.stderr)
        return 3
    text = table(results)
    print(text)
    wrong = [name for name, supported, result, _ in results if supported and result != "resolves"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if "--check" in argv:
        if with_table(readme, text) != readme:
            print("platforms: README.md's platform table is not current: run `make platforms`", file=sys.stderr)
            return 1
    elif with_table(readme, text) != readme:
        (ROOT / "README.md").write_text(with_table(readme, text), encoding="utf-8")
    if wrong:
        print(f"platforms: the pins do not resolve for {', '.join(wrong)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
