"""The course plan is coherent, and no page states a time, a sequence or a weight the plan does not."""
import re

import pytest

from coursepack.book import plan
from tests.conftest import ROOT

PLAN = plan.load()
# Hand-written pages that speak of time; their times come from generated includes, so the only figures they may
# state by hand are the class lengths and the simulation's preparation.
PAGES = ["book/syllabus.md", "book/simulation.md", "book/simulation-briefs.md", "book/how-to-use.md",
         "book/instructor-guide.md", "book/intro.md"]


def test_weights_sum_to_100_and_include_the_final_memo():
    assert plan.check_weights(PLAN) == 100
    names = [g["name"] for g in PLAN["graded"]]
    assert "Final memo" in names
    assert len(names) == len(set(names))


def test_every_chapter_and_set_has_minutes_and_exists():
    for chapter in PLAN["chapters"]:
        assert (ROOT / chapter["notebook"]).exists() and (ROOT / chapter["exercises"]).exists()
        assert chapter["reading_minutes"] > 0 and chapter["exercise_minutes"] > 0


@pytest.mark.parametrize("length", sorted(PLAN["simulation"]["run_sheets"]))
def test_run_sheets_add_up_to_the_class_length(length):
    sheet = PLAN["simulation"]["run_sheets"][length]
    assert sum(part["minutes"] for part in sheet) == length
    assert [p["part"] for p in sheet] == [p["part"] for p in PLAN["simulation"]["run_sheets"][50]]


@pytest.mark.parametrize("session", PLAN["sessions"], ids=lambda s: f"session {s['number']}")
def test_each_session_fills_the_class(session):
    assert plan.class_minutes(session, PLAN) == PLAN["session_minutes"]


def test_every_chapter_and_set_is_scheduled_once_and_in_order():
    read, done = [], []
    for session in PLAN["sessions"]:
        for item in session["before"] + session["after"]:
            if "chapter" in item:
                read.append(item["chapter"])
            if "exercises" in item:
                assert item["exercises"] in read, f"exercise set for {item['exercises']} before its chapter"
                done.append(item["exercises"])
    ids = [c["id"] for c in PLAN["chapters"]]
    assert read == ids and done == ids


def test_the_simulation_comes_before_chapter_5():
    """Chapter 5 reveals the outcomes, so it is read only after the session that plays the simulation."""
    sim = next(s for s in PLAN["sessions"] if any("run_sheet" in a for a in s["in_class"]))
    later = [i.get("chapter") for s in PLAN["sessions"] if s["number"] < sim["number"] for i in s["before"] + s["after"]]
    assert "ch5" not in later and "ch5" not in [i.get("chapter") for i in sim["before"]]
    assert "ch5" in [i.get("chapter") for i in sim["after"]]
    assert PLAN["simulation"]["memo_due"] == "before class"


def test_self_study_days_add_the_plans_minutes():
    days = plan.self_study_days(PLAN)
    chapters = {c["id"]: c for c in PLAN["chapters"]}
    assert sum(m for *_, m in days) == (sum(c["reading_minutes"] + c["exercise_minutes"] for c in chapters.values())
                                        + PLAN["simulation"]["preparation_minutes"])


@pytest.mark.parametrize("page", PAGES)
def test_pages_state_no_time_the_plan_does_not(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    stray = sorted(set(plan.stated_minutes(text)) - plan.allowed_minutes(PLAN))
    assert not stray, (f"{page} states {stray} minutes by hand; put the time in book/course-plan.yml and "
                       "include the generated table instead")


@pytest.mark.parametrize("page", PAGES)
def test_pages_keep_the_plans_sequence(page):
    """No page tells students to read chapter 5 before the simulation, or to write the memo after class."""
    text = re.sub(r"\s+", " ", (ROOT / page).read_text(encoding="utf-8")).lower()
    for wrong in ["memo after class", "after class (graded) |", "read the chapter first", "before the simulation, read"]:
        assert wrong not in text, f"{page} says {wrong!r}, against book/course-plan.yml"


def test_rendered_tables_come_from_the_plan():
    sessions = plan.render_sessions(PLAN)
    assert "Final memo" in sessions and "Exit question, on paper:" in sessions
    sheets = plan.render_run_sheets(PLAN)
    assert "**50 min**" in sheets and "**90 min**" in sheets
    assert "**100%**" in plan.render_weights(PLAN)


def test_a_hand_edited_time_fails(tmp_path):
    """The check above catches a page edited by hand, e.g. the old '60 minutes a day of self-study'."""
    edited = (ROOT / "book/syllabus.md").read_text(encoding="utf-8") + "\nAbout 60 minutes a day of self-study.\n"
    assert 60 in set(plan.stated_minutes(edited)) - plan.allowed_minutes(PLAN)


def test_chapter_and_exercise_headers_match_the_plan():
    """The "Time:" line at the top of each chapter and exercise set states the plan's minutes."""
    problems = plan.header_mismatches(PLAN)
    assert not problems, "\n".join(problems)


def test_injects_come_from_data_rows_and_open_a_round():
    from coursepack.lessons import data

    parts = {p["part"] for p in PLAN["simulation"]["run_sheets"][50]}
    for inject in PLAN["simulation"]["injects"]:
        assert inject["part"] in parts and inject["part"] != "Set-up"
        table, ids = inject["row"].split(": ")
        known = set(data.load(table)["id"])
        for row_id in ids.split(", "):
            assert row_id in known, f"inject cites {table}: {row_id}, which is not in data/{table}.csv"


def test_the_90_minute_run_sheet_uses_the_control_team():
    sheet = " ".join(p["what"] for p in PLAN["simulation"]["run_sheets"][90]).lower()
    assert "control team" in sheet and "inject" in sheet and "consequences" in sheet


CITED = re.compile(r"\*([a-z_]+): ([a-z0-9, -]+)\*")


@pytest.mark.parametrize("page", ["book/simulation.md", "book/simulation-briefs.md"])
def test_every_row_the_simulation_cites_is_in_the_data(page):
    """A brief, a consequence or a debrief line that cites a row the data does not hold would be an invented fact."""
    from coursepack.lessons import data

    text = (ROOT / page).read_text(encoding="utf-8")
    missing, cited = [], 0
    for table, ids in CITED.findall(text):
        known = set(data.load(table)["id"])
        for row_id in ids.split(", "):
            cited += 1
            if row_id.strip() not in known:
                missing.append(f"{table}: {row_id}")
    assert cited >= 10 and not missing, f"{page} cites rows that are not in data/: {missing}"


def test_confidential_facts_come_from_rows_dated_by_4_november_2024():
    """What a seat 'knows' on 4 November 2024 cannot rest on a row reported later (the debrief is for those)."""
    from coursepack.lessons import data
    from tests.test_book import brief_lines

    dated = {"statements": "date", "events": "date", "troop_estimates": "date", "polls": "date_reported",
             "exchanges": "date_reported"}
    late, checked = [], 0
    for line in brief_lines():  # the lines come without their asterisks: "(statements: rok-2024-10-21)"
        cites = [part.strip() for group in re.findall(r"\(([^()]*)\)", line) for part in group.split(";")]
        for table, ids in (c.split(": ", 1) for c in cites if re.fullmatch(r"[a-z_]+: [a-z0-9, -]+", c)):
            if table not in dated:
                continue
            frame = data.load(table).set_index("id")
            for row_id in ids.split(", "):
                checked += 1
                when = str(frame.loc[row_id.strip(), dated[table]])[:10]
                if when > "2024-11-04":
                    late.append(f"{table}: {row_id} ({when})")
    assert checked >= 30 and not late, f"confidential facts from rows later than 4 November 2024: {late}"
