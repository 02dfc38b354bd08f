"""Chapter 3 ("The Korean Peninsula"): the exchange chart and Seoul's policy options explorer.

The options table (``data/seoul_options.csv``) is long: one row per option and criterion, each with the
course authors' score (1 to 5), the evidence behind it and its sources. :func:`rank_options` turns it
and a set of weights into a ranking; the altair chart and the ipywidgets explorer both show that
ranking, so the book and JupyterLab agree.
"""
from __future__ import annotations

import html

import altair as alt
import ipywidgets as widgets
import pandas as pd

from coursepack.lessons import charts

#: The four criteria, in the order they are shown, with readable names.
CRITERIA = {
    "deterrence": "Deterrence value",
    "escalation_risk": "Escalation risk (counted inverted)",
    "feasibility_at_home": "Legal and political feasibility at home",
    "alliance_coordination": "Alliance coordination",
}
#: Criteria where a high score is bad for Seoul: they count as ``6 - score`` in the ranking.
INVERTED = ("escalation_risk",)
TOP_SCORE = 5

#: Exchange statuses from the strongest evidence to the weakest (the order of the enum in datapackage.json).
STATUS_ORDER = ["acknowledged", "documented", "claimed", "pledged", "dismissed", "denied"]
#: The outline of each status's bars (dash, gap, ... in pixels): one pattern per status, solid for the strongest
#: evidence (acknowledged by the parties).
STATUS_DASHES = [[1, 0], [10, 2], [6, 3], [2, 2], [8, 3, 2, 3], [1, 4]]
#: One colour per status, from the colour-blind-safe palette; the tooltip and the description name the status too.
STATUS_COLOURS = [charts.PALETTE[2], charts.PALETTE[0], charts.PALETTE[4], charts.PALETTE[5], charts.PALETTE[3],
                  charts.PALETTE[1]]
DIRECTIONS = ["North Korea to Russia", "Russia to North Korea"]


def exchange_chart(exchanges: pd.DataFrame, title: str = "What Russia and North Korea are reported to give each other"):
    """Count of reported items by category, one panel per direction, coloured by status.

    Why colour by status: an acknowledged or documented transfer, a claim by a third government and a
    dismissal are different kinds of evidence, and the chart must never add them up into one bar of "facts".
    """
    counts = (
        exchanges.groupby(["direction", "category", "status"], as_index=False)
        .size()
        .rename(columns={"size": "rows"})
    )
    base = (
        alt.Chart(counts)
        .mark_bar(stroke="#000000", strokeWidth=1.5)
        .encode(
            y=alt.Y("category:N", title=None, sort="-x"),
            color=alt.Color("status:N", title="Status", scale=alt.Scale(domain=STATUS_ORDER, range=STATUS_COLOURS)),
            # The outline's dashes carry the status too, so no reader has to tell the colours apart.
            strokeDash=alt.StrokeDash("status:N", title="Status", scale=alt.Scale(domain=STATUS_ORDER, range=STATUS_DASHES)),
            order=alt.Order("status_rank:Q"),
            tooltip=[alt.Tooltip("direction:N", title="Direction"), alt.Tooltip("category:N", title="Category"),
                     alt.Tooltip("status:N", title="Status"), alt.Tooltip("rows:Q", title="Reports")],
        )
        .transform_calculate(status_rank=f"indexof({STATUS_ORDER!r}, datum.status)")
    )
    # One panel per direction, its name above it (a narrow screen has no room for row headers beside it).
    panels = [
        base.transform_filter(alt.datum.direction == direction)
        .encode(x=alt.X("sum(rows):Q", title="Reports in the table" if i == len(DIRECTIONS) - 1 else None,
                        axis=alt.Axis(tickMinStep=1, format="d")))
        .properties(title=alt.TitleParams(direction, fontSize=13, fontWeight="normal", anchor="start"))
        for i, direction in enumerate(DIRECTIONS)
    ]
    chart = alt.vconcat(*panels, spacing=16).resolve_scale(x="shared")
    by_direction = exchanges.groupby("direction").size()
    by_status = exchanges["status"].value_counts()
    description = (
        f"Bar chart of {len(exchanges)} reports of what moves between the two countries: "
        + "; ".join(f"{n} {d}" for d, n in by_direction.items())
        + ". Colour and the bars' outline show the status: "
        + ", ".join(f"{by_status.get(s, 0)} {s}" for s in STATUS_ORDER) + "."
    )
    return charts.finish(chart, title, description)


def option_scores(options: pd.DataFrame) -> pd.DataFrame:
    """One row per option and one column per criterion (the raw 1-5 scores), indexed by option.

    Examples
    --------
    >>> long = pd.DataFrame({"option": ["a", "a"], "label": ["A", "A"],
    ...                      "criterion": ["deterrence", "escalation_risk"], "score": [4, 2]})
    >>> option_scores(long).loc["a", "escalation_risk"]
    np.int64(2)
    """
    wide = options.pivot(index="option", columns="criterion", values="score")
    wide = wide[[c for c in CRITERIA if c in wide.columns]].astype("int64")
    wide.columns.name = None
    return wide


def rank_options(options: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Rank Seoul's options by the weighted mean of their scores.

    Each criterion counts with its weight; escalation risk counts inverted (``6 - score``), so a
    higher total is always better for Seoul. The total stays on the 1-5 scale of the scores. With
    every weight at zero there is nothing to rank by, and every total is missing (``NaN``).

    Returns one row per option, best first, with its label, the raw scores, ``total`` and ``rank``
    (1 is best; ties share the better rank).

    Examples
    --------
    >>> long = pd.DataFrame({"option": ["a", "a", "b", "b"], "label": ["A", "A", "B", "B"],
    ...                      "criterion": ["deterrence", "escalation_risk"] * 2, "score": [5, 5, 2, 1]})
    >>> rank_options(long, {"deterrence": 1, "escalation_risk": 1})[["option", "total"]].values.tolist()
    [['b', 3.5], ['a', 3.0]]
    """
    wide = option_scores(options)
    unknown = set(weights) - set(CRITERIA)
    if unknown:
        msg = f"Unknown criteria in weights: {sorted(unknown)}; expected some of {list(CRITERIA)}."
        raise ValueError(msg)
    if any(w < 0 for w in weights.values()):
        msg = f"Weights must be zero or positive, got {weights}."
        raise ValueError(msg)
    oriented = wide.copy()
    for criterion in INVERTED:
        if criterion in oriented:
            oriented[criterion] = TOP_SCORE + 1 - oriented[criterion]
    total_weight = sum(weights.get(c, 0) for c in wide.columns)
    weighted = sum(oriented[c] * weights.get(c, 0) for c in wide.columns)
    total = weighted / total_weight if total_weight > 0 else weighted * float("nan")
    labels = options.drop_duplicates("option").set_index("option")["label"]
    result = wide.assign(label=labels, total=total.astype("float64").round(2))
    result["rank"] = result["total"].rank(method="min", ascending=False).astype("Int64")
    result = result.sort_values(["total", "label"], ascending=[False, True]).reset_index()
    return result[["option", "label", *wide.columns, "total", "rank"]]


def options_weight_chart(options: pd.DataFrame, title: str = "Seoul's options, ranked by the weights you choose"):
    """Stacked bars of each option's weighted score, with one slider per criterion (works in the static book).

    Why stacked: each coloured piece is one criterion's share of the total, so a reader sees why an
    option ranks where it does. Hovering over a piece shows the score, the evidence and its sources.
    """
    frame = options[["option", "label", "criterion", "score", "rationale", "source_id", "other_source_id"]].copy()
    frame["criterion_name"] = frame["criterion"].map(CRITERIA)
    frame["sources"] = frame["source_id"] + frame["other_source_id"].fillna("").map(lambda s: f", {s}" if s else "")
    frame = frame.drop(columns=["source_id", "other_source_id"])
    names = {"deterrence": "w_deter", "escalation_risk": "w_escal", "feasibility_at_home": "w_feas",
             "alliance_coordination": "w_ally"}
    params = [
        alt.param(name=names[c], value=1,
                  bind=alt.binding_range(min=0, max=5, step=1, name=f"Weight of {label.split(' (')[0].lower()}: "))
        for c, label in CRITERIA.items()
    ]
    weight_of = " : ".join(f"datum.criterion == '{c}' ? {n}" for c, n in names.items()) + " : 0"
    total_weight = " + ".join(names.values())
    chart = (
        alt.Chart(frame)
        .transform_calculate(
            weight=weight_of,
            counted=f"datum.criterion == 'escalation_risk' ? {TOP_SCORE + 1} - datum.score : datum.score",
        )
        .transform_calculate(share=f"({total_weight}) > 0 ? datum.weight * datum.counted / ({total_weight}) : 0",
                             criterion_rank=f"indexof({list(CRITERIA)!r}, datum.criterion)")
        .mark_bar(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("sum(share):Q", title=["Weighted score", "(1 = worst, 5 = best for Seoul)"],
                    scale=alt.Scale(domain=[0, TOP_SCORE])),
            y=alt.Y("label:N", title=None, sort=alt.EncodingSortField(field="share", op="sum", order="descending"),
                    axis=alt.Axis(labelLimit=charts.label_limit(300))),
            color=alt.Color("criterion_name:N", title="Criterion", sort=list(CRITERIA.values()),
                            legend=charts.beside_long_labels_legend()),
            order=alt.Order("criterion_rank:Q"),
            tooltip=[
                alt.Tooltip("label:N", title="Option"),
                alt.Tooltip("criterion_name:N", title="Criterion"),
                alt.Tooltip("score:Q", title="Our score (1-5)"),
                alt.Tooltip("weight:Q", title="Your weight"),
                alt.Tooltip("share:Q", title="Share of total", format=".2f"),
                alt.Tooltip("rationale:N", title="Evidence"),
                alt.Tooltip("sources:N", title="Sources"),
            ],
        )
        .add_params(*params)
        .properties(height=alt.Step(34))
    )
    equal = rank_options(options, dict.fromkeys(CRITERIA, 1))
    description = (
        f"Interactive stacked bar chart ranking {len(equal)} policy options for South Korea. Four sliders set the "
        "weight of deterrence, escalation risk, feasibility at home and alliance coordination, from 0 to 5. "
        f"With equal weights the order is: {', '.join(equal['label'])}."
    )
    return charts.finish(chart, title, description)


def _ranking_html(ranked: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in
                   ["Rank", "Option", "Deterrence", "Escalation risk", "Feasibility at home", "Alliance", "Weighted score"])
    rows = []
    for _, row in ranked.iterrows():
        total = "n/a" if pd.isna(row["total"]) else f"{row['total']:.2f}"
        rank = "" if pd.isna(row["rank"]) else str(row["rank"])
        cells = [rank, row["label"], *(str(row[c]) for c in CRITERIA), total]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return ("<table><caption>Seoul's options ranked by your weights (scores: ours, 1-5; escalation risk counts "
            f"inverted)</caption><tr>{head}</tr>{''.join(rows)}</table>")


def _evidence_html(options: pd.DataFrame, option: str) -> str:
    part = options[options["option"] == option]
    label = part["label"].iloc[0]
    items = []
    for _, row in part.iterrows():
        sources = row["source_id"] + (f", {row['other_source_id']}" if pd.notna(row["other_source_id"]) else "")
        items.append(f"<li><strong>{html.escape(CRITERIA[row['criterion']])}: {row['score']}</strong>. "
                     f"{html.escape(row['rationale'])} <em>Sources: {html.escape(sources)}</em></li>")
    return f"<p>Why we scored <strong>{html.escape(label)}</strong> as we did:</p><ul>{''.join(items)}</ul>"


def options_explorer(options: pd.DataFrame) -> widgets.VBox:
    """JupyterLab explorer: four weight sliders, the ranking they give, and the evidence for one option.

    Why a widget as well as the chart: Python recomputes the ranking with :func:`rank_options`, the
    same function the exercises use, and shows the full evidence as text rather than in tooltips.
    """
    style = {"description_width": "initial"}
    sliders = {
        c: widgets.IntSlider(value=1, min=0, max=5, step=1, description=f"Weight: {label}",
                             continuous_update=False, style=style, layout=widgets.Layout(width="90%"))
        for c, label in CRITERIA.items()
    }
    labels = options.drop_duplicates("option")[["label", "option"]]
    chooser = widgets.Dropdown(options=list(labels.itertuples(index=False, name=None)),
                               description="Show the evidence for", style=style)
    result = widgets.HTML()

    def show(change=None):
        ranked = rank_options(options, {c: s.value for c, s in sliders.items()})
        result.value = _ranking_html(ranked) + _evidence_html(options, chooser.value)

    for control in [*sliders.values(), chooser]:
        control.observe(show, names="value")
    chooser.value = rank_options(options, dict.fromkeys(CRITERIA, 1))["option"].iloc[0]
    show()
    return widgets.VBox([*sliders.values(), chooser, result])
