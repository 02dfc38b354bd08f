"""Chapter 4 ("China's view"): the statements timeline and the interests explorer.

The interests explorer weighs China's interests (``data/china_interests.csv``) and adds up how each one bears
on three public stances Beijing could take. It comes in two forms: an altair chart driven by Vega-Lite
parameters, which works in the static HTML book, and an ipywidgets explorer for JupyterLab. Both use the same
arithmetic, :func:`stance_scores`, so the book and the notebook always agree.
"""
from __future__ import annotations

import html

import altair as alt
import pandas as pd

from coursepack.lessons import charts

#: The three stances, in the order they are shown, keyed by the suffix of their ``bearing_*`` column.
STANCES = {
    "distancing": "Public distancing",
    "wait_and_see": "Wait-and-see",
    "open_support": "Open support",
}

#: The scale of the weights the student gives each interest (0 = does not matter, 3 = matters most).
WEIGHT_MIN, WEIGHT_MAX, WEIGHT_DEFAULT = 0, 3, 1


# --- the arithmetic ------------------------------------------------------------------------------


def stance_scores(interests: pd.DataFrame, weights: dict[str, int | float] | None = None) -> pd.DataFrame:
    """How much each interest pushes towards each stance, given the student's weights.

    Why one function: the static chart and the JupyterLab explorer both show this table, and the unit
    tests check it, so the arithmetic lives in one place. The contribution of an interest to a stance is
    its weight times its bearing on that stance; a stance's score is the sum over interests.

    Parameters
    ----------
    interests
        The ``china_interests`` table: one row per interest, with ``bearing_<stance>`` columns.
    weights
        Interest id to weight. Interests not listed get ``WEIGHT_DEFAULT``.

    Returns
    -------
    DataFrame
        One row per interest and stance (long form): ``id``, ``interest``, ``stance``, ``bearing``,
        ``weight``, ``contribution`` and ``reasoning``.

    Examples
    --------
    >>> table = pd.DataFrame({"id": ["a", "b"], "interest": ["A", "B"], "reasoning": ["", ""],
    ...                       "bearing_distancing": [2, -1], "bearing_wait_and_see": [0, 2],
    ...                       "bearing_open_support": [-2, 1]})
    >>> totals(stance_scores(table, {"a": 3, "b": 1}))["score"].tolist()
    [5.0, 2.0, -5.0]
    """
    weights = weights or {}
    unknown = set(weights) - set(interests["id"])
    if unknown:
        msg = f"Weights given for unknown interest id(s) {sorted(unknown)}; expected ids from {list(interests['id'])}."
        raise KeyError(msg)
    rows = []
    for _, row in interests.iterrows():
        weight = float(weights.get(row["id"], WEIGHT_DEFAULT))
        for key, label in STANCES.items():
            bearing = int(row[f"bearing_{key}"])
            rows.append({"id": row["id"], "interest": row["interest"], "stance": label, "bearing": bearing,
                         "weight": weight, "contribution": weight * bearing, "reasoning": row["reasoning"]})
    return pd.DataFrame(rows)


def totals(scores: pd.DataFrame) -> pd.DataFrame:
    """Each stance's total score (sum of contributions), in the order of ``STANCES``."""
    summed = scores.groupby("stance", sort=False)["contribution"].sum()
    return summed.reindex(list(STANCES.values())).rename("score").reset_index()


def favoured(scores: pd.DataFrame) -> list[str]:
    """The stance or stances with the highest total (more than one when tied)."""
    table = totals(scores)
    return table.loc[table["score"] == table["score"].max(), "stance"].tolist()


# --- evidence charts -----------------------------------------------------------------------------


def statements_timeline(statements: pd.DataFrame, date: str = "date", act: str = "speech_act",
                        text: str = "summary", speaker: str | None = None,
                        focus: tuple[str, str] = ("2024-10-15", "2024-11-10"),
                        title: str = "China's official statements on Russia-North Korea ties, by speech act"):
    """Chinese official statements on a time axis, one row per speech-act tag, with an overview strip.

    The statements bunch together in late October 2024, so the top chart zooms in on ``focus``; drag
    across the strip below it to choose another stretch of time (this works in the static book).
    Hovering over a point shows the date, who spoke and what was said (in our words).
    """
    tooltip = [alt.Tooltip(f"{date}:T", title="Date", format="%d %B %Y"),
               alt.Tooltip(f"{act}:N", title="Speech act")]
    if speaker:
        tooltip.append(alt.Tooltip(f"{speaker}:N", title="Speaker"))
    tooltip.append(alt.Tooltip(f"{text}:N", title="What was said"))
    order = list(dict.fromkeys(statements.sort_values(date)[act]))
    first, last = pd.Timestamp(focus[0]), pd.Timestamp(focus[1])
    brush = alt.selection_interval(
        name="period", encodings=["x"],
        value={"x": [alt.DateTime(year=first.year, month=first.month, date=first.day),
                     alt.DateTime(year=last.year, month=last.month, date=last.day)]},
    )
    encode = {
        "y": alt.Y(f"{act}:N", title=None, sort=order),
        "color": alt.Color(f"{act}:N", title="Speech act", sort=order, legend=None),
        "shape": alt.Shape(f"{act}:N", title="Speech act", sort=order, legend=None),
    }
    detail = (
        alt.Chart(statements)
        .mark_point(filled=True, size=160, opacity=0.85, clip=True)  # none drawn outside the period shown
        .encode(x=alt.X(f"{date}:T", title=None, scale=alt.Scale(domain={"param": "period"}),
                        axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
                tooltip=tooltip, **encode)
        .properties(height=alt.Step(44))
    )
    overview = (
        alt.Chart(statements)
        .mark_point(filled=True, size=50)
        .encode(x=alt.X(f"{date}:T", title=["Drag across this strip", "to choose the period shown above"],
                        scale=alt.Scale(padding=12), axis=alt.Axis(format="%b %Y", labelAngle=0)),
                **encode)
        .add_params(brush)
        .properties(height=alt.Step(14))
    )
    chart = alt.vconcat(detail, overview, spacing=12)
    description = (
        f"Timeline of {len(statements)} Chinese official statements from {statements[date].min():%d %B %Y} to "
        f"{statements[date].max():%d %B %Y}, one row per speech-act tag ({', '.join(order)}). The top chart shows "
        f"{first:%d %B} to {last:%d %B %Y}; a strip below shows the whole period and can be dragged to change it."
    )
    return charts.finish(chart, title, description)


# --- the interests explorer: static book version --------------------------------------------------


def _param_name(interest_id: str) -> str:
    return "w_" + interest_id.replace("-", "_")


def _score_domain(interests: pd.DataFrame) -> list[int]:
    """The widest range any stance's stacked bar can reach with every weight at its maximum."""
    low = high = 0
    for key in STANCES:
        bearings = interests[f"bearing_{key}"].astype(int)
        low = min(low, WEIGHT_MAX * int(bearings[bearings < 0].sum()))
        high = max(high, WEIGHT_MAX * int(bearings[bearings > 0].sum()))
    return [low, high]


def interests_param_chart(interests: pd.DataFrame):
    """The interests explorer as Vega-Lite parameters: one slider per interest, no kernel needed.

    Each slider sets how much an interest matters (0 to 3). The top chart stacks each interest's
    contribution (weight times bearing) for each stance, so the reader sees which interests push a stance
    up or down; a black tick marks the total. Hover over a segment to read the reasoning behind it.
    """
    scores = stance_scores(interests)
    params = [
        alt.param(name=_param_name(i), value=WEIGHT_DEFAULT,
                  bind=alt.binding_range(min=WEIGHT_MIN, max=WEIGHT_MAX, step=1, name=f"{label}: "))
        for i, label in zip(interests["id"], interests["interest"])
    ]
    weight_expr = " : ".join(f"datum.id == '{i}' ? {_param_name(i)}" for i in interests["id"]) + " : 1"
    order = list(STANCES.values())
    base = (
        alt.Chart(scores.drop(columns=["weight", "contribution"]))
        .transform_calculate(weight=weight_expr)
        .transform_calculate(contribution="datum.weight * datum.bearing")
    )
    segments = base.mark_bar(stroke="white", strokeWidth=0.5).encode(
        y=alt.Y("stance:N", title=None, sort=order),
        x=alt.X("sum(contribution):Q", title=["Score: weight x bearing,", "summed over interests"],
                scale=alt.Scale(domain=_score_domain(interests))),
        color=alt.Color("interest:N", title="Interest", sort=list(interests["interest"])),
        order=alt.Order("id:N"),
        tooltip=[alt.Tooltip("interest:N", title="Interest"), alt.Tooltip("stance:N", title="Stance"),
                 alt.Tooltip("weight:Q", title="Your weight"), alt.Tooltip("bearing:Q", title="Bearing (-2 to +2)"),
                 alt.Tooltip("contribution:Q", title="Contribution"), alt.Tooltip("reasoning:N", title="Why")],
    )
    total = base.transform_aggregate(score="sum(contribution)", groupby=["stance"])
    ticks = total.mark_tick(color="black", thickness=3, size=34).encode(
        y=alt.Y("stance:N", sort=order), x="score:Q")
    labels = total.mark_text(align="left", dx=8, dy=-14, fontWeight="bold").encode(
        y=alt.Y("stance:N", sort=order), x="score:Q", text=alt.Text("score:Q", format="+d"))
    chart = (
        alt.layer(segments, ticks, labels)
        .add_params(*params)
        .properties(height=alt.Step(60))
    )
    description = (
        f"Interactive stacked bar chart of three stances China could take (public distancing, wait-and-see, open "
        f"support). {len(interests)} sliders set the weight of each of China's interests from {WEIGHT_MIN} to "
        f"{WEIGHT_MAX}; each bar adds up weight times the course authors' bearing of each interest on that stance, "
        "and a black tick marks the total. With equal weights, wait-and-see scores highest."
    )
    return charts.finish(chart, "Which stance do China's interests favour? Move the sliders", description,
                         subtitle="Bearings are the course authors' judgement (-2 to +2); weights are yours.")


# --- the interests explorer: JupyterLab version ---------------------------------------------------


def _signed(value: float) -> str:
    """+2, -1, 0: a sign on non-zero values only."""
    return f"{value:+g}" if value else "0"


def _result_html(interests: pd.DataFrame, scores: pd.DataFrame) -> str:
    """The explorer's result as accessible HTML: the favoured stance, the totals and the reasoning."""
    table = totals(scores)
    best = favoured(scores)
    verdict = " and ".join(best)
    lead = (f"<p><strong>Favoured: {html.escape(verdict)}</strong>"
            + (" (a tie)" if len(best) > 1 else "") + ". Totals: "
            + "; ".join(f"{html.escape(r.stance)} {_signed(r.score)}" for r in table.itertuples()) + ".</p>")
    head = "".join(f'<th scope="col">{html.escape(h)}</th>'
                   for h in ["Interest", "Weight", *STANCES.values(), "Why (course authors' reasoning)"])
    body = []
    wide = scores.pivot_table(index="id", columns="stance", values="contribution", sort=False)
    for _, row in interests.iterrows():
        weight = scores.loc[scores["id"] == row["id"], "weight"].iloc[0]
        cells = [f'<th scope="row">{html.escape(row["interest"])}</th>', f"<td>{weight:g}</td>"]
        cells += [f"<td>{_signed(wide.loc[row['id'], label])}</td>" for label in STANCES.values()]
        cells.append(f"<td>{html.escape(row['reasoning'])}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    caption = "Contribution of each interest to each stance (weight x bearing)"
    return (lead + f"<table><caption>{caption}</caption><tr>{head}</tr>{''.join(body)}</table>")


def interests_explorer(interests: pd.DataFrame, weights: dict[str, int] | None = None) -> "widgets.VBox":
    """Sliders for the weight of each interest and, below them, the favoured stance with its reasoning.

    Why a widget as well as the static chart: in JupyterLab Python recomputes the table on every move, so
    the student can also read the full reasoning and compare scenarios. The result is an
    ``ipywidgets.HTML``, so the saved notebook (and the book) shows a snapshot at the starting weights.
    """
    import ipywidgets as widgets  # imported here: only JupyterLab explorers need it

    weights = weights or {}
    sliders = {
        row["id"]: widgets.IntSlider(
            value=int(weights.get(row["id"], WEIGHT_DEFAULT)), min=WEIGHT_MIN, max=WEIGHT_MAX, step=1,
            description=row["interest"], continuous_update=False,
            style={"description_width": "14em"}, layout=widgets.Layout(width="32em"),
        )
        for _, row in interests.iterrows()
    }
    result = widgets.HTML()

    def show(change=None):
        scores = stance_scores(interests, {key: slider.value for key, slider in sliders.items()})
        result.value = _result_html(interests, scores)

    for slider in sliders.values():
        slider.observe(show, names="value")
    show()
    return widgets.VBox([*sliders.values(), result])
