"""The side-by-side table of every results record, for compare.ipynb and the README.

Usage: python tools/results_table.py [--check]
  rewrites the table in README.md between the two marker comments from results/*.json (accuracy), the seed
  records of results/seeds/ where `make seeds` wrote them (accuracy over seeds) and results/bench.json where
  `make bench` wrote it (speed); with --check, only says whether README.md is up to date (exit status 1 if not).
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
ORDER = ["Keras", "TensorFlow", "PyTorch", "JAX", "MXNet", "Theano"]
MODELS = {"fcn": "fully connected", "cnn": "convolutional", "rnn": "recurrent"}
NUMBERS = {"fcn": "01", "cnn": "02", "rnn": "03"}  # each model's notebook: <framework>/<number>-mnist-<model>.ipynb


def load_records(results_dir: Path = ROOT / "results") -> list[dict]:
    """Every full-run record, in a fixed order: model, then framework, then Keras backend."""
    paths = [path for model in MODELS for path in sorted(results_dir.glob(f"*-{model}.json"))]  # not traps.json
    records = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    records = [r for r in records if not r.get("smoke")]
    backends = ["tensorflow", "jax", "torch"]
    return sorted(records, key=lambda r: (list(MODELS).index(r["model"]), ORDER.index(r["framework"]),
                                          backends.index(r.get("backend", "tensorflow"))))


def record_name(record: dict) -> str:
    """The file name of a record in results/ and in results/seeds/: <framework>[-<backend>]-<model>.json."""
    backend = record.get("backend", "tensorflow")
    framework = record["framework"].lower() + (f"-{backend}" if backend != "tensorflow" else "")
    return f"{framework}-{record['model']}.json"


def load_seed_runs(seeds_dir: Path = ROOT / "results" / "seeds") -> dict[str, list[dict]]:
    """Each configuration's runs over seeds (test accuracy, seconds per epoch), by record name (`make seeds`)."""
    return {path.name: json.loads(path.read_text(encoding="utf-8"))["runs"] for path in sorted(seeds_dir.glob("*.json"))}


def load_seeds(seeds_dir: Path = ROOT / "results" / "seeds") -> dict[str, list[float]]:
    """Each configuration's test accuracies over seeds, by record name, from `make seeds`' records."""
    return {name: [run["test_accuracy"] for run in runs] for name, runs in load_seed_runs(seeds_dir).items()}


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
    return ROOT / record["framework"].lower() / f"{NUMBERS[record['model']]}-mnist-{record['model']}.ipynb"


def code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c["cell_type"] == "code"]


def lines_of_code(notebook: Path, others: list[Path] = ()) -> int:
    """Non-blank source lines of the code cells that are not the same in `notebook` and all of `others` (the
    same model in the other frameworks): what the framework makes you write, the shared cells left out."""
    mine, theirs = code_cells(notebook), [code_cells(other) for other in others]
    shared = {i for i, source in enumerate(mine) if theirs and all(i < len(t) and t[i] == source for t in theirs)}
    return sum(1 for i, source in enumerate(mine) if i not in shared for line in source.splitlines() if line.strip())


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


def load_bench(results_dir: Path = ROOT / "results") -> dict | None:
    """results/bench.json, `make bench`'s race (tools/bench.py), or None before its first run."""
    path = results_dir / "bench.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def raced(record: dict, bench: dict | None) -> dict | None:
    """The bench's figures of the record's configuration: seconds per 1,000 rows, ratio to the fastest, interval."""
    if not bench or record["model"] not in bench["models"]:
        return None
    return bench["models"][record["model"]]["configurations"].get(short_label(record))


# (height and width of the output, kernel size, inputs, outputs) of each layer with weights
LAYERS = {
    "fcn": [(1, 1, 784, 512), (1, 1, 512, 256), (1, 1, 256, 10)],
    "cnn": [(28, 5, 1, 32), (14, 5, 32, 64), (1, 1, 7 * 7 * 64, 1024), (1, 1, 1024, 10)],
}
VALIDATION_ROWS = 6000
STEPS, FEATURES, UNITS = 28, 28, 128  # the LSTM: 28 rows of 28 pixels, 128 units, 4 gates


def lstm_products() -> tuple[int, int, int]:
    """FLOPs of one example's input projections (all steps), recurrent products (all steps) and dense layer."""
    return STEPS * 2 * FEATURES * 4 * UNITS, STEPS * 2 * UNITS * 4 * UNITS, 2 * UNITS * 10


def forward_flops(model: str) -> int:
    """Floating-point operations of one example's forward pass: 2 per multiply-add of the weighted layers."""
    if model == "rnn":
        return sum(lstm_products())
    return sum(2 * size * size * kernel * kernel * inputs * outputs for size, kernel, inputs, outputs in LAYERS[model])


def training_flops(model: str) -> int:
    """One example's forward pass, the gradient of every weight (as much again) and the gradient of every layer's
    input but the first (as much again per layer; the LSTM's: the recurrent state's and the dense layer's)."""
    if model == "rnn":
        _, recurrent, dense = lstm_products()
        return 2 * forward_flops(model) + recurrent + dense
    size, kernel, inputs, outputs = LAYERS[model][0]
    return 3 * forward_flops(model) - 2 * size ** 2 * kernel ** 2 * inputs * outputs


def epoch_flops(record: dict) -> int:
    return record["train_rows"] * training_flops(record["model"]) + VALIDATION_ROWS * forward_flops(record["model"])


def flops_per_1000_rows(model: str) -> float:
    """What the bench times as 1,000 training rows: their training, and the forward pass of the 1,000 / 9
    validation rows that come with them (a tenth of the rows validate, in the bench as in a full run)."""
    return 1000 * training_flops(model) + 1000 / 9 * forward_flops(model)


README_COLUMNS = ["framework", "test accuracy over seeds, mean ± sd (n)", "s / 1,000 rows", "× fastest (95% interval)",
                  "% of peak", "lines of code"]
ACCURACY = ["framework", "val accuracy", "test accuracy", "over seeds, mean ± sd (n)"]
SPEED = ["framework", "notebook: first epoch, s", "notebook: s / epoch", "bench: s / 1,000 rows",
         "× fastest (95% interval)", "GFLOP/s (% of peak)", "lines of code"]


def accuracy_rows(records: list[dict], seeds: dict[str, list[float]]) -> list[list[str]]:
    return [[short_label(r), f"{r['val_accuracy']:.4f}", f"{r['test_accuracy']:.4f}",
             over_seeds(seeds.get(record_name(r))) or "–"] for r in records]


def interval(entry: dict) -> str:
    low, high = entry["interval"]
    return f"{entry['ratio']:.2f} ({low:.2f}–{high:.2f})"


def times(entry: dict) -> str:
    low, high = entry["interval"]
    return f"{entry['ratio']:.2f}× ({low:.2f}–{high:.2f})"


def speed_cells(records: list[dict], bench: dict | None) -> list[dict[str, str]]:
    """Per record, its speed figures as printed: the notebook's own first and steady epoch (its record), and from
    the bench its seconds per 1,000 rows, × fastest with its interval, GFLOP/s and % of the bench's peak
    ("–" without a bench, or off the CPU); and lines of code."""
    cells = []
    for r in records:
        others = [notebook_of(o) for o in records if o["framework"] != r["framework"]]
        entry = raced(r, bench)
        cell = {"first": f"{r['seconds_per_epoch'][0]:.1f}", "steady": f"{steady_seconds(r):.1f}",
                "per_1000": "–", "ratio": "–", "gflops": "–", "share": "–",
                "lines": str(lines_of_code(notebook_of(r), sorted(set(others))))}
        if entry:
            gflops = flops_per_1000_rows(r["model"]) / entry["seconds_per_1000_rows"] / 1e9
            cell.update(per_1000=f"{entry['seconds_per_1000_rows']:.3f}", ratio=interval(entry), gflops=f"{gflops:.0f}")
            if device_kind(r["device"]) == "cpu":
                cell["share"] = f"{100 * gflops / bench['peak']['gflops']:.0f}%"
        cells.append(cell)
    return cells


def speed_rows(records: list[dict], bench: dict | None) -> list[list[str]]:
    return [[short_label(r), c["first"], c["steady"], c["per_1000"], c["ratio"],
             c["gflops"] + (f" ({c['share']})" if c["share"] != "–" else ""), c["lines"]]
            for r, c in zip(records, speed_cells(records, bench))]


def speed_sentence(model: str, bench: dict | None) -> str:
    """Which configuration the bench found fastest, how many times slower each other one is (with its interval),
    and each Keras backend over its framework's own notebook."""
    if not bench or model not in bench["models"]:
        return ""
    part = bench["models"][model]
    ranked = sorted(part["configurations"].items(), key=lambda item: item[1]["seconds_per_1000_rows"])
    (fastest, best), rest = ranked[0], ranked[1:]
    sentence = (f"{MODELS[model].capitalize()} network, seconds per 1,000 training rows (`make bench`, the median of "
                f"{part['rounds']} rounds): {fastest} is the fastest, {best['seconds_per_1000_rows']:.3f} s; then "
                + ", ".join(f"{label} {times(entry)}" for label, entry in rest) + ".")
    wrappers = part.get("wrappers", {})
    if wrappers:
        sentence += (" Keras on X over X, the wrapper's cost: " + ", ".join(
            f"{name.split(' over ')[0].removeprefix('Keras on ')} {times(entry)}" for name, entry in wrappers.items())
            + ".")
    return sentence


def bench_sentence(bench: dict | None) -> str:
    """Where and how the bench ran, each configuration's math library, and the peak."""
    if not bench:
        return "Speed: no `make bench` yet."
    libraries = {}
    for part in bench["models"].values():
        libraries.update(part["libraries"])
    part = next(iter(bench["models"].values()))
    return (f"Speed: `make bench` ({bench['date']}, {bench['minutes']:.0f} minutes) on {bench['cpu']} "
            f"({bench['cores']} cores): every configuration's own notebook code on the same rows and batches, "
            f"{part['rounds']} rounds taken in turns; a turn's seconds per 1,000 training rows are its epochs but "
            f"the first, validation included as in any epoch, and × fastest is the median of each round's ratio "
            f"with a 95% bootstrap interval (results/README.md). Math libraries: "
            + "; ".join(f"{label} {library}" for label, library in libraries.items())
            + f". Peak: {bench['peak']['gflops']:.0f} GFLOP/s ({bench['peak']['library']}'s float32 matrix "
            f"product, in the same run).")


BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def short_label(record: dict) -> str:
    return f"Keras on {BACKENDS[record['backend']]}" if record["framework"] == "Keras" else record["framework"]


def versions(records: list[dict]) -> str:
    """One sentence with every framework's version, in the tables' order."""
    keras = [r for r in records if r["framework"] == "Keras"]
    backends = list(dict.fromkeys(f"{BACKENDS[r['backend']]} {r['backend_version']}" for r in keras))
    parts = [f"Keras {keras[0]['framework_version']} on " + " and ".join(
        [", ".join(backends[:-1]), backends[-1]] if len(backends) > 1 else backends)] if keras else []
    parts += list(dict.fromkeys(framework_label(r) for r in records if r["framework"] != "Keras"))
    return "Versions: " + "; ".join(parts) + "."


def markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [header, ["---"] * len(header), *rows]
    return ["| " + " | ".join(line) + " |" for line in lines]


def readme_accuracy(over_seeds: str, seed_42: str) -> str:
    """The seeds' mean ± sd (n), or, for a configuration without seeds yet, its one run."""
    return over_seeds if over_seeds != "–" else f"{seed_42} (1)"


def markdown_table(records: list[dict], seeds: dict[str, list[float]] | None = None, bench: dict | None = None) -> str:
    """The README's: the versions and the bench's machine and libraries, then per model a heading with what every
    row shares, one table (test accuracy over seeds; from the bench seconds per 1,000 rows, × fastest with its
    interval, % of peak; lines of code), the seed study's sentence and the speed sentence. compare.ipynb shows
    ACCURACY and SPEED in full (seed 42's accuracies, the notebooks' own epochs, GFLOP/s)."""
    seeds = seeds if seeds is not None else load_seeds()
    bench = bench if bench is not None else load_bench()
    parts = [versions(records), bench_sentence(bench)]
    for model in MODELS:
        chosen = [r for r in records if r["model"] == model]
        if not chosen:
            continue
        shared = ", ".join(sorted({f"{r['parameters']:,} parameters, {r['epochs']} epochs" for r in chosen}))
        devices = " and ".join(sorted({device_kind(r["device"]).upper() for r in chosen}))
        parts.append(f"**{MODELS[model].capitalize()} network** ({shared}, on the {devices}):")
        rows = [[accuracy[0], readme_accuracy(accuracy[3], accuracy[2]), c["per_1000"], c["ratio"], c["share"],
                 c["lines"]] for accuracy, c in zip(accuracy_rows(chosen, seeds), speed_cells(chosen, bench))]
        parts.append("\n".join(markdown(README_COLUMNS, rows)))
        parts += [sentence for sentence in (seed_test(model, records, seeds), speed_sentence(model, bench)) if sentence]
    return "\n\n".join(parts)


def with_table(readme: str, table: str) -> str:
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README.md needs exactly one {START} ... {END} pair")
    before, rest = readme.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{table}\n{END}{after}"


def main(argv: list[str]) -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    updated = with_table(readme, markdown_table(load_records()))
    if "--check" in argv:
        if updated != readme:
            print("README.md's results table differs from results/*.json: run `make run` "
                  "(or python tools/results_table.py)", file=sys.stderr)
            return 1
        return 0
    if updated != readme:
        readme_path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
