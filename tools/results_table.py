"""The side-by-side table of every results record, for compare.ipynb and the README.

Usage: python tools/results_table.py [--check]
  rewrites the table in README.md between the two marker comments from results/*.json and, where
  `make seeds` wrote them, the seed records of results/seeds/; with --check, only says whether README.md
  is up to date (exit status 1 if not).
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
ORDER = ["Keras", "TensorFlow", "PyTorch", "MXNet", "Theano"]
MODELS = {"fcn": "fully connected", "cnn": "convolutional"}


def load_records(results_dir: Path = ROOT / "results") -> list[dict]:
    """Every full-run record, in a fixed order: model, then framework, then Keras backend."""
    paths = sorted(results_dir.glob("*-fcn.json")) + sorted(results_dir.glob("*-cnn.json"))  # not traps.json
    records = [json.loads(path.read_text()) for path in paths]
    records = [r for r in records if not r.get("smoke")]
    backends = ["tensorflow", "jax", "torch"]
    return sorted(records, key=lambda r: (list(MODELS).index(r["model"]), ORDER.index(r["framework"]),
                                          backends.index(r.get("backend", "tensorflow"))))


def record_name(record: dict) -> str:
    """The file name of a record in results/ and in results/seeds/: <framework>[-<backend>]-<model>.json."""
    backend = record.get("backend", "tensorflow")
    framework = record["framework"].lower() + (f"-{backend}" if backend != "tensorflow" else "")
    return f"{framework}-{record['model']}.json"


def load_seeds(seeds_dir: Path = ROOT / "results" / "seeds") -> dict[str, list[float]]:
    """Each configuration's test accuracies over seeds, by record name, from `make seeds`' records."""
    return {path.name: [run["test_accuracy"] for run in json.loads(path.read_text())["runs"]]
            for path in sorted(seeds_dir.glob("*.json"))}


def over_seeds(accuracies: list[float] | None) -> str:
    """'mean ± sd (n seeds)' of the test accuracy, sd with n - 1; blank without at least two seeds."""
    if not accuracies or len(accuracies) < 2:
        return ""
    return f"{statistics.mean(accuracies):.4f} ± {statistics.stdev(accuracies):.4f} ({len(accuracies)})"


def seed_test(model: str, records: list[dict], seeds: dict[str, list[float]]) -> str:
    """One sentence: do the configurations of `model` differ by more than their seeds do (one-way ANOVA)?"""
    groups = {framework_label(r): seeds[record_name(r)] for r in records
              if r["model"] == model and len(seeds.get(record_name(r), [])) >= 2}
    if len(groups) < 2:
        return ""
    f, p = stats.f_oneway(*groups.values())
    verdict = ("differ by more than their seeds do" if p < 0.05 else
               "do not differ by more than their seeds do")
    counts = sorted({len(g) for g in groups.values()})
    return (f"{MODELS[model].capitalize()} network: the {len(groups)} configurations "
            f"({' or '.join(map(str, counts))} seeds each) {verdict}: one-way ANOVA of the test accuracies "
            f"(scipy.stats.f_oneway), F = {f:.2f}, p = {p:.2g}.")


def notebook_of(record: dict) -> Path:
    number = "01" if record["model"] == "fcn" else "02"
    return ROOT / record["framework"].lower() / f"{number}-mnist-{record['model']}.ipynb"


def lines_of_code(notebook: Path) -> int:
    """Non-blank source lines of the code cells: a rough measure of how much a framework makes you write."""
    cells = json.loads(notebook.read_text())["cells"]
    sources = ("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if c["cell_type"] == "code")
    return sum(1 for source in sources for line in source.splitlines() if line.strip())


def framework_label(record: dict) -> str:
    if record["framework"] == "Keras":
        return f"Keras {record['framework_version']} ({record['backend']} {record['backend_version']})"
    return f"{record['framework']} {record['framework_version']}"


def device_kind(device: str) -> str:
    """The frameworks name devices their own way ("CPU", "cpu(0)", "cuda"); the table says cpu or gpu."""
    return "gpu" if device.lower().startswith(("gpu", "cuda")) else "cpu"


def steady_seconds(record: dict) -> float:
    """Seconds per epoch once running: the median of epochs 2 to n (the first also pays for tracing or compiling)."""
    seconds = record["seconds_per_epoch"]
    return statistics.median(seconds[1:] or seconds)


# (height and width of the output, kernel size, inputs, outputs) of each layer with weights
LAYERS = {
    "fcn": [(1, 1, 784, 512), (1, 1, 512, 256), (1, 1, 256, 10)],
    "cnn": [(28, 5, 1, 32), (14, 5, 32, 64), (1, 1, 7 * 7 * 64, 1024), (1, 1, 1024, 10)],
}
VALIDATION_ROWS = 6000


def forward_flops(model: str) -> int:
    """Floating-point operations of one example's forward pass: 2 per multiply-add of the weighted layers."""
    return sum(2 * size * size * kernel * kernel * inputs * outputs for size, kernel, inputs, outputs in LAYERS[model])


def training_flops(model: str) -> int:
    """One example's forward pass, the gradient of every weight (as much again) and the gradient of every layer's
    input but the first (as much again per layer)."""
    size, kernel, inputs, outputs = LAYERS[model][0]
    return 3 * forward_flops(model) - 2 * size ** 2 * kernel ** 2 * inputs * outputs


def epoch_flops(record: dict) -> int:
    return record["train_rows"] * training_flops(record["model"]) + VALIDATION_ROWS * forward_flops(record["model"])


def load_peak(results_dir: Path = ROOT / "results") -> dict | None:
    path = results_dir / "peak.json"
    return json.loads(path.read_text()) if path.is_file() else None


def rows(records: list[dict], peak: dict | None = None, seeds: dict[str, list[float]] | None = None) -> list[list[str]]:
    peak = peak if peak is not None else load_peak()
    seeds = seeds if seeds is not None else load_seeds()
    return [[
        framework_label(r),
        MODELS[r["model"]],
        f"{r['parameters']:,}",
        str(r["epochs"]),
        f"{r['seconds_per_epoch'][0]:.1f}",
        f"{steady_seconds(r):.1f}",
        f"{r['total_train_seconds']:.0f}",
        f"{r['val_accuracy']:.4f}",
        f"{r['test_accuracy']:.4f}",
        over_seeds(seeds.get(record_name(r))),
        device_kind(r["device"]),
        f"{epoch_flops(r) / steady_seconds(r) / 1e9:.0f}",
        f"{100 * epoch_flops(r) / steady_seconds(r) / 1e9 / peak['gflops']:.0f}%" if peak and device_kind(r["device"]) == "cpu" else "",
        str(lines_of_code(notebook_of(r))),
    ] for r in records]


HEADER = ["framework (backend)", "model", "parameters", "epochs", "first epoch s", "s / epoch, epochs 2-n",
          "training s", "val accuracy", "test accuracy", "test accuracy over seeds, mean ± sd (n)", "device", "GFLOP/s", "% of peak", "lines of code"]


def markdown_table(records: list[dict], seeds: dict[str, list[float]] | None = None) -> str:
    """The table, then a sentence per model on the seed study where `make seeds` has run."""
    seeds = seeds if seeds is not None else load_seeds()
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(records, seeds=seeds)]
    sentences = [sentence for model in MODELS if (sentence := seed_test(model, records, seeds))]
    return "\n".join(lines) + "".join(f"\n\n{sentence}" for sentence in sentences)


def with_table(readme: str, table: str) -> str:
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README.md needs exactly one {START} ... {END} pair")
    before, rest = readme.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str]) -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    updated = with_table(readme, markdown_table(load_records()))
    if "--check" in argv:
        if updated != readme:
            print("README.md's results table differs from results/*.json: run `make run` "
                  "(or python tools/results_table.py)", file=sys.stderr)
            return 1
        return 0
    if updated != readme:
        readme_path.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
