"""Chapter 2, "Russia's strategy": the chapter's chart and explorer builders.

The notebook keeps the pandas a student should read (loading, filtering, the claim check); this module
holds the builders behind its charts and explorers:

* :func:`days_covered`: the manpower arithmetic ("12,000 troops at 1,200 losses a day is ten days");
* :func:`casualty_totals_chart`: running totals of Russian casualties by claimant, with each figure's basis;
* :func:`treaty_deployment_chart`: the treaty's ratification steps beside the deployment milestones;
* :func:`manpower_chart` (altair parameters, works in the static book) and :func:`manpower_explorer`
  (ipywidgets, JupyterLab): days of losses that a number of troops would cover;
* :func:`evidence_grid` (altair) and :func:`explanations_explorer` (ipywidgets): which evidence bears on
  which of the three explanations.

The builders take a tidy table of daily rates with the columns ``claimant``, ``month`` (first day of the
month), ``per_day`` and ``basis`` (see :func:`rate_label`), and the ``explanation_evidence`` table joined
to a short description of each evidence row (see :func:`describe_evidence`).
"""
from __future__ import annotations

import html

import altair as alt
import ipywidgets as widgets
import pandas as pd

from coursepack.lessons import charts

#: The three explanations of the analysis, in its order.
EXPLANATIONS = ["manpower", "widening the chaos", "signalling"]

#: The analysis's own figures for the "ten days" arithmetic.
ANALYSIS_TROOPS = 12_000
ANALYSIS_RATE = 1_200

RATE_COLUMNS = ["claimant", "month", "per_day", "basis"]

#: Kinds of event in the treaty and deployment chart, in legend order.
KINDS = ["treaty step", "deployment", "combat report"]


def days_covered(troops: float, per_day: float, share: float = 1.0) -> float:
    """Days of losses that ``troops`` soldiers would replace at ``per_day`` casualties a day.

    Why a function: the chapter, the explorers and the exercise set all use the same arithmetic, and
    it should refuse nonsense (no troops, a zero rate) with a message rather than return infinity.
    ``share`` is the part of the troops that would go into combat (1.0 means all of them).

    Examples
    --------
    >>> days_covered(12_000, 1_200)
    10.0
    >>> days_covered(12_000, 1_500, share=0.5)
    4.0
    """
    if per_day is None or pd.isna(per_day) or per_day <= 0:
        msg = f"per_day must be a positive number of casualties a day; got {per_day!r}."
        raise ValueError(msg)
    if troops < 0:
        msg = f"troops must be zero or more; got {troops!r}."
        raise ValueError(msg)
    if not 0 < share <= 1:
        msg = f"share must be above 0 and at most 1 (a fraction of the troops); got {share!r}."
        raise ValueError(msg)
    return float(troops) * float(share) / float(per_day)


def rate_label(rates: pd.DataFrame) -> pd.Series:
    """A readable label for each rate row: "UK Ministry of Defence, October 2024: 1,354 a day".

    Examples
    --------
    >>> frame = pd.DataFrame({"claimant": ["UK"], "month": [pd.Timestamp("2024-10-01")],
    ...                       "per_day": [1354.0], "basis": ["x"]})
    >>> rate_label(frame).tolist()
    ['UK, October 2024: 1,354 a day']
    """
    _check_rates(rates)
    return rates.apply(lambda r: f"{r['claimant']}, {r['month']:%B %Y}: {r['per_day']:,.0f} a day", axis=1)


# --- charts ---------------------------------------------------------------------------------------


def casualty_totals_chart(totals: pd.DataFrame,
                          title: str = "Russian casualties since February 2022: running totals by claimant"):
    """Running totals of Russian casualties (killed and wounded) by the date each was made public.

    ``totals`` holds rows of ``russian_casualties`` whose ``measure`` is ``running total``. Colour is the
    claimant's government; shape is the stated basis, so a US Defense Department estimate is not
    mistaken for a figure built on Ukraine's own reporting.
    """
    chart = alt.Chart(totals).mark_point(filled=True, size=130).encode(
        x=alt.X("date_reported:T", title="Date made public", axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
        y=alt.Y("low:Q", title="Killed and wounded since 24 Feb 2022", scale=alt.Scale(zero=True),
                axis=alt.Axis(format=",.0f")),
        color=alt.Color("claimant_country:N", title="Claimant"),
        shape=alt.Shape("basis:N", title="Based on", legend=charts.long_labels_legend()),
        tooltip=[alt.Tooltip("date_reported:T", title="Made public", format="%d %B %Y"),
                 alt.Tooltip("claimant:N", title="Claimant"), alt.Tooltip("low:Q", title="Total", format=",.0f"),
                 alt.Tooltip("basis:N", title="Based on"), alt.Tooltip("note:N", title="Note")],
    ).properties(height=260)
    description = (
        f"{len(totals)} running totals of Russian killed and wounded made public between "
        f"{totals['date_reported'].min():%d %B %Y} and {totals['date_reported'].max():%d %B %Y}, from "
        f"{totals['low'].min():,} to {totals['low'].max():,}, by claimant "
        f"({', '.join(sorted(totals['claimant_country'].unique()))}); shape shows each figure's stated basis."
    )
    return charts.finish(chart, title, description)


def treaty_deployment_chart(events: pd.DataFrame, start: str = "2024-06-01", end: str = "2024-12-31",
                            title: str = "The treaty's ratification beside the deployment"):
    """Two rows on one time axis: the treaty's steps, and the deployment's milestones.

    Treaty rows are events of category ``treaty``; deployment rows are ``deployment`` and ``combat``.
    A vertical rule marks 24 October 2024, when the Duma's vote and Ukraine's first front-line
    report fell on the same day.
    """
    lanes = {"treaty": "Treaty steps", "deployment": "Deployment milestones", "combat": "Deployment milestones"}
    window = events[events["category"].isin(list(lanes)) & events["date"].between(start, end)].copy()
    window["lane"] = window["category"].map(lanes)
    window["kind"] = window["category"].map({"treaty": "treaty step", "deployment": "deployment",
                                             "combat": "combat report"})
    points = alt.Chart(window).mark_point(filled=True, size=130, opacity=0.9).encode(
        x=alt.X("date:T", title="Date", scale=alt.Scale(domain=[start, end]),
                axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
        y=alt.Y("lane:N", title=None, sort=["Treaty steps", "Deployment milestones"]),
        color=alt.Color("kind:N", title="Kind of event", scale=alt.Scale(domain=KINDS)),
        shape=alt.Shape("kind:N", title="Kind of event", scale=alt.Scale(domain=KINDS)),
        tooltip=[alt.Tooltip("date:T", title="Date", format="%d %B %Y"), alt.Tooltip("actor:N", title="Actor"),
                 alt.Tooltip("description:N", title="What happened")],
    )
    marker = pd.DataFrame({"date": [pd.Timestamp("2024-10-24")], "text": ["24 Oct 2024"]})
    rule = alt.Chart(marker).mark_rule(strokeDash=[4, 4], color="#000000").encode(x="date:T")
    label = alt.Chart(marker).mark_text(align="right", dx=-4, dy=-4, fontSize=12, baseline="bottom").encode(
        x="date:T", y=alt.value(0), text="text:N")
    chart = alt.layer(points, rule, label).properties(height=alt.Step(60))
    counts = window["lane"].value_counts()
    description = (
        f"Timeline from {pd.Timestamp(start):%d %B %Y} to {pd.Timestamp(end):%d %B %Y} with two rows: "
        f"{counts.get('Treaty steps', 0)} treaty steps (signing, ratification votes, entry into force) and "
        f"{counts.get('Deployment milestones', 0)} deployment and combat reports. A dashed line marks "
        "24 October 2024, when the Duma ratified the treaty and Ukraine reported the first units at the Kursk front."
    )
    return charts.finish(chart, title, description)


def manpower_chart(rates: pd.DataFrame, troops: int = ANALYSIS_TROOPS, share: float = 1.0,
                   own_rate: int = ANALYSIS_RATE):
    """Manpower calculator that runs in the reader's browser (altair parameters, no kernel).

    Three sliders: the number of troops, the share of them in combat, and a daily loss rate of the
    reader's own. One bar per claimant's monthly rate, plus one for the reader's rate, shows how many
    days of Russian losses the troops would replace; a dashed line marks a 30-day month.
    """
    _check_rates(rates)
    frame = rates.assign(label=rate_label(rates))[["label", "per_day", "basis"]]
    own = pd.DataFrame({"label": ["Your own rate (slider)"], "per_day": [None], "basis": ["set by the reader"]})
    frame = pd.concat([frame, own], ignore_index=True)
    troops_p = alt.param(name="troops", value=troops,
                         bind=alt.binding_range(min=1_000, max=20_000, step=500, name="Troops: "))
    share_p = alt.param(name="share", value=share,
                        bind=alt.binding_range(min=0.05, max=1, step=0.05, name="Share in combat: "))
    own_p = alt.param(name="own_rate", value=own_rate,
                      bind=alt.binding_range(min=200, max=3_000, step=50, name="Your rate (a day): "))
    order = frame["label"].tolist()
    base = (
        alt.Chart(frame)
        .transform_calculate(rate="isValid(datum.per_day) ? datum.per_day : own_rate")
        .transform_calculate(days="troops * share / datum.rate")
        .encode(y=alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=charts.label_limit(340))))
    )
    bars = base.mark_bar(color=charts.PALETTE[0]).encode(
        x=alt.X("days:Q", title="Days of losses covered", scale=alt.Scale(domain=[0, 40], clamp=True)),
        color=alt.condition("isValid(datum.per_day)", alt.value(charts.PALETTE[0]), alt.value(charts.PALETTE[1])),
        tooltip=[alt.Tooltip("label:N", title="Rate"), alt.Tooltip("rate:Q", title="A day", format=",.0f"),
                 alt.Tooltip("days:Q", title="Days covered", format=".1f"), alt.Tooltip("basis:N", title="Based on")],
    )
    text = base.mark_text(align="left", dx=4, fontSize=12).encode(
        x=alt.X("days:Q", scale=alt.Scale(domain=[0, 40], clamp=True)),
        text=alt.Text("days:Q", format=".1f"),
    )
    month = alt.Chart(pd.DataFrame({"x": [30]})).mark_rule(strokeDash=[6, 4], color="#000000").encode(x="x:Q")
    chart = alt.layer(bars, text, month).add_params(troops_p, share_p, own_p).properties(height=alt.Step(26))
    description = (
        f"Interactive bar chart of how many days of Russian losses a number of North Korean troops would "
        f"replace, for {len(rates)} claimants' monthly daily rates and one rate set by the reader. Sliders set "
        f"the troops (starting at {troops:,}), the share in combat and the reader's own rate; a dashed line "
        "marks 30 days."
    )
    return charts.finish(chart, "Manpower calculator: days of losses covered", description,
                         subtitle="Days = troops x share in combat / casualties a day")


def evidence_grid(evidence: pd.DataFrame, title: str = "Which evidence bears on which explanation?"):
    """A grid of evidence rows (one line each) against the three explanations, in the static book.

    A filled square means we, the course authors, judge the row to support the explanation; an open
    one that it weakens it. The menu keeps one explanation; hover a square for our reasoning.
    """
    frame = evidence.copy()
    frame["evidence"] = frame["date"].dt.strftime("%d %b %Y") + " " + frame["what"].str.slice(0, 70)
    frame["later"] = (frame["date"] > charts.ANALYSIS_DATE).map({True: "later", False: "by 29 Oct 2024"})
    order = frame.sort_values("date")["evidence"].drop_duplicates().tolist()
    pick = alt.param(name="explanation", value="All",
                     bind=alt.binding_select(options=["All", *EXPLANATIONS], name="Explanation: "))
    chart = (
        alt.Chart(frame)
        .mark_point(size=220, shape="square", strokeWidth=2)
        .encode(
            # On a narrow screen each explanation's name takes one line a word.
            x=alt.X("explanation:N", title=None, sort=EXPLANATIONS, axis=alt.Axis(
                orient="top", labelAngle=0, labelExpr="chart_width < 500 ? split(datum.label, ' ') : datum.label")),
            y=alt.Y("evidence:N", title=None, sort=order, axis=alt.Axis(labelLimit=charts.label_limit(350))),
            color=alt.Color("bearing:N", title="Bearing (our judgement)", sort=["supports", "weakens"],
                            legend=charts.beside_long_labels_legend()),
            fill=alt.condition("datum.bearing == 'supports'", alt.Color("bearing:N", legend=None),
                               alt.value("white")),
            opacity=alt.condition("explanation == 'All' || datum.explanation == explanation",
                                  alt.value(1), alt.value(0.12)),
            tooltip=[alt.Tooltip("date:T", title="Date", format="%d %B %Y"), alt.Tooltip("what:N", title="Evidence"),
                     alt.Tooltip("explanation:N", title="Explanation"), alt.Tooltip("bearing:N", title="Bearing"),
                     alt.Tooltip("reasoning:N", title="Our reasoning"), alt.Tooltip("later:N", title="Known")],
        )
        .add_params(pick)
        .properties(height=alt.Step(20))
    )
    tally = frame.groupby(["explanation", "bearing"]).size()
    parts = [f"{name}: {tally.get((name, 'supports'), 0)} supporting, {tally.get((name, 'weakens'), 0)} weakening"
             for name in EXPLANATIONS]
    description = (
        f"Grid of {frame['evidence'].nunique()} evidence rows against the three explanations; filled squares "
        f"support and open squares weaken an explanation, in the course authors' judgement. {'; '.join(parts)}."
    )
    return charts.finish(chart, title, description)


# --- explorers (JupyterLab) -----------------------------------------------------------------------


def manpower_explorer(rates: pd.DataFrame, troops: int = ANALYSIS_TROOPS) -> widgets.VBox:
    """Manpower calculator for JupyterLab: recompute days covered as the student moves the controls.

    Why a widget as well as :func:`manpower_chart`: here the student can type any rate, and the result
    is a sentence plus a chart redrawn in Python. The result is an ``ipywidgets.HTML``, so the book
    shows the saved snapshot (12,000 troops at the analysis's 1,200 a day).
    """
    _check_rates(rates)
    labels = rate_label(rates).tolist()
    own_label = "Type my own rate below"
    troops_w = widgets.IntSlider(value=troops, min=1_000, max=20_000, step=500, description="Troops",
                                 continuous_update=False, style={"description_width": "initial"})
    rate_w = widgets.Dropdown(options=[(label, i) for i, label in enumerate(labels)] + [(own_label, -1)],
                              value=-1, description="Daily losses", layout=widgets.Layout(width="95%"),
                              style={"description_width": "initial"})
    own_w = widgets.BoundedIntText(value=ANALYSIS_RATE, min=1, max=10_000, step=50, description="My rate (a day)",
                                   style={"description_width": "initial"})
    share_w = widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="Share in combat",
                                  readout_format=".0%", continuous_update=False,
                                  style={"description_width": "initial"})
    result = widgets.HTML()

    def show(change=None):
        own_w.disabled = rate_w.value != -1
        chosen = own_w.value if rate_w.value == -1 else float(rates["per_day"].iloc[rate_w.value])
        chosen_label = f"your rate of {chosen:,.0f} a day" if rate_w.value == -1 else labels[rate_w.value]
        days = days_covered(troops_w.value, chosen, share_w.value)
        rows = [(label, days_covered(troops_w.value, r, share_w.value), i == rate_w.value)
                for i, (label, r) in enumerate(zip(labels, rates["per_day"]))]
        if rate_w.value == -1:
            rows.append((f"Your rate: {chosen:,.0f} a day", days, True))
        result.value = (
            f"<p><strong>{troops_w.value * share_w.value:,.0f} soldiers in combat</strong> "
            f"({share_w.value:.0%} of {troops_w.value:,}) would replace <strong>{days:.1f} days</strong> "
            f"of Russian losses at {html.escape(chosen_label)}.</p>" + _html_bars(rows)
        )

    for control in (troops_w, rate_w, own_w, share_w):
        control.observe(show, names="value")
    show()
    return widgets.VBox([troops_w, share_w, rate_w, own_w, result])


def explanations_explorer(evidence: pd.DataFrame) -> widgets.VBox:
    """Weigh the three explanations: choose whose evidence you trust and whether to use later evidence.

    Why a widget: the tally of supporting and weakening rows is recomputed in Python for the student's
    choices, which shows how much a conclusion depends on which sources one accepts. The result is an
    ``ipywidgets.HTML``; the book shows the snapshot with every source trusted and only evidence known
    by 29 October 2024.
    """
    actors = sorted(evidence["actor"].unique())
    pick = widgets.Dropdown(options=EXPLANATIONS, value=EXPLANATIONS[0], description="Explanation",
                            style={"description_width": "initial"})
    trusted = widgets.SelectMultiple(options=actors, value=tuple(actors), rows=min(len(actors), 8),
                                     description="Trusted sources", style={"description_width": "initial"})
    later = widgets.Checkbox(value=False, description="Include evidence from after 29 October 2024",
                             style={"description_width": "initial"}, layout=widgets.Layout(width="95%"))
    result = widgets.HTML()

    def show(change=None):
        kept = evidence[evidence["actor"].isin(trusted.value)]
        if not later.value:
            kept = kept[kept["date"] <= charts.ANALYSIS_DATE]
        tally = kept.groupby(["explanation", "bearing"]).size()
        summary = "".join(
            f"<tr><th scope='row'>{html.escape(name)}</th><td>{tally.get((name, 'supports'), 0)}</td>"
            f"<td>{tally.get((name, 'weakens'), 0)}</td></tr>" for name in EXPLANATIONS
        )
        rows = kept[kept["explanation"] == pick.value].sort_values("date")
        detail = "".join(
            f"<tr><td>{r.date:%d %b %Y}</td><td>{html.escape(r.actor)}</td><td>{html.escape(r.what)}</td>"
            f"<td>{html.escape(r.bearing)}</td><td>{html.escape(r.reasoning)}</td></tr>" for r in rows.itertuples()
        ) or "<tr><td colspan='5'>No evidence left with these choices.</td></tr>"
        result.value = (
            "<table><caption>Evidence rows by explanation (our judgement)</caption><tr><th scope='col'>"
            "Explanation</th><th scope='col'>Supports</th><th scope='col'>Weakens</th></tr>" + summary + "</table>"
            f"<table><caption>Evidence bearing on {html.escape(pick.value)}</caption><tr><th scope='col'>Date</th>"
            "<th scope='col'>Actor</th><th scope='col'>Evidence</th><th scope='col'>Bearing</th>"
            "<th scope='col'>Our reasoning</th></tr>" + detail + "</table>"
        )

    for control in (pick, trusted, later):
        control.observe(show, names="value")
    show()
    return widgets.VBox([pick, trusted, later, result])


#: Which column of ``explanation_evidence`` points to which table.
EVIDENCE_COLUMNS = {"event_id": "events", "statement_id": "statements", "estimate_id": "troop_estimates",
                    "casualty_id": "russian_casualties"}


def describe_evidence(mapping: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Join each ``explanation_evidence`` row to the date, actor and a one-line description of its evidence.

    Why: evidence rows live in four tables with different columns; this gives them one shape. Adds the
    columns ``evidence_table``, ``evidence_id``, ``date``, ``actor`` and ``what``. Raises ``ValueError``
    naming the row if a row points to no evidence or to more than one, and ``KeyError`` if the id is
    not found in its table.
    """
    rows = []
    for _, row in mapping.iterrows():
        set_columns = [c for c in EVIDENCE_COLUMNS if c in row and pd.notna(row[c])]
        if len(set_columns) != 1:
            msg = (f"explanation_evidence row {row['id']!r}: expected exactly one of {list(EVIDENCE_COLUMNS)} "
                   f"to be set, got {set_columns or 'none'}.")
            raise ValueError(msg)
        column = set_columns[0]
        name, key = EVIDENCE_COLUMNS[column], row[column]
        table = tables[name].set_index("id")
        if key not in table.index:
            msg = f"explanation_evidence row {row['id']!r}: no row {key!r} in {name}.csv."
            raise KeyError(msg)
        rows.append({"evidence_table": name, "evidence_id": key, **_describe_row(name, table.loc[key])})
    described = pd.DataFrame(rows, columns=["evidence_table", "evidence_id", "date", "actor", "what"])
    described["date"] = pd.to_datetime(described["date"])
    return pd.concat([mapping.reset_index(drop=True), described], axis=1)


# --- internals ------------------------------------------------------------------------------------


def _describe_row(table: str, row: pd.Series) -> dict:
    if table == "events":
        return {"date": row["date"], "actor": row["actor"], "what": row["description"]}
    if table == "statements":
        return {"date": row["date"], "actor": row["actor"], "what": f"{row['speaker']}: {row['paraphrase']}"}
    if table == "troop_estimates":
        figure = f"{row['high']:,}" if row["low"] == row["high"] else f"{row['low']:,}-{row['high']:,}"
        return {"date": row["date"], "actor": row["claimant_country"],
                "what": f"{row['claimant']}: {figure} North Korean troops ({row['location']})"}
    if table == "russian_casualties":
        period = f" in {row['period_start']:%B %Y}" if pd.notna(row["period_start"]) else ""
        return {"date": row["date_reported"], "actor": row["claimant_country"],
                "what": f"{row['claimant']}: {row['high']:,} Russian casualties ({row['measure']}){period}"}
    msg = f"no description rule for table {table!r}; expected one of {sorted(EVIDENCE_COLUMNS.values())}."
    raise KeyError(msg)


def _check_rates(rates: pd.DataFrame) -> None:
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        msg = f"rates table is missing column(s) {missing}; expected {RATE_COLUMNS}, got {list(rates.columns)}."
        raise ValueError(msg)


def _html_bars(rows: list[tuple[str, float, bool]], limit: float = 40.0) -> str:
    """A small bar chart of (label, days, highlighted) rows with a 30-day mark, as an HTML table.

    Plain HTML with inline styles (no script), so that the saved widget state draws in the static book
    too, and a table, so that it reflows to any width: labels wrap on a phone, and a screen reader reads
    each row's label and days; the chosen row says so in words as well as colour. Text and the 30-day
    mark take the page's text colour (``currentColor``), readable in a dark theme. Bars take up to 85% of
    their cell, leaving room for the figure after them.
    """
    def share(days: float) -> str:
        return f"{85 * min(days, limit) / limit:.1f}%"

    mark = (f'<span aria-hidden="true" style="position: absolute; left: {share(30)}; top: 0; bottom: 0; '
            'border-left: 1px dashed currentColor"></span>')
    body = "".join(
        f'<tr><th scope="row" style="text-align: right; font-weight: {"bold" if strong else "normal"}; '
        f'padding: 3px 6px 3px 0">{html.escape(label)}{" (chosen)" if strong else ""}</th>'
        f'<td style="position: relative; width: 55%; padding: 3px 0">{mark}'
        f'<span aria-hidden="true" style="display: inline-block; vertical-align: middle; height: 18px; '
        f'width: {share(days)}; background: {charts.PALETTE[1] if strong else charts.PALETTE[0]}"></span> '
        f'{days:.1f}</td></tr>'
        for label, days, strong in rows
    )
    return (
        '<table class="coursepack-bars" style="width: 100%; max-width: 660px; border-collapse: collapse">'
        "<caption style=\"caption-side: top; text-align: left\">Days of Russian losses covered "
        "(the dashed line marks 30 days)</caption>"
        f'<tr aria-hidden="true"><td></td><td style="position: relative; height: 1.2em; font-size: 11px">'
        f'<span style="position: absolute; left: {share(30)}; bottom: 0">&nbsp;30 days</span></td></tr>'
        f"{body}</table>"
    )
