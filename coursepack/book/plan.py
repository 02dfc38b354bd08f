"""The course plan (``book/course-plan.yml``): minutes, sequence and weights, and the tables rendered from it.

Why one file: the syllabus, the simulation page and the instructor guide all state times, a sequence and
weights. Written by hand in three places they drifted apart; rendered from one file they cannot, and
``tests/test_plan.py`` fails when a hand-written page states a time the plan does not.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "book" / "course-plan.yml"


def load() -> dict:
    """The plan as a dictionary, exactly as written in ``book/course-plan.yml``."""
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def chapters(plan: dict | None = None) -> dict[str, dict]:
    """The chapters by id (``ch1`` ...)."""
    return {c["id"]: c for c in (plan or load())["chapters"]}


def set_number(chapter: dict) -> int:
    """The exercise set's number, from its file name (``exercises/03-...`` is set 3)."""
    return int(Path(chapter["exercises"]).name[:2])


def chapter_doc(chapter: dict, prefix: str = "../") -> str:
    return f"{{doc}}`{prefix}{Path(chapter['notebook']).with_suffix('').as_posix()}`"


def exercise_doc(chapter: dict, prefix: str = "") -> str:
    stem = Path(chapter["exercises"]).stem
    return f"{{doc}}`Exercise set {set_number(chapter)} <{prefix}_generated/exercises/{stem}>`"


def item_minutes(item: dict, plan: dict) -> int:
    """Minutes of one before/after item: a chapter's reading, an exercise set, the simulation's preparation."""
    if "chapter" in item:
        return chapters(plan)[item["chapter"]]["reading_minutes"]
    if "exercises" in item:
        return chapters(plan)[item["exercises"]]["exercise_minutes"]
    if "simulation" in item:
        return plan["simulation"]["preparation_minutes"]
    return item["minutes"]


def item_text(item: dict, plan: dict, prefix: str = "") -> str:
    if "chapter" in item:
        return f"Chapter {chapter_doc(chapters(plan)[item['chapter']], '../' if not prefix else prefix)}"
    if "exercises" in item:
        return exercise_doc(chapters(plan)[item["exercises"]], prefix)
    if "simulation" in item:
        return "Your seat's brief and the {ref}`position memo <simulation-memo>`"
    return item["item"]


def class_minutes(session: dict, plan: dict) -> int:
    """Minutes of a session's in-class activities (a run sheet counts as its parts)."""
    total = 0
    for activity in session["in_class"]:
        if "run_sheet" in activity:
            total += sum(p["minutes"] for p in plan["simulation"]["run_sheets"][activity["run_sheet"]])
        else:
            total += activity["minutes"]
    return total


def _items(items: list[dict], plan: dict) -> str:
    return "; ".join(f"{item_text(i, plan)} ({item_minutes(i, plan)} min)" for i in items)


def render_sessions(plan: dict | None = None) -> str:
    """The syllabus's table of sessions: before class, in class, after class, with minutes."""
    plan = plan or load()
    lines = [f"| Session | Before class (pre-reading) | In class ({plan['session_minutes']} min) | After class |",
             "|---|---|---|---|"]
    for session in plan["sessions"]:
        activities = []
        for activity in session["in_class"]:
            if "run_sheet" in activity:
                sheet = plan["simulation"]["run_sheets"][activity["run_sheet"]]
                parts = ", ".join(f"{p['part']} {p['minutes']} min" for p in sheet)
                activities.append(f"The {{doc}}`simulation`, {activity['run_sheet']}-minute run sheet: {parts}.")
            else:
                activities.append(f"{activity['minutes']} min: {activity['activity']}")
        lines.append(f"| **{session['number']}. {session['title']}** | {_items(session['before'], plan)} | "
                     f"{' '.join(activities)} | {_items(session['after'], plan)} |")
    return "\n".join(lines) + "\n"


def self_study_days(plan: dict | None = None) -> list[tuple[str, str, int]]:
    """The self-study week: (read and run, check yourself, minutes) per day, in the plan's sequence."""
    plan = plan or load()
    days = []
    for chapter in plan["chapters"]:
        if chapter["id"] == "ch5":
            sim = plan["simulation"]["preparation_minutes"]
            days.append(("The {doc}`simulation` page and one seat's brief: write its position memo and the "
                         "briefing you would give the council, before you read chapter 5", "The memo against the single-point rubric", sim))
        days.append((f"Chapter {chapter_doc(chapter)}", exercise_doc(chapter),
                     chapter["reading_minutes"] + chapter["exercise_minutes"]))
    return days


def render_self_study(plan: dict | None = None) -> str:
    lines = ["| Day | Read and run | Check yourself | Time |", "|---|---|---|---|"]
    for number, (read, check, minutes) in enumerate(self_study_days(plan), start=1):
        lines.append(f"| {number} | {read} | {check} | {minutes} min |")
    return "\n".join(lines) + "\n"


def check_weights(plan: dict) -> int:
    total = sum(g["weight"] for g in plan["graded"])
    if total != 100:
        raise ValueError(f"the weights in book/course-plan.yml sum to {total}%, not 100%")
    return total


def render_weights(plan: dict | None = None) -> str:
    plan = plan or load()
    check_weights(plan)
    lines = ["| What is graded | Weight | How |", "|---|---|---|"]
    for g in plan["graded"]:
        lines.append(f"| {g['name']} | {g['weight']}% | {g['what']} |")
    lines.append(f"| **Total** | **{sum(g['weight'] for g in plan['graded'])}%** | |")
    return "\n".join(lines) + "\n"


def render_run_sheets(plan: dict | None = None) -> str:
    """The simulation's run sheets side by side, with their totals."""
    plan = plan or load()
    sheets = plan["simulation"]["run_sheets"]
    lengths = sorted(sheets)
    lines = ["| Part | What happens | " + " | ".join(f"{n}-minute class" for n in lengths) + " |",
             "|---|---|" + "---|" * len(lengths)]
    first = sheets[lengths[0]]
    for index, part in enumerate(first):
        what = " / ".join(dict.fromkeys(sheets[n][index]["what"] for n in lengths))
        cells = " | ".join(f"{sheets[n][index]['minutes']} min" for n in lengths)
        lines.append(f"| **{part['part']}** | {what} | {cells} |")
    totals = " | ".join(f"**{sum(p['minutes'] for p in sheets[n])} min**" for n in lengths)
    lines.append(f"| **Total** | | {totals} |")
    return "\n".join(lines) + "\n"


def render_injects(plan: dict | None = None) -> str:
    """The simulation's timed injects, in the order they are read out."""
    plan = plan or load()
    lines = ["| When it is read | Dated | What the chair reads out | Data row |", "|---|---|---|---|"]
    for inject in plan["simulation"]["injects"]:
        lines.append(f"| Start of {inject['part']} | {inject['date']:%d %B %Y} | {inject['text']} | *{inject['row']}* |")
    return "\n".join(lines) + "\n"


def render_chapter_times(plan: dict | None = None) -> str:
    """A table of each chapter's and exercise set's minutes (the instructor guide includes it)."""
    plan = plan or load()
    lines = ["| Chapter | Reading and exploring | Exercise set |", "|---|---|---|"]
    for c in plan["chapters"]:
        lines.append(f"| {c['title']} | {c['reading_minutes']} min | {c['exercise_minutes']} min |")
    sim = plan["simulation"]
    lines.append(f"| Simulation | {sim['preparation_minutes']} min preparation (memo due {sim['memo_due']}) | "
                 + ", ".join(f"{n}-minute run sheet" for n in sorted(sim["run_sheets"])) + " |")
    return "\n".join(lines) + "\n"


MINUTES = re.compile(r"(\d+)(?:\s*|-)(?:min\b|mins\b|minutes?\b)", re.IGNORECASE)


def stated_minutes(text: str) -> list[int]:
    """Every number of minutes a text states ("20 min", "45 minutes", "a 50-minute class")."""
    return [int(m) for m in MINUTES.findall(text)]


def allowed_minutes(plan: dict | None = None) -> set[int]:
    """The minutes a hand-written page may state: the class lengths and the simulation's preparation.

    Every other time (a chapter, a set, an activity) is rendered from the plan, not written by hand.
    """
    plan = plan or load()
    sim = plan["simulation"]
    return {plan["session_minutes"], sim["preparation_minutes"], *sim["run_sheets"]}


HEADER = re.compile(r"\*\*Time:\*\*\s*about (\d+) minutes(?: \((\d+) reading and exploring, (\d+) for)?")


def header_mismatches(plan: dict | None = None) -> list[str]:
    """Where a chapter's or exercise set's "Time:" header disagrees with the plan, in words."""
    import json

    plan = plan or load()
    problems = []
    for c in plan["chapters"]:
        for path, expected in [(c["notebook"], (c["reading_minutes"] + c["exercise_minutes"], c["reading_minutes"],
                                                c["exercise_minutes"])),
                               (c["exercises"], (c["exercise_minutes"],))]:
            cells = json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]
            text = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
            match = HEADER.search(text)
            if not match:
                problems.append(f"{path}: no '**Time:** about N minutes' header")
                continue
            found = tuple(int(g) for g in match.groups() if g is not None)
            if found != expected[:len(found)]:
                problems.append(f"{path}: header says {match.group(0)!r}; the plan says "
                                + (f"about {expected[0]} minutes ({expected[1]} reading and exploring, "
                                   f"{expected[2]} for the exercise set)" if len(expected) == 3
                                   else f"about {expected[0]} minutes"))
    return problems
