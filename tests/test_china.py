"""Chapter 4's builders (coursepack.china): the interests arithmetic, the charts and the explorer.

Fast unit tests on small hand-made tables, plus a few checks against the real china_interests table.
"""
import pandas as pd
import pytest

from coursepack import china, data


@pytest.fixture
def small():
    """Two interests whose totals are easy to work out by hand."""
    return pd.DataFrame({
        "id": ["a", "b"], "interest": ["Alpha", "Beta"], "reasoning": ["why a", "why <b>"],
        "bearing_distancing": [2, -1], "bearing_wait_and_see": [0, 2], "bearing_open_support": [-2, 1],
    })


def test_scores_are_weight_times_bearing(small):
    scores = china.stance_scores(small, {"a": 3, "b": 1})
    assert len(scores) == 2 * len(china.STANCES)
    row = scores[(scores["id"] == "a") & (scores["stance"] == "Public distancing")].iloc[0]
    assert (row["weight"], row["bearing"], row["contribution"]) == (3.0, 2, 6.0)
    assert china.totals(scores)["score"].tolist() == [5.0, 2.0, -5.0]
    assert china.totals(scores)["stance"].tolist() == list(china.STANCES.values())


def test_missing_weights_default_and_unknown_ids_fail(small):
    default = china.stance_scores(small)
    assert (default["weight"] == china.WEIGHT_DEFAULT).all()
    with pytest.raises(KeyError, match="unknown interest"):
        china.stance_scores(small, {"zzz": 2})


def test_zero_weights_tie_every_stance(small):
    scores = china.stance_scores(small, {"a": 0, "b": 0})
    assert china.favoured(scores) == list(china.STANCES.values())


def test_real_table_favours_wait_and_see_with_equal_weights():
    interests = data.load("china_interests")
    assert set(interests["id"]) >= {"europe-trade", "seoul-ties", "avoid-containment", "avoid-entanglement",
                                    "influence-pyongyang", "moscow-partnership"}
    for column in ("bearing_distancing", "bearing_wait_and_see", "bearing_open_support"):
        assert interests[column].between(-2, 2).all()
    assert china.favoured(china.stance_scores(interests)) == ["Wait-and-see"]
    # The chapter's escalation scenario tips the balance to public distancing.
    scenario = {"europe-trade": 3, "avoid-containment": 3, "seoul-ties": 2}
    assert china.favoured(china.stance_scores(interests, scenario)) == ["Public distancing"]


def test_param_chart_binds_one_slider_per_interest(small):
    spec = china.interests_param_chart(small).to_dict()
    params = [p for layer in spec["layer"] for p in layer.get("params", [])] + spec.get("params", [])
    sliders = [p for p in params if p.get("bind", {}).get("input") == "range"]
    assert sorted(p["name"] for p in sliders) == ["w_a", "w_b"]
    assert all(p["bind"]["min"] == china.WEIGHT_MIN and p["bind"]["max"] == china.WEIGHT_MAX for p in sliders)
    assert spec["description"] and spec["title"]
    assert china._score_domain(small) == [-6, 6]


def test_explorer_shows_a_snapshot_and_recomputes(small):
    import ipywidgets

    box = china.interests_explorer(small)
    *sliders, result = box.children
    assert isinstance(result, ipywidgets.HTML)
    assert all(slider.description for slider in sliders)
    assert "Favoured: Wait-and-see" in result.value  # equal weights: totals 1, 2, -1
    assert "why &lt;b&gt;" in result.value  # reasoning is escaped
    sliders[0].value = 3
    assert "Favoured: Public distancing" in result.value


def test_statements_timeline_has_a_brush_and_a_description():
    statements = pd.DataFrame({"date": pd.to_datetime(["2024-08-01", "2024-10-24"]),
                               "speech_act": ["welcomes", "declines to confirm"], "paraphrase": ["x", "y"], "speaker": ["s", "t"]})
    spec = china.statements_timeline(statements, text="paraphrase", speaker="speaker").to_dict()
    assert len(spec["vconcat"]) == 2
    assert [p["select"]["type"] for p in spec["params"] if p["name"] == "period"] == ["interval"]
    assert "2 Chinese official statements" in spec["description"]
