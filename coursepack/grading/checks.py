"""Public checks that tell a student whether an answer is right, without giving the answer away.

A public check compares a *key*, a salted hash of the answer's canonical form, with the key of the
right answer written into the check. Equal keys mean the answer is right; a key that matches a
recorded *mistake* (a wrong but well-formed answer a student is likely to give) earns that
mistake's message; any other answer earns the question's general advice. Every failure names what
to reread, with a link to the chapter section. The hidden tests still do the grading: they compute
the right answer from the data, so a public key never decides a score.

In a notebook::

    from coursepack.grading import checks
    grader = checks.Feedback(grader)   # after otter's ``grader = otter.Notebook(...)``
    ...
    grader.check("q1")                 # shows only our message: right, or which mistake
    grader.progress()                  # one line per question, and a total

In a public test (see ``research/EXERCISE-PATTERN`` for the full pattern)::

    def test_q3_public(days_to_ratification):
        from coursepack.grading import checks
        checks.answer("q3", days_to_ratification, "days_to_ratification", int,
                      key="5c1f0e...", read='chapter 1, "Three dates"',
                      mistakes={"a81b...": "You subtracted the wrong pair of events ..."},
                      otherwise="Subtract the earlier date from the later one ...")

Authors get a key with ``checks.key("q3", value)`` (or ``python -m coursepack.grading.checks``).
The keys are salted with the question's name, so equal answers to two questions have different
keys, and are not meant to resist a determined student: a whole number can be found by trying
keys. They are for honest self-study; the grader's hidden tests stay the judge.
"""
from __future__ import annotations

import ast
import hashlib
import html
import math
import re
import sys
from collections.abc import Iterable, Mapping

import pandas as pd

SALT = "usip-dprk-russia-2024"

#: Types to name in ``checks.answer(..., types)`` without importing anything in the test.
DataFrame, Series, list_, set_, dict_ = pd.DataFrame, pd.Series, list, set, dict


class Mistake(AssertionError):
    """A failed public check: its text is the whole message the student sees."""


# --- canonical forms and keys --------------------------------------------------------------------


def canonical(value, digits: int = 6) -> str:
    """A text that is equal for two answers exactly when they count as the same answer.

    Numbers are rounded to ``digits`` decimals (ints and floats alike, so ``127`` and ``127.0`` are
    one answer); strings are stripped and lower-cased; sets and frozensets are sorted; lists and
    tuples keep their order; dicts are sorted by key; a pandas Series becomes its (index, value)
    pairs in order; a DataFrame its column names and rows in order, its index dropped; dates are
    ISO dates.
    """
    import numpy as np
    import pandas as pd

    if value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "bool:" + str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isnan(number):
            return "nan"
        number = round(number, digits) + 0.0  # + 0.0 turns -0.0 into 0.0
        return "num:" + f"{number:.{digits}f}".rstrip("0").rstrip(".")
    if isinstance(value, (pd.Timestamp,)):
        return "date:" + value.isoformat()
    if isinstance(value, pd.Timedelta):
        return "timedelta:" + str(value)
    if isinstance(value, str):
        return "str:" + " ".join(value.split()).casefold()
    if isinstance(value, (set, frozenset)):
        return "set:[" + ",".join(sorted(canonical(v, digits) for v in value)) + "]"
    if isinstance(value, (list, tuple)):
        return "list:[" + ",".join(canonical(v, digits) for v in value) + "]"
    if isinstance(value, Mapping):
        return "dict:{" + ",".join(f"{canonical(k, digits)}={canonical(v, digits)}"
                                   for k, v in sorted(value.items(), key=lambda kv: canonical(kv[0], digits))) + "}"
    if isinstance(value, pd.Series):
        return "series:" + canonical(list(zip([_cell(i) for i in value.index], [_cell(v) for v in value])), digits)
    if isinstance(value, pd.DataFrame):
        rows = [[_cell(v) for v in row] for row in value.itertuples(index=False, name=None)]
        return "frame:" + canonical([list(value.columns), *rows], digits)
    return "other:" + repr(value)


def _cell(value):
    """A table cell as a plain Python value (missing values as None, dates as Timestamps)."""
    import numpy as np
    import pandas as pd

    if value is None or (not isinstance(value, (str, list, tuple)) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def key(question: str, value, digits: int = 6) -> str:
    """The key of ``value`` as an answer to ``question``: 12 hex digits of a salted hash."""
    text = f"{SALT}|{question}|{canonical(value, digits)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# --- shapes: a well-formed answer of the wrong shape gets a message of its own ------------------


def columns_like(table: str):
    """A ``shape`` check: the answer has exactly the columns of the data table ``table``."""
    def shape(value):
        from coursepack.lessons import data

        columns = list(data.load(table).columns)
        if list(value.columns) != columns:
            missing = [c for c in columns if c not in value.columns]
            extra = [c for c in value.columns if c not in columns]
            detail = (f" Missing: {', '.join(missing)}." if missing else "") + (f" Added: {', '.join(map(str, extra))}." if extra else "")
            return f"Your DataFrame does not have the same columns as the table, in the same order.{detail} Keep every column: filter rows only."
        if len(value) == 0:
            return "Your DataFrame has no rows. Check the spelling of the value you compare with (capitals and spaces count)."
        return None
    return shape


def list_of(kind, length: int):
    """A ``shape`` check: a list of ``length`` values of type ``kind`` (``int`` accepts NumPy ints)."""
    def shape(value):
        if len(value) != length:
            return f"Your list has {len(value)} values; the question asks for {length}, in the order it gives."
        wrong = [v for v in value if not _is_one_of(v, (kind,))]
        if wrong:
            hint = _type_hint(wrong[0], (kind,))
            return f"Each value should be {_describe_types((kind,))}, but one is {_a(type(wrong[0]).__name__)}.{hint}"
        return None
    return shape


def set_of_ids(table: str, length: int | None = None):
    """A ``shape`` check: a list (or set) of ids that all exist in the ``id`` column of the data table ``table``."""
    def shape(value):
        from coursepack.lessons import data

        if not all(isinstance(v, str) for v in value):
            return "Each element should be an id, a string in quotes, as in the id column."
        known = set(data.load(table)["id"])
        unknown = sorted(v for v in value if v not in known)
        if unknown:
            return f"These are not ids of the table: {', '.join(unknown)}. Copy them from the id column."
        if length is not None and len(value) != length:
            return f"Your answer has {len(value)} ids; the question asks for {length}."
        if len(set(value)) != len(value):
            return "The same id appears twice: give two different rows."
        return None
    return shape


def labels(question: str, value, name: str, ids, options, *, key: str, item_keys: Mapping[str, str] | None = None,
           mistakes: Mapping[str, str] | None = None, read: str | None = None) -> None:
    """The public check of a labelling answer: a dict from each of ``ids`` to one of ``options``.

    Right when its key matches; a recorded mistake gets its message; otherwise, if ``item_keys``
    (``key(f"{question}:{id}", label)`` for each id) are given, the student learns how many labels
    are right, not which.
    """
    not_yet(name, value)
    if not isinstance(value, dict):
        raise Mistake(f"`{name}` should be a dict, in curly brackets: {{\"id\": \"label\", ...}}, but it is "
                      f"{_a(type(value).__name__)}.{reread(read)}")
    ids, options = list(ids), tuple(options)
    missing, extra = [i for i in ids if i not in value], [str(k) for k in value if k not in ids]
    if missing or extra:
        raise Mistake("Your dict should have exactly the ids of the question as keys."
                      + (f" Missing: {', '.join(missing)}." if missing else "")
                      + (f" Not asked for: {', '.join(extra)}." if extra else ""))
    odd = [f"{k}: {v!r}" for k, v in value.items() if v not in options]
    if odd:
        raise Mistake(f"Each value should be one of {', '.join(repr(o) for o in options)}, spelt exactly so. "
                      f"Not one of them: {'; '.join(odd)}.")
    got = globals()["key"](question, value)
    if got == key:
        return
    if mistakes and got in mistakes:
        raise Mistake(mistakes[got] + reread(read))
    if item_keys:
        right = sum(globals()["key"](f"{question}:{i}", value[i]) == item_keys.get(i) for i in ids)
        raise Mistake(f"{right} of {len(ids)} labels are right. Reread each statement: who is speaking, and "
                      f"could the statement be checked on the public record?{reread(read)}")
    raise Mistake(f"Some labels are not right yet.{reread(read)}")


# --- charts ----------------------------------------------------------------------------------------


def spec(chart):
    """A chart's Vega-Lite spec as a plain dict (what the grader can read); ``...`` and None pass through."""
    if chart is None or chart is Ellipsis or isinstance(chart, dict):
        return chart
    return chart.to_dict()


def chart_parts(spec: dict) -> dict:
    """The parts of a chart spec that a question grades: mark type, encodings and data rows.

    ``{"mark": "point", "encoding": {"x": ("date", "temporal"), ...}, "rows": [dict, ...]}``;
    the rows are the chart's inline data (after any ``transform_filter`` the spec does not apply).
    """
    mark = spec.get("mark")
    mark = mark.get("type") if isinstance(mark, dict) else mark
    encoding = {channel: (enc.get("field"), enc.get("type"))
                for channel, enc in (spec.get("encoding") or {}).items() if isinstance(enc, dict)}
    rows = []
    name = (spec.get("data") or {}).get("name")
    if name and name in (spec.get("datasets") or {}):
        rows = spec["datasets"][name]
    elif "values" in (spec.get("data") or {}):
        rows = spec["data"]["values"]
    return {"mark": mark, "encoding": encoding, "rows": rows}


def chart(question: str, spec, name: str, *, mark: str, encoding: Mapping[str, tuple[str, str]], id_field: str,
          rows_key: str, mistakes: Mapping[str, str] | None = None, otherwise: str = "The chart does not show the right rows yet.",
          read: str | None = None) -> None:
    """The public check of a chart: its mark, its encodings (channel -> (field, type)) and which rows it draws.

    The rows are compared by key: ``key(question, set of the rows' id_field values)``.
    """
    if spec is Ellipsis and not _failed_cell(name):
        raise Mistake("You haven't replaced the `...` in `chart = ...` with your chart yet.")
    not_yet(name, spec)
    if not isinstance(spec, dict):
        raise Mistake(f"`{name}` should be the chart's spec: keep the line `{name} = checks.spec(chart)` after you build `chart`.")
    parts = chart_parts(spec)
    if parts["mark"] != mark:
        raise Mistake(f"Your chart draws the mark {parts['mark']!r}; the question asks for {mark!r} (`mark_{mark}()`).{reread(read)}")
    kinds = {"quantitative": "Q", "nominal": "N", "ordinal": "O", "temporal": "T"}
    for channel, (field, kind) in encoding.items():
        got = parts["encoding"].get(channel)
        if got is None:
            raise Mistake(f"Your chart has no {channel} encoding; put `{field}:{kinds.get(kind, kind)}` on {channel}.{reread(read)}")
        if got != (field, kind):
            raise Mistake(f"Your {channel} encoding is {got[0]!r} as {got[1]}; the question asks for `{field}:{kinds.get(kind, kind)}`.{reread(read)}")
    ids = {row.get(id_field) for row in parts["rows"]}
    got = globals()["key"](question, ids)
    if got == rows_key:
        return
    if mistakes and got in mistakes:
        raise Mistake(mistakes[got] + reread(read))
    raise Mistake(otherwise + reread(read))


# --- what the student sees -----------------------------------------------------------------------


def reread(read: str | None) -> str:
    """The 'reread' sentence that ends a failure message.

    ``read`` names the place in the book, e.g. ``'chapter 1, "Three dates"; the pandas primer,
    "Dates and Timedelta"'``: by name, because the notebook may be opened away from the book.
    """
    return f" Reread: {read}." if read else ""


def answer(question: str, value, name: str, types=None, *, key: str | None = None,
           mistakes: Mapping[str, str] | None = None, otherwise: str = "That is not the answer yet.",
           read: str | None = None, digits: int = 6, shape=None, unordered: bool = False) -> None:
    """The public check of one answer: returns quietly when it is right, else raises :class:`Mistake`.

    ``types`` is a type or tuple of types the answer must have (``int`` accepts NumPy integers too,
    ``float`` accepts any real number); ``shape`` an optional function that returns a message for a
    well-formed-but-wrong-shaped answer (or None); ``key`` the key of the right answer;
    ``mistakes`` maps the keys of likely wrong answers to what each one gets wrong; ``otherwise``
    is the advice for any other answer; ``read`` the section to reread; ``unordered`` makes a list's
    order not count (the grader cannot carry Python sets out of a notebook, so ask for a list).
    """
    not_yet(name, value)
    if types is not None:
        wanted = types if isinstance(types, tuple) else (types,)
        if not _is_one_of(value, wanted):
            raise Mistake(f"`{name}` should be {_describe_types(wanted)}, but it is {_a(type(value).__name__)}."
                          f"{_type_hint(value, wanted)}{reread(read)}")
    if shape is not None:
        problem = shape(value)
        if problem:
            raise Mistake(problem + reread(read))
    if key is None:
        return
    got = globals()["key"](question, set(value) if unordered else value, digits)
    if got == key:
        return
    if mistakes and got in mistakes:
        raise Mistake(mistakes[got] + reread(read))
    raise Mistake(otherwise + reread(read))


def choice(question: str, value, name: str, options: Iterable, *, key: str,
           mistakes: Mapping[str, str] | None = None, otherwise: str = "That is not the best choice.",
           read: str | None = None) -> None:
    """The public check of a multiple-choice answer: one of ``options`` (ints), then its key."""
    options = tuple(options)
    not_yet(name, value)
    if not _is_one_of(value, (int,)) or value not in options:
        raise Mistake(f"`{name}` should be one of the numbers {_listing(options)}, written without quotes.")
    answer(question, int(value), name, int, key=key, mistakes=mistakes, otherwise=otherwise, read=read)


def not_yet(name: str, value) -> None:
    """Raise the right 'no answer yet' message: not run, not replaced, or the cell stopped with an error."""
    if value is not None and value is not Ellipsis:
        return
    failed = _failed_cell(name)
    if failed:
        raise Mistake(f"The cell where you set `{name}` stopped with an error ({failed}), so `{name}` "
                      "has no answer yet. Fix the error, run that cell again, then run this check.")
    if value is None:
        raise Mistake(f"`{name}` is not defined yet. Run the cell where you set it, then run this check.")
    raise Mistake(f"You haven't replaced the `...` in `{name} = ...` with your answer yet.")


def _is_one_of(value, wanted: tuple) -> bool:
    import numpy as np
    import pandas as pd

    for kind in wanted:
        if kind is int and isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return True
        if kind is float and isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            return True
        if kind is str and isinstance(value, str):
            return True
        if kind in (pd.DataFrame, pd.Series, list, set, dict, tuple) and type(value) is kind:
            return True
    return False


NAMES = {"int": "a whole number (an int)", "float": "a number", "str": "a string in quotes",
         "DataFrame": "a DataFrame", "Series": "a pandas Series", "list": "a list in square brackets",
         "set": "a set in curly brackets", "dict": "a dict", "tuple": "a tuple"}


def _describe_types(wanted: tuple) -> str:
    return " or ".join(NAMES.get(t.__name__, t.__name__) for t in wanted)


def _a(type_name: str) -> str:
    friendly = {"Timedelta": "Timedelta (a length of time)", "Timestamp": "Timestamp (a date)",
                "str": "string", "NoneType": "None"}.get(type_name, type_name)
    return ("an " if friendly[0].lower() in "aeiou" else "a ") + friendly


def _type_hint(value, wanted: tuple) -> str:
    """One sentence on the usual way from the type the student has to the type wanted."""
    import pandas as pd

    names = {t.__name__ for t in wanted}
    if isinstance(value, pd.Timedelta) and names & {"int", "float"}:
        return " Take its `.days` to get a number of days."
    if isinstance(value, pd.DataFrame) and "Series" in names:
        return " Select one column before you aggregate, as in `groupby(...)[\"high\"].max()`."
    if isinstance(value, pd.Series) and names & {"int", "float", "str"}:
        return " You have a whole column: pick one value from it (for example with `.loc[...]`, `.iloc[0]` or `.max()`)."
    if isinstance(value, str) and names & {"int", "float"}:
        return " Write the number without quotes."
    return ""


def _listing(options) -> str:
    options = [str(o) for o in options]
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]


# --- which cell set the answer, and did it fail? --------------------------------------------------

_RUNS: list[tuple[str, str | None]] = []  #: (cell source, error or None) for each cell run since setup


def _record(result) -> None:
    error = result.error_before_exec or result.error_in_exec
    source = getattr(result.info, "raw_cell", "") or ""
    _RUNS.append((source, None if error is None else f"{type(error).__name__}: {error}"))
    del _RUNS[:-200]


def _assigns(source: str, name: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.search(rf"^\s*{re.escape(name)}\s*=", source, flags=re.MULTILINE) is not None
    return any(isinstance(target, ast.Name) and target.id == name
               for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
               for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))


def _failed_cell(name: str) -> str | None:
    """The error of the latest run of the cell that sets ``name``, if that run failed."""
    for source, error in reversed(_RUNS):
        if _assigns(source, name):
            return error
    return None


def _listen() -> None:
    """Remember each cell's outcome (in IPython only, once)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_coursepack_checks", False):
        return
    shell.events.register("post_run_cell", _record)
    shell._coursepack_checks = True


# --- the grader object students call ---------------------------------------------------------------


class Feedback:
    """Wraps otter's ``grader`` so that a check shows only the course's message.

    Otter prints a failed test as its file, line and source line ("Error at line 4 in test q1"),
    which shows a student the check's code instead of advice. ``Feedback.check`` runs otter's check
    in the notebook's own namespace and shows, for each public test case, our message alone.
    ``progress()`` checks every question and prints one line each and a total. Anything else is
    passed on to otter's object.
    """

    def __init__(self, grader):
        self._grader = grader
        self._seen: dict[str, bool] = {}
        _listen()

    def __getattr__(self, name):
        return getattr(self._grader, name)

    def check(self, question: str, global_env=None):
        env = global_env if global_env is not None else sys._getframe(1).f_globals
        result = self._grader.check(question, env)
        if result is None:  # a stand-in grader (the batch grader's sandbox) does nothing
            return None
        shown = Shown(question, result)
        self._seen[question] = shown.passed
        return shown

    def progress(self, global_env=None):
        env = global_env if global_env is not None else sys._getframe(1).f_globals
        names = self._questions()
        if not names:
            return None
        results = [Shown(q, self._grader.check(q, env)) for q in names]
        return Progress(results)

    check_all = progress

    def _questions(self) -> list[str]:
        config = getattr(self._grader, "_nbmeta_config", None)
        tests = getattr(config, "tests", None) or {}
        return sorted(tests, key=_natural)


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class Shown:
    """One question's check as the student sees it."""

    def __init__(self, question: str, result):
        self.question = question
        self.messages = []
        for tcr in getattr(result, "test_case_results", []):
            if tcr.test_case.hidden or tcr.passed:
                continue
            self.messages.append(student_message(tcr.message or ""))
        self.passed = not self.messages

    def text(self) -> str:
        if self.passed:
            return f"✅ {self.question}: right."
        return f"❌ {self.question}: " + " ".join(self.messages)

    def __repr__(self):
        return self.text()

    def _repr_html_(self):
        colour = "#1a7f37" if self.passed else "#b3261e"
        body = html.escape(self.text())
        return f'<p style="border-left: 4px solid {colour}; padding-left: 0.6em">{body}</p>'


class Progress:
    def __init__(self, results: list[Shown]):
        self.results = results

    def text(self) -> str:
        right = sum(r.passed for r in self.results)
        lines = [r.text() for r in self.results]
        lines.append(f"Your progress: {right} of {len(self.results)} checked questions right."
                     + ("" if right < len(self.results) else " Well done: written questions are marked by your teacher."))
        return "\n".join(lines)

    def __repr__(self):
        return self.text()

    def _repr_html_(self):
        return "<br>".join(html.escape(line) for line in self.text().splitlines())


def student_message(otter_message: str) -> str:
    """Our message out of otter's report of a failed test case.

    Otter writes ``❌ Test case failed``, ``Error at line N in test qN:``, the source line, then
    ``ExceptionType: message``; we keep the message of a :class:`Mistake` (or an ``AssertionError``)
    and describe any other exception as a check that could not run on this answer.
    """
    lines = otter_message.strip("\n").split("\n")
    if len(lines) >= 4 and lines[1].startswith("Error at line"):
        rest = "\n".join(lines[3:])
    else:
        rest = otter_message
    match = re.match(r"(\w+(?:\.\w+)*): ?(.*)", rest, flags=re.DOTALL)
    if not match:
        return rest.strip()
    kind, text = match.group(1).rsplit(".", 1)[-1], match.group(2).strip()
    if kind in {"Mistake", "AssertionError"}:
        return text
    return (f"This answer could not be checked ({kind}: {text}). Check that it is the kind of value "
            "the question asks for.")


def main(argv=None) -> int:
    """``python -m coursepack.grading.checks QUESTION PYTHON-EXPRESSION``: print the key of a value."""
    import numpy as np  # noqa: F401 - for expressions
    import pandas as pd  # noqa: F401

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(main.__doc__)
        return 2
    print(key(args[0], eval(args[1])))  # noqa: S307 - an author's own expression
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
