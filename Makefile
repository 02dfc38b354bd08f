# One virtual environment (.venv) serves the book, JupyterLab, the tests and grading.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The kernel name earlier versions installed beside the default one (removed on install).
OLD_KERNEL := coursepack
EDITION ?= learner
BOOK_OUT := $(if $(filter instructor,$(EDITION)),_build/instructor,_build)
STAMP := $(VENV)/.installed
# JupyterLab settings the course pack ships (jupyter-config/README.md): installed into .venv's prefix.
LAB_CONFIG := jupyter-config/lab/settings/overrides.json jupyter-config/jupyter_server_config.d/coursepack.json \
	jupyter-config/labconfig/page_config.json
# JupyterLab refuses to start as root unless told: root is the user in containers and CI.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: book lab test learner grade bench bench-grade bench-pages vendor clean

# Everything else comes from requirements.txt into .venv. Before installing, each prerequisite is checked,
# with one line naming what is missing and how to get it: Python 3.11 or newer with its venv module.
$(STAMP): requirements.txt $(LAB_CONFIG)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or newer, or name it with make PYTHON=/path/to/python3" >&2; exit 1; }
	@version=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "$(PYTHON) is Python $$version; the course pack needs 3.11 or newer: install it and run make PYTHON=python3.11 (or newer)" >&2; exit 1; }; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "$(PYTHON) cannot create a virtual environment (no venv/ensurepip module): on Debian or Ubuntu, apt-get install python$$version-venv" >&2; exit 1; }
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	# One kernel: the course's, under the name the notebooks ask for (python3), in place of ipykernel's default.
	rm -rf $(VENV)/share/jupyter/kernels/$(OLD_KERNEL)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course pack)"
	install -D -m 644 jupyter-config/lab/settings/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	install -D -m 644 jupyter-config/jupyter_server_config.d/coursepack.json $(VENV)/etc/jupyter/jupyter_server_config.d/coursepack.json
	install -D -m 644 jupyter-config/labconfig/page_config.json $(VENV)/etc/jupyter/labconfig/page_config.json
	touch $(STAMP)

## book: build the HTML book (EDITION=learner by default, or EDITION=instructor) into _build/html or _build/instructor/html
book: $(STAMP)
	$(BIN)/python -m coursepack.book.build --edition $(EDITION) --out $(BOOK_OUT)

## lab: open JupyterLab at the repository root with the course kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. $(ALLOW_ROOT)

## test: the whole test suite (builds the learner book first; notebooks are cached)
test: book
	$(BIN)/python -m pytest

## learner: learner notebooks, autograder files and a hand-out zip under _build/learner
learner: $(STAMP)
	$(BIN)/python -m coursepack.grading.learner

## grade: grade every .ipynb in SUBMISSIONS into _build/grades
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=path/to/folder" && exit 2)
	$(BIN)/python -m coursepack.grading $(SUBMISSIONS)

## bench: cold build, cached rebuild, per-notebook execution and data loading times
bench: $(STAMP)
	$(BIN)/python -m benchmarks.book

## bench-grade: this grader against serial `otter run` on the same synthetic submissions
bench-grade: $(STAMP)
	$(BIN)/python -m benchmarks.grading

## bench-pages: bytes of HTML, JS, CSS and fonts each page of the built book loads
bench-pages: book
	$(BIN)/python -m benchmarks.pages

## vendor: refresh vendor/ (Vega, axe-core) from the npm packages pinned in package-lock.json; the only target that needs npm
vendor:
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: make vendor refreshes vendor/ from the npm registry; install Node.js and npm (nothing else needs them)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) vendor/refresh.py

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
