"""Chapter 5 helpers: forecast scorecard, Brier score, scenario signposts and the synthesis diagram.

The notebook keeps the pandas a student should read; this module holds the chart builders and the
forecast widget. The Brier score functions take plain dictionaries, so a student's forecasts can
come from the JupyterLab widget or from a dictionary typed into a cell in the book: both are the
same object.
"""
from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping

import altair as alt
import ipywidgets as widgets
import pandas as pd

from coursepack.lessons import charts
from coursepack.lessons import widgets as explorers

#: How a verdict in ``claims.csv`` turns into the outcome a Brier score needs (1 happened, 0 did not).
#: Verdicts missing here ("mixed", "too early") are shown but not scored: a Brier
#: score needs a yes or a no.
VERDICT_OUTCOME = {
    "borne out": 1,
    "not borne out": 0,
}

#: Colours for verdicts and signpost statuses (from the Okabe-Ito palette in ``charts.PALETTE``).
VERDICT_COLOURS = {
    "borne out": charts.PALETTE[2],
    "mixed": charts.PALETTE[4],
    "not borne out": charts.PALETTE[1],
    "too early": charts.PALETTE[6],
}
STATUS_COLOURS = {
    "appeared": charts.PALETTE[2],
    "partly appeared": charts.PALETTE[4],
    "contradicted": charts.PALETTE[1],
    "not recorded": charts.PALETTE[6],
}


# --- Brier score ----------------------------------------------------------------------------------


def brier_score(probabilities: Mapping[str, float], outcomes: Mapping[str, int]) -> float:
    """Mean squared difference between forecast probabilities and what happened (0 or 1).

    Why: the Brier score rewards forecasts that are both right and confident, and punishes
    confident mistakes hardest. 0 is perfect; always answering 0.5 scores 0.25; 1 is the worst.
    Only forecasts that appear in ``outcomes`` are scored.

    Raises
    ------
    ValueError
        If a scored forecast has no probability, or a probability is not a number from 0 to 1.

    Examples
    --------
    >>> brier_score({"a": 0.9, "b": 0.2}, {"a": 1, "b": 0})
    0.025
    >>> brier_score({"a": 0.5}, {"a": 1})
    0.25
    """
    if not outcomes:
        msg = "No resolved forecasts to score: outcomes is empty."
        raise ValueError(msg)
    errors = [(_probability(probabilities, key) - _outcome(outcomes, key)) ** 2 for key in outcomes]
    return round(sum(errors) / len(errors), 6)


def score_table(probabilities: Mapping[str, float], scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard with the student's probability and squared error for each resolved forecast.

    ``scorecard`` is the frame from :func:`scorecard`; unresolved forecasts get no error.

    Examples
    --------
    >>> card = pd.DataFrame({"id": ["a", "b"], "outcome_value": [1, pd.NA]})
    >>> score_table({"a": 0.8, "b": 0.5}, card)["squared_error"].round(2).tolist()
    [0.04, nan]
    """
    table = scorecard.copy()
    table["probability"] = [_probability(probabilities, key) for key in table["id"]]
    outcome = pd.to_numeric(table["outcome_value"], errors="coerce").astype("float64")
    table["squared_error"] = (table["probability"] - outcome) ** 2
    return table


def resolved_outcomes(scorecard: pd.DataFrame) -> dict[str, int]:
    """``{forecast id: 0 or 1}`` for the forecasts whose verdict is a clear yes or no."""
    resolved = scorecard.dropna(subset=["outcome_value"])
    return {key: int(value) for key, value in zip(resolved["id"], resolved["outcome_value"])}


# --- scorecard -------------------------------------------------------------------------------------


def scorecard(claims: pd.DataFrame, sources: pd.DataFrame, analysis_date=charts.ANALYSIS_DATE) -> pd.DataFrame:
    """Every forecast in ``claims`` with its verdict, the outcome as 0/1 and its dated sources.

    Adds ``outcome_value`` (1, 0 or missing, from :data:`VERDICT_OUTCOME`), ``outcome_source_date``
    and ``later_source`` (True when the verdict cites a source dated after the analysis).
    """
    card = claims[claims["kind"] == "forecast"].copy()
    published = sources.set_index("id")["date"]
    card["outcome_value"] = card["verdict"].map(VERDICT_OUTCOME).astype("Int64")
    card["outcome_source_date"] = card["outcome_source_id"].map(published)
    dates = [card["outcome_source_date"]]
    if "outcome_other_source_id" in card:
        dates.append(card["outcome_other_source_id"].map(published))
    latest = pd.concat(dates, axis=1).max(axis=1)
    card["later_source"] = latest > pd.Timestamp(analysis_date)
    return card.reset_index(drop=True)


def scorecard_chart(table: pd.DataFrame, label: str = "label", title: str = "Your forecasts against what happened"):
    """One row per forecast: the student's probability (circle) and the outcome (square at 0 or 1).

    ``table`` comes from :func:`score_table`. The grey bar between the two is the forecast's error;
    its square is what the Brier score averages. Unresolved forecasts show no square.
    """
    frame = table.assign(outcome_float=pd.to_numeric(table["outcome_value"], errors="coerce").astype("float64"))
    frame = frame[[label, "verdict", "probability", "outcome_float", "squared_error"]]
    order = list(frame[label])
    y = alt.Y(f"{label}:N", title=None, sort=order, axis=alt.Axis(labelLimit=charts.label_limit(320)))
    x_scale = alt.Scale(domain=[0, 1])
    colour = alt.Color("verdict:N", title="Verdict", legend=charts.beside_long_labels_legend(),
                       scale=alt.Scale(domain=list(VERDICT_COLOURS), range=list(VERDICT_COLOURS.values())))
    base = alt.Chart(frame)
    gap = base.mark_rule(strokeWidth=6, opacity=0.35, color="#999999").encode(
        y=y, x=alt.X("probability:Q", scale=x_scale), x2="outcome_float:Q")
    mine = base.mark_circle(size=160, color=charts.PALETTE[0]).encode(
        y=y, x=alt.X("probability:Q", title=["Your probability", "that it would happen"], scale=x_scale,
                     axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip(f"{label}:N", title="Forecast"), alt.Tooltip("probability:Q", title="You said", format=".0%"),
                 alt.Tooltip("verdict:N", title="Verdict"),
                 alt.Tooltip("squared_error:Q", title="Squared error", format=".3f")])
    happened = base.mark_square(size=140).encode(
        y=y, x=alt.X("outcome_float:Q", scale=x_scale), color=colour,
        tooltip=[alt.Tooltip(f"{label}:N", title="Forecast"), alt.Tooltip("verdict:N", title="Verdict")])
    chart = alt.layer(gap, mine, happened).properties(height=alt.Step(40))
    resolved = frame.dropna(subset=["outcome_float"])
    description = (
        f"Dot chart of {len(frame)} forecasts. For each, a blue circle marks the reader's probability and a "
        f"square at 0 or 1 marks what happened ({len(resolved)} resolved); the grey bar between them is the error. "
        + "; ".join(f"{row[label]}: {row['probability']:.0%}, verdict {row['verdict']}" for _, row in frame.iterrows())
    )
    return charts.finish(chart, title, description)


# --- the forecast form (JupyterLab) ---------------------------------------------------------------


def forecast_form(forecasts: pd.DataFrame, answers: dict, label: str = "label", text: str = "text") -> widgets.VBox:
    """A slider per forecast that writes the student's probability into ``answers`` as it moves.

    Why a widget that edits a dictionary: the book shows the same dictionary as a plain cell to edit,
    so whichever the student used, the scoring cells read ``answers``. The outcomes are not shown here.
    """
    sliders = []
    for _, row in forecasts.iterrows():
        key = row["id"]
        slider = widgets.FloatSlider(
            value=float(answers.get(key, 0.5)), min=0.0, max=1.0, step=0.05, readout_format=".0%",
            description=str(row[label]), continuous_update=False,
            style={"description_width": "initial"}, layout=widgets.Layout(width="95%"),
        )
        slider.forecast_id = key
        sliders.append(slider)
    summary = widgets.HTML()

    def record(change=None):
        for slider in sliders:
            answers[slider.forecast_id] = round(float(slider.value), 2)
        items = "".join(
            f"<li>{html.escape(str(row[label]))}: <strong>{answers[row['id']]:.0%}</strong>"
            f"<br><small>{html.escape(str(row[text]))}</small></li>"
            for _, row in forecasts.iterrows()
        )
        summary.value = f"<p>Your forecasts as recorded (as of 29 October 2024):</p><ul>{items}</ul>"

    for slider in sliders:
        slider.observe(record, names="value")
    record()
    intro = widgets.HTML("<p>Move each slider to your probability that the forecast would come true.</p>")
    return widgets.VBox([intro, *sliders, summary, explorers.rerun_note()])


# --- scenarios -------------------------------------------------------------------------------------


def signposts_chart(signposts: pd.DataFrame, title: str = "Signposts for three paths from late 2024"):
    """Signposts on a time axis, one row per scenario, with a scenario menu that works without a kernel.

    Colour and shape give the status (appeared, partly appeared, contradicted); a dashed rule marks
    the analysis date. Signposts with no date are left out of the chart (they stay in the table).
    """
    dated = signposts.dropna(subset=["date_appeared"]).copy()
    scenarios = ["All", *sorted(signposts["scenario"].unique())]
    # the axis runs to the first of the month after the latest signpost (at least to October 2025), so no point
    # falls outside the plot
    end = max(pd.Timestamp("2025-10-01"), (dated["date_appeared"].max() + pd.offsets.MonthBegin(1)).normalize())
    pick = alt.param(name="scenario_pick", value="All",
                     bind=alt.binding_select(options=scenarios, name="Scenario: "))
    status = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))
    points = (
        alt.Chart(dated)
        .mark_point(filled=True, size=170, opacity=0.9)
        .encode(
            x=alt.X("date_appeared:T", title="Date first reported", axis=alt.Axis(format="%b %Y", labelAngle=-30),
                    scale=alt.Scale(domain=["2024-10-01", f"{end:%Y-%m-%d}"])),
            y=alt.Y("scenario:N", title=None),
            color=alt.Color("status:N", title="What happened", scale=status),
            shape=alt.Shape("status:N", title="What happened", scale=alt.Scale(domain=list(STATUS_COLOURS))),
            tooltip=[alt.Tooltip("scenario:N", title="Scenario"), alt.Tooltip("signpost:N", title="Signpost"),
                     alt.Tooltip("status:N", title="Status"),
                     alt.Tooltip("date_appeared:T", title="Reported", format="%d %B %Y"),
                     alt.Tooltip("evidence:N", title="Evidence")],
        )
        .add_params(pick)
        .transform_filter("scenario_pick == 'All' || datum.scenario == scenario_pick")
    )
    analysis = alt.Chart(pd.DataFrame({"date": [charts.ANALYSIS_DATE]})).mark_rule(
        strokeDash=[4, 4], color="#555555").encode(x="date:T")
    note = alt.Chart(pd.DataFrame({"date": [charts.ANALYSIS_DATE], "text": ["analysis, 29 Oct 2024"]})).mark_text(
        align="left", dx=4, dy=-6, fontSize=11, color="#555555").encode(x="date:T", y=alt.value(0), text="text:N")
    chart = alt.layer(analysis, note, points).properties(height=alt.Step(60))
    counts = signposts.groupby(["scenario", "status"]).size()
    description = (
        f"Timeline of {len(dated)} dated signposts for {signposts['scenario'].nunique()} scenarios after the analysis "
        "date of 29 October 2024; colour and shape show whether each appeared, partly appeared or was contradicted. "
        + "; ".join(f"{scenario}, {status}: {n}" for (scenario, status), n in counts.items())
        + ". A menu keeps one scenario."
    )
    return charts.finish(chart, title, description)


# --- synthesis -------------------------------------------------------------------------------------


def synthesis_diagram(nodes: pd.DataFrame, links: pd.DataFrame, title: str = "How the three sections connect"):
    """A small node-and-arrow diagram drawn with altair: who acts (nodes) and why (labelled links).

    ``nodes`` has columns ``node``, ``x``, ``y``, ``section``; ``links`` has ``source``, ``target`` and
    ``label``. Positions are fixed in the data so the diagram reads the same every time.
    """
    where = nodes.set_index("node")[["x", "y"]]
    lines = links.assign(
        x=links["source"].map(where["x"]), y=links["source"].map(where["y"]),
        x2=links["target"].map(where["x"]), y2=links["target"].map(where["y"]),
    )
    lines["mx"] = (lines["x"] + lines["x2"]) / 2
    lines["my"] = (lines["y"] + lines["y2"]) / 2
    # An arrowhead: a triangle three-quarters of the way along each link, rotated to point at the target.
    lines["angle"] = [
        (90 - math.degrees(math.atan2(y2 - y1, x2 - x1))) % 360
        for x1, y1, x2, y2 in zip(lines["x"], lines["y"], lines["x2"], lines["y2"])
    ]
    lines["ax"] = lines["x"] + 0.72 * (lines["x2"] - lines["x"])
    lines["ay"] = lines["y"] + 0.72 * (lines["y2"] - lines["y"])
    axis_x = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1]))
    axis_y = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1]))
    tooltip = [alt.Tooltip("source:N", title="From"), alt.Tooltip("target:N", title="To"),
               alt.Tooltip("label:N", title="Why")]
    edge = alt.Chart(lines).mark_rule(strokeWidth=2, color="#777777").encode(
        x=axis_x, y=axis_y, x2="x2:Q", y2="y2:Q", tooltip=tooltip)
    head = alt.Chart(lines).mark_point(shape="triangle", filled=True, size=120, color="#777777").encode(
        x=alt.X("ax:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1])),
        y=alt.Y("ay:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1])),
        angle=alt.Angle("angle:Q", scale=None), tooltip=tooltip)
    # On a narrow screen a link's label is cut short; the whole of it is in the tooltip.
    edge_text = alt.Chart(lines).mark_text(fontSize=11, color="#333333", dy=-7,
                                           limit=alt.ExprRef("chart_width < 500 ? 80 : 0")).encode(
        x=alt.X("mx:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1])),
        y=alt.Y("my:Q", axis=None, scale=alt.Scale(domain=[-0.1, 1.1])), text="short:N", tooltip=tooltip)
    colour = alt.Color("section:N", title="Chapter")
    node = alt.Chart(nodes).mark_circle(size=2400, opacity=0.9).encode(x=axis_x, y=axis_y, color=colour,
                                                                      tooltip=["node:N", "section:N"])
    node_text = alt.Chart(nodes).mark_text(fontSize=12, fontWeight="bold", dy=34).encode(
        x=axis_x, y=axis_y, text="node:N")
    chart = alt.layer(edge, head, edge_text, node, node_text).properties(height=420)
    description = (
        f"Diagram of {len(nodes)} actors and {len(links)} links between them. "
        + "; ".join(f"{row.source} to {row.target}: {row.label}" for row in links.itertuples())
    )
    return charts.finish(chart, title, description)


# --- internals -------------------------------------------------------------------------------------


def _probability(probabilities: Mapping[str, float], key: str) -> float:
    if key not in probabilities:
        msg = f"No probability for forecast {key!r}: add it to your dictionary of forecasts (a number from 0 to 1)."
        raise ValueError(msg)
    value = probabilities[key]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        msg = f"The probability for {key!r} should be a number from 0 to 1 (for example 0.7 for 70%), but got {value!r}."
        raise ValueError(msg)
    return float(value)


def _outcome(outcomes: Mapping[str, int], key: str) -> int:
    value = outcomes[key]
    if isinstance(value, bool) or value not in (0, 1):
        msg = f"The outcome for {key!r} should be 1 (it happened) or 0 (it did not), but got {value!r}."
        raise ValueError(msg)
    return int(value)
