# fooldigits: two commands on a fresh machine with Python >= 3.11.
#   make demo   create .venv, install, run the tutor on the bundled data
#   make test   install the dev tools, then ruff, mypy --strict and pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: demo test lint bench install dev clean model readme

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "fooldigits needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	@# bytecode now, as a non-editable install would: where PYTHONDONTWRITEBYTECODE is
	@# set, every command would otherwise compile its modules again (60-80 ms)
	$(BIN)/python -m compileall -q fooldigits
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

# The tutor pauses between chapters on a terminal and runs straight through otherwise.
demo: install
	@if [ -t 0 ] && [ -t 1 ]; then $(BIN)/fooldigits tutor; \
	else $(BIN)/fooldigits tutor --no-pause; fi
	@echo "fooldigits is installed in $(BIN): run 'source $(BIN)/activate' to type 'fooldigits ...' directly."

lint: dev
	$(BIN)/ruff check fooldigits tests
	$(BIN)/mypy --strict

test: lint
	$(BIN)/pytest -q

# Speed as ratios to plain-NumPy references run beside it (docs/speed.md), one BLAS
# thread; options through ARGS, e.g. make bench ARGS="--quick --strict".
bench: install
	$(BIN)/python -m fooldigits.bench $(ARGS)

# Regenerate the README's sample output from a real run (tests/test_readme.py checks it).
readme: install
	$(BIN)/python tests/test_readme.py

# Remake every shipped model with the command line recorded in it (meta["command"]; see
# docs/network.md, docs/adversarial.md, docs/models.md; tests/test_models.py checks these
# lines against the files). The dense and conv ones take minutes; the linear and
# generative ones seconds. Only here may fooldigits replace a file it ships (core/writing.py).
DENSE := --hidden 100 --epochs 15 --eta 0.1 --final-eta 0.0 --lmbda 0.5 --momentum 0.9 \
	--batch-size 32 --shift --cost cross-entropy --activation sigmoid --output softmax --seed 1
model: export FOOLDIGITS_REPLACE_SHIPPED = 1
model: install
	$(BIN)/fooldigits train $(DENSE) --out fooldigits/models/default.npz
	$(BIN)/fooldigits train $(DENSE) --adversarial 0.1 --attack fgsm \
		--out fooldigits/models/robust.npz
	$(BIN)/fooldigits train --arch linear --epochs 10 --eta 0.1 --final-eta 0.0 --lmbda 0.5 \
		--momentum 0.9 --batch-size 32 --no-shift --seed 1 --out fooldigits/models/linear.npz
	$(BIN)/fooldigits train --arch conv --epochs 3 --eta 0.05 --final-eta 0.0 --lmbda 5.0 \
		--momentum 0.9 --batch-size 32 --shift --seed 1 --out fooldigits/models/conv.npz
	$(BIN)/fooldigits train --arch generative --seed 1 --out fooldigits/models/generative.npz

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
