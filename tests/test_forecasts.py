"""Chapter 5 helpers: Brier score, scorecard, signposts and the forecast widget (fast, no book build)."""
import pandas as pd
import pytest

from coursepack import data, forecasts


def test_brier_score_of_known_values():
    assert forecasts.brier_score({"a": 0.9, "b": 0.2}, {"a": 1, "b": 0}) == pytest.approx(0.025)
    assert forecasts.brier_score({"a": 1.0}, {"a": 1}) == 0
    assert forecasts.brier_score({"a": 0.0}, {"a": 1}) == 1


def test_hedging_at_one_half_always_scores_a_quarter():
    outcomes = {"a": 1, "b": 0, "c": 1}
    assert forecasts.brier_score(dict.fromkeys(outcomes, 0.5), outcomes) == pytest.approx(0.25)


def test_only_resolved_forecasts_are_scored():
    assert forecasts.brier_score({"a": 0.5, "unresolved": 0.9}, {"a": 1}) == pytest.approx(0.25)


@pytest.mark.parametrize("bad", [1.2, -0.1, "0.7", True, None])
def test_probability_outside_zero_one_is_refused_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="number from 0 to 1"):
        forecasts.brier_score({"a": bad}, {"a": 1})


def test_missing_probability_names_the_forecast():
    with pytest.raises(ValueError, match="'b'"):
        forecasts.brier_score({"a": 0.5}, {"a": 1, "b": 0})


def test_empty_outcomes_are_refused():
    with pytest.raises(ValueError, match="No resolved forecasts"):
        forecasts.brier_score({"a": 0.5}, {})


def _tiny_tables():
    sources = pd.DataFrame({"id": ["analysis", "later", "earlier"],
                            "date": pd.to_datetime(["2024-10-29", "2025-01-01", "2024-10-01"])})
    claims = pd.DataFrame({
        "id": ["f1", "f2", "f3", "fact"],
        "kind": ["forecast", "forecast", "forecast", "reported fact"],
        "verdict": ["borne out", "not borne out", "mixed", None],
        "outcome_source_id": ["later", "earlier", "later", None],
        "outcome_other_source_id": [None, "later", None, None],
    })
    return claims, sources


def test_scorecard_keeps_forecasts_maps_verdicts_and_dates_sources():
    claims, sources = _tiny_tables()
    card = forecasts.scorecard(claims, sources)
    assert card["id"].tolist() == ["f1", "f2", "f3"]
    assert card["outcome_value"].tolist()[:2] == [1, 0] and pd.isna(card["outcome_value"][2])
    # f2's main source predates the analysis, but its second source is later: at least one is enough.
    assert card["later_source"].tolist() == [True, True, True]
    assert forecasts.resolved_outcomes(card) == {"f1": 1, "f2": 0}


def test_score_table_and_chart_have_error_per_forecast():
    claims, sources = _tiny_tables()
    card = forecasts.scorecard(claims, sources)
    table = forecasts.score_table({"f1": 0.8, "f2": 0.3, "f3": 0.5}, card)
    assert table["squared_error"].round(2).tolist()[:2] == [0.04, 0.09]
    assert pd.isna(table["squared_error"][2])
    spec = forecasts.scorecard_chart(table, label="id").to_dict()
    assert spec["title"] and "f1: 80%" in spec["description"]


def test_every_forecast_in_the_data_cites_a_source_after_the_analysis():
    card = forecasts.scorecard(data.load("claims"), data.load("sources"))
    assert len(card) > 0
    missing = card.loc[~card["later_source"], "id"].tolist()
    assert not missing, f"forecasts whose verdict cites no source dated after 29 October 2024: {missing}"
    assert card["verdict"].notna().all(), "every forecast needs a verdict"


def test_signposts_chart_has_a_scenario_menu_and_description():
    spec = forecasts.signposts_chart(data.load("signposts")).to_dict()
    params = [p for layer in spec.get("layer", []) for p in layer.get("params", [])] + spec.get("params", [])
    assert any(p.get("bind", {}).get("input") == "select" for p in params)
    assert "scenario" in spec["description"]


def test_signposts_after_the_analysis_have_dates_and_events_exist():
    signposts = data.load("signposts")
    dated = signposts.dropna(subset=["date_appeared"])
    assert (dated["date_appeared"] > pd.Timestamp("2024-10-29")).all()
    events = set(data.load("events")["id"])
    assert set(signposts["event_id"].dropna()) <= events


def test_forecast_form_writes_into_the_same_dictionary():
    rows = pd.DataFrame({"id": ["f1", "f2"], "text": ["one", "two"]})
    answers = {"f1": 0.3}
    form = forecasts.forecast_form(rows, answers, label="id")
    assert answers == {"f1": 0.3, "f2": 0.5}
    sliders = [w for w in form.children if hasattr(w, "forecast_id")]
    assert all(slider.description for slider in sliders)
    sliders[1].value = 0.85
    assert answers["f2"] == 0.85
    summary = form.children[-2]  # the last child is the note on rerunning
    assert "85%" in summary.value


def test_synthesis_diagram_describes_every_link():
    nodes = pd.DataFrame({"node": ["A", "B"], "x": [0, 1], "y": [0, 1], "section": ["s", "t"]})
    links = pd.DataFrame({"source": ["A"], "target": ["B"], "short": ["ab"], "label": ["A helps B"]})
    spec = forecasts.synthesis_diagram(nodes, links).to_dict()
    assert "A to B: A helps B" in spec["description"]
