# One virtual environment (.venv) serves the book, JupyterLab, the tests and grading.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KERNEL := coursepack
EDITION ?= learner
BOOK_OUT := $(if $(filter instructor,$(EDITION)),_build/instructor,_build)
STAMP := $(VENV)/.installed

.PHONY: book lab test learner grade bench bench-grade bench-pages clean

$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Course pack (Python 3)"
	touch $(STAMP)

# Offline chart, widget and maths assets come from the npm registry, pinned by package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

## book: build the HTML book (EDITION=learner by default, or EDITION=instructor) into _build/html or _build/instructor/html
book: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python -m coursepack.book.build --edition $(EDITION) --out $(BOOK_OUT)

## lab: open JupyterLab at the repository root with the course kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

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
bench: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.book

## bench-grade: this grader against serial `otter run` on the same synthetic submissions
bench-grade: $(STAMP)
	$(BIN)/python -m benchmarks.grading

## bench-pages: bytes of HTML, JS, CSS and fonts each page of the built book loads
bench-pages: book
	$(BIN)/python -m benchmarks.pages

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
