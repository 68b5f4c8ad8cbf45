# Set-up is two commands: `make test` (unit and contract tests, every notebook in smoke mode) and
# `make run` (every notebook executed in place with full training). Both create .venv, install the
# pinned environment and fetch the data first, and do nothing of that when it is already done.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
NOTEBOOKS = $(sort $(wildcard */0[123]-mnist-*.ipynb))
KERAS_NOTEBOOKS = $(sort $(wildcard keras/0[123]-mnist-*.ipynb))

.PHONY: test run seeds bench data setup system gpu-check requirements platforms

setup: system $(VENV)/.installed

# Theano compiles its ops with g++ and links OpenBLAS when it can (theano/README.md). As root with apt,
# make installs what is missing; otherwise it prints the one line to run.
system:
	@if ! command -v g++ >/dev/null || ! echo | g++ -x c++ -shared -o /dev/null - -lopenblas 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing g++ and libopenblas-dev for Theano"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ libopenblas-dev >/dev/null; \
	  elif [ "$$(uname -s)" = Darwin ]; then \
	    echo "Theano needs a compiler and runs faster with OpenBLAS: xcode-select --install; brew install openblas"; \
	  elif command -v apt-get >/dev/null; then \
	    echo "Theano needs g++ and runs faster with OpenBLAS: sudo apt-get install g++ libopenblas-dev"; \
	  else \
	    echo "Theano needs g++ and runs faster with OpenBLAS: install your system's g++ and OpenBLAS development packages (Fedora: sudo dnf install gcc-c++ openblas-devel)"; \
	  fi; \
	fi

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "polydlot needs Python 3.11: set PYTHON=/path/to/python3.11 (none installed? uv python install 3.11, then PYTHON=$$(uv python find 3.11); README.md, Set-up)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

data: setup
	@$(PY) data/fetch_mnist.py
	@$(PY) data/parity.py

test: data
	@$(PY) -m pytest tests $(NOTEBOOKS) traps.ipynb compare.ipynb

# Every notebook with full training, one after the other. The committed outputs are Keras on its default
# TensorFlow backend; the JAX and torch backends add records. Then the seed records of `make seeds` take seed 42
# from the new records, traps.ipynb measures the 2017 mistakes over each model's seeds, and the README's table, its
# chart and compare.ipynb are regenerated from the records (the speed columns from `make bench`'s results/bench.json).
run: data
	@env -u KERAS_BACKEND $(PY) tools/run_notebooks.py $(NOTEBOOKS)
ifneq ($(KERAS_NOTEBOOKS),)
	@for backend in jax torch; do \
	  KERAS_BACKEND=$$backend $(PY) tools/run_notebooks.py --records-only $(KERAS_NOTEBOOKS) || exit 1; \
	done
endif
	@$(PY) tools/seed_study.py --committed
	@$(PY) tools/run_notebooks.py traps.ipynb
	@$(PY) tools/results_table.py
	@$(PY) tools/run_notebooks.py compare.ipynb

# Not part of run or test: the fully connected network of every framework (Keras on its three backends) under
# 5 seeds, the convolutional one under 3, the recurrent one under 3 (PyTorch and MXNet,
# its floors' study, under 5), records in results/seeds/ (tools/seed_study.py; seed 42 is read from make run's
# records, the others train). A stopped study goes on where it stopped: it trains only the seeds a record lacks.
# Then the README's table and compare.ipynb again.
seeds: data
	@$(PY) tools/seed_study.py --all
	@$(PY) tools/results_table.py
	@$(PY) tools/run_notebooks.py compare.ipynb

# The speed race: every configuration's own notebook code, a short training on the same rows, turn by turn over
# several rounds on this machine, nothing else running (tools/bench.py; under an hour on 2 cores). Writes
# results/bench.json, then the README's speed columns and compare.ipynb from it.
bench: data
	@$(PY) tools/bench.py
	@$(PY) tools/results_table.py
	@$(PY) tools/run_notebooks.py compare.ipynb

# On a machine with an NVIDIA GPU and the frameworks' GPU builds (results/README.md, GPU): every GPU-capable notebook in
# smoke mode, checked for a GPU device, its parity cell and its smoke floor. GPU_CHECK="--write pytorch ..."
# picks configurations and writes the table to results/gpu/.
gpu-check: data
	@$(PY) tools/gpu_check.py $(GPU_CHECK)

# requirements.txt and environment.yml from requirements.in, one universal resolution (tools/platforms.py); then
# `make platforms` checks that the pins resolve for every supported platform and writes README.md's table.
requirements: setup
	@$(PY) tools/platforms.py --compile

platforms: setup
	@$(PY) tools/platforms.py
