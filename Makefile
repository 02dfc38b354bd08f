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

## book: build the HTML book (EDITION=learner by default, or EDITION=instructor) into _build/html or _build/instructor/html
book: $(STAMP)
	$(BIN)/python -m coursepack.build --edition $(EDITION) --out $(BOOK_OUT)

## lab: open JupyterLab at the repository root with the course kernel
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## learner: learner notebooks, autograder files and a hand-out zip under _build/learner
learner: $(STAMP)
	$(BIN)/python -m coursepack.learner

## grade: grade every .ipynb in SUBMISSIONS into _build/grades
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=path/to/folder" && exit 2)
	$(BIN)/python -m coursepack.grading $(SUBMISSIONS)

## bench: cold build, cached rebuild, per-notebook execution and data loading times
bench: $(STAMP)
	$(BIN)/python -m coursepack.bench

## bench-grade: this grader against serial `otter run` on the same synthetic submissions
bench-grade: $(STAMP)
	$(BIN)/python -m coursepack.grading --bench

clean:
	rm -rf _build .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
