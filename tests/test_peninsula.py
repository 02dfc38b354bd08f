"""Fast unit tests for coursepack.peninsula (chapter 3): the options ranking, the charts and the explorer."""
import math

import ipywidgets as widgets
import pandas as pd
import pytest

from coursepack import data, peninsula

EQUAL = dict.fromkeys(peninsula.CRITERIA, 1)


@pytest.fixture(scope="module")
def options():
    return data.load("seoul_options")


def small_table():
    """Two options, two criteria: 'bold' deters but is risky, 'safe' the opposite."""
    return pd.DataFrame({
        "option": ["bold", "bold", "safe", "safe"],
        "label": ["Bold", "Bold", "Safe", "Safe"],
        "criterion": ["deterrence", "escalation_risk"] * 2,
        "score": [5, 5, 1, 1],
    })


def test_options_table_is_complete_and_says_whose_judgement(options):
    assert set(options["criterion"]) == set(peninsula.CRITERIA)
    assert (options.groupby("option")["criterion"].nunique() == len(peninsula.CRITERIA)).all()
    assert options["score"].between(1, 5).all()
    assert (options["judged_by"] == "course authors").all()
    assert options["rationale"].str.len().gt(20).all()


def test_escalation_risk_counts_inverted():
    ranked = peninsula.rank_options(small_table(), {"deterrence": 1, "escalation_risk": 1})
    # bold: (5 + (6 - 5)) / 2 = 3; safe: (1 + (6 - 1)) / 2 = 3 -> a tie, sharing rank 1
    assert ranked["total"].tolist() == [3.0, 3.0]
    assert ranked["rank"].tolist() == [1, 1]


def test_weights_change_the_winner():
    table = small_table()
    assert peninsula.rank_options(table, {"deterrence": 1, "escalation_risk": 0})["option"].iloc[0] == "bold"
    assert peninsula.rank_options(table, {"deterrence": 0, "escalation_risk": 1})["option"].iloc[0] == "safe"


def test_total_stays_on_the_score_scale(options):
    for weights in (EQUAL, {"deterrence": 5, "escalation_risk": 0, "feasibility_at_home": 2, "alliance_coordination": 1}):
        totals = peninsula.rank_options(options, weights)["total"]
        assert totals.between(1, 5).all()
        assert totals.is_monotonic_decreasing


def test_real_table_rankings_used_in_the_chapter(options):
    assert peninsula.rank_options(options, EQUAL)["option"].iloc[0] == "nato-coordination"
    deterrence_heavy = {**EQUAL, "deterrence": 4}
    assert peninsula.rank_options(options, deterrence_heavy)["option"].iloc[0] == "lethal-weapons"


def test_zero_weights_give_no_ranking(options):
    ranked = peninsula.rank_options(options, dict.fromkeys(peninsula.CRITERIA, 0))
    assert all(math.isnan(total) for total in ranked["total"])
    assert ranked["rank"].isna().all()


@pytest.mark.parametrize("weights", [{"speed": 1}, {"deterrence": -1}])
def test_bad_weights_are_refused(options, weights):
    with pytest.raises(ValueError):
        peninsula.rank_options(options, weights)


def test_weight_chart_has_four_labelled_sliders_and_a_description(options):
    spec = peninsula.options_weight_chart(options).to_dict()
    sliders = [p for p in spec["params"] if p.get("bind", {}).get("input") == "range"]
    assert len(sliders) == 4
    assert all(p["bind"]["name"].startswith("Weight of") for p in sliders)
    assert spec["title"] and "stacked bar chart" in spec["description"]
    tooltips = {t["field"] for t in spec["encoding"]["tooltip"]}
    assert {"rationale", "sources", "score"} <= tooltips


def test_exchange_chart_keeps_statuses_apart():
    exchanges = data.load("exchanges")
    spec = peninsula.exchange_chart(exchanges).to_dict()
    statuses = next(f for r in data.describe()["resources"] if r["name"] == "exchanges"
                    for f in r["schema"]["fields"] if f["name"] == "status")["constraints"]["enum"]
    panels = spec["vconcat"]  # one panel per direction
    assert [panel["title"]["text"] for panel in panels] == peninsula.DIRECTIONS
    for panel in panels:
        assert panel["encoding"]["color"]["field"] == "status"
        assert panel["encoding"]["color"]["scale"]["domain"] == statuses
    assert f"{len(exchanges)} reports" in spec["description"]


def test_explorer_controls_are_labelled_and_result_is_html(options):
    box = peninsula.options_explorer(options)
    controls, result = box.children[:-1], box.children[-1]
    assert isinstance(result, widgets.HTML)
    assert all(control.description for control in controls)
    assert "<table>" in result.value and "Sources:" in result.value
    controls[0].value = 5  # deterrence weight: lethal weapons rise
    assert result.value.index("Lethal weapons") < result.value.index("Humanitarian")
