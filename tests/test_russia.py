"""Chapter 2 builders (coursepack.russia): the manpower arithmetic, the charts, the explorers and the
explanations-evidence mapping."""
import pandas as pd
import pytest

from coursepack import data, russia

RATES = pd.DataFrame({
    "claimant": ["UK Ministry of Defence", "John Healey"],
    "month": pd.to_datetime(["2024-09-01", "2024-10-01"]),
    "per_day": [1271.0, 1354.0],
    "basis": ["Ukrainian General Staff reporting", "UK defence intelligence figures"],
})


@pytest.fixture(scope="module")
def evidence():
    tables = {name: data.load(name) for name in ["events", "statements", "troop_estimates", "russian_casualties"]}
    return russia.describe_evidence(data.load("explanation_evidence"), tables)


# --- arithmetic -----------------------------------------------------------------------------------


def test_days_covered_reproduces_the_analysis_ten_days():
    assert russia.days_covered(12_000, 1_200) == 10.0
    assert russia.days_covered(12_000, 1_500, share=0.5) == 4.0


@pytest.mark.parametrize("kwargs, words", [
    ({"troops": 12_000, "per_day": 0}, "per_day must be a positive"),
    ({"troops": 12_000, "per_day": float("nan")}, "per_day must be a positive"),
    ({"troops": -1, "per_day": 1_200}, "troops must be zero or more"),
    ({"troops": 12_000, "per_day": 1_200, "share": 0}, "share must be above 0"),
    ({"troops": 12_000, "per_day": 1_200, "share": 1.5}, "share must be above 0"),
])
def test_days_covered_refuses_nonsense_with_a_message(kwargs, words):
    with pytest.raises(ValueError, match=words):
        russia.days_covered(**kwargs)


def test_rate_label_and_missing_columns():
    assert russia.rate_label(RATES).tolist() == [
        "UK Ministry of Defence, September 2024: 1,271 a day", "John Healey, October 2024: 1,354 a day"]
    with pytest.raises(ValueError, match="missing column"):
        russia.rate_label(RATES.drop(columns="basis"))


# --- charts ---------------------------------------------------------------------------------------


def test_every_chart_has_title_and_description(evidence):
    events = data.load("events")
    casualties = data.load("russian_casualties")
    built = [
        russia.casualty_totals_chart(casualties[casualties["measure"] == "running total"]),
        russia.treaty_deployment_chart(events),
        russia.manpower_chart(RATES),
        russia.evidence_grid(evidence),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert spec.get("title"), spec.get("description")
        assert len(spec.get("description", "")) > 60


def test_manpower_chart_is_driven_by_browser_parameters():
    spec = russia.manpower_chart(RATES).to_dict()
    names = {p["name"] for p in spec.get("params", [])}
    for layer in spec.get("layer", []):
        names |= {p["name"] for p in layer.get("params", [])}
    assert {"troops", "share", "own_rate"} <= names
    assert "troops * share / datum.rate" in str(spec)


def test_treaty_chart_marks_24_october(evidence):
    spec = russia.treaty_deployment_chart(data.load("events")).to_dict()
    assert "2024-10-24" in str(spec["datasets"])
    assert "24 October 2024" in spec["description"]


# --- explorers ------------------------------------------------------------------------------------


def test_manpower_explorer_recomputes():
    box = russia.manpower_explorer(RATES)
    troops, share, rate, own, result = box.children
    assert "10.0 days" in result.value  # the saved snapshot: 12,000 at the analysis's 1,200
    troops.value = 6_000
    assert "5.0 days" in result.value
    rate.value = 1  # John Healey, October 2024
    assert own.disabled and "4.4 days" in result.value
    share.value = 0.5
    assert "2.2 days" in result.value
    assert result.value.count('<th scope="row"') == len(RATES)  # no bar for "your rate" when a claimant is chosen
    assert result.value.count("(chosen)") == 1 and "<caption" in result.value


def test_explanations_explorer_counts_follow_the_controls(evidence):
    box = russia.explanations_explorer(evidence)
    pick, trusted, later, result = box.children
    early = evidence[evidence["date"] <= "2024-10-29"]
    n_manpower = (early["explanation"] == "manpower").sum()
    assert result.value.count("<tr><td>") == n_manpower
    later.value = True
    assert result.value.count("<tr><td>") == (evidence["explanation"] == "manpower").sum()
    trusted.value = ()
    assert "No evidence left" in result.value


# --- the mapping table ----------------------------------------------------------------------------


def test_each_mapping_row_points_to_exactly_one_evidence_row_with_the_same_source(evidence):
    assert len(evidence) == len(data.load("explanation_evidence"))
    assert evidence["what"].notna().all() and evidence["date"].notna().all()
    for row in evidence.itertuples():
        table = data.load(row.evidence_table).set_index("id")
        assert row.source_id == table.loc[row.evidence_id, "source_id"], row.id


def test_every_explanation_has_evidence_for_and_against(evidence):
    tally = evidence.groupby(["explanation", "bearing"]).size()
    for name in russia.EXPLANATIONS:
        assert tally.get((name, "supports"), 0) >= 1, name
        assert tally.get((name, "weakens"), 0) >= 1, name


def test_describe_evidence_names_a_bad_row():
    mapping = data.load("explanation_evidence").head(1).copy()
    tables = {name: data.load(name) for name in ["events", "statements", "troop_estimates", "russian_casualties"]}
    both = mapping.assign(event_id="treaty-signed", estimate_id="hur-2024-10-24")
    with pytest.raises(ValueError, match=mapping["id"].iloc[0]):
        russia.describe_evidence(both, tables)
    unknown = mapping.assign(estimate_id="no-such-row")
    with pytest.raises(KeyError, match="no-such-row"):
        russia.describe_evidence(unknown, tables)
