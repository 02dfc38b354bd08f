"""Accessible altair charts shared by the chapters.

Every builder returns an ``alt.Chart`` (or layered chart) with a title and a text description, which
Vega turns into the chart's accessible name and description. Colours come from one colour-blind-safe
palette (Okabe and Ito). Every chart takes the width of the column it is drawn in, from a phone's to a
desktop's, and lays out its title, legends and long labels for that width (:func:`finish`). Importing this module also picks the renderer for the context: a
self-contained one in JupyterLab, the book's shared offline bundle in the HTML book.
"""
from __future__ import annotations

import json
import textwrap

import altair as alt
import pandas as pd

from coursepack.book import renderers

renderers.use_renderer()

#: Okabe-Ito palette: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

#: One marker per kind of troop figure, the same in every chart: a plan never looks like a count.
LOCATION_SHAPES = alt.Scale(domain=["in Russia", "in Kursk", "planned"], range=["circle", "square", "triangle-up"])

#: First day of the chapters' October 2024 window and the analysis's own cut-off.
ANALYSIS_DATE = pd.Timestamp("2024-10-29")

#: The width a chart is drawn at, labels and legends included (pixels): that of the element it is drawn in,
#: up to the book's widest text column. Titles, legends and long axis labels are laid out from it.
CHART_WIDTH = alt.param(name="chart_width", expr=renderers.CONTAINER_WIDTH)
#: The narrowest text column a chart must fit: the book's on a 320-pixel screen.
NARROWEST = 288
#: Legends start under the plot, after the y-axis labels: the room left for them (a Vega expression) where
#: those labels take up to 140 pixels, and where they take up to 45% of the chart (see label_limit). It is
#: computed from the chart's width, not the plot's, because the plot's width is fitted around the legends.
LEGEND_ROOM, BESIDE_LONG_LABELS = "(chart_width - 150)", "(0.55 * chart_width - 20)"
#: Pixels for one legend entry: a legend has as many columns as fit in its room, so it never runs off the chart.
LEGEND_ENTRY = 180
#: Average width of a character (pixels) in chart titles (13 px bold) and subtitles (11 px).
TITLE_CHARACTER, SUBTITLE_CHARACTER = 7.5, 6.2


def finish(chart: alt.TopLevelMixin, title: str, description: str, subtitle: str | None = None):
    """Give ``chart`` its title, accessible description, width and the shared look.

    Why one function: every chart in the book gets a description (read out by screen readers), the
    same fonts, sizes and palette, so charts read as one family, and the width of the column it is
    drawn in, labels and legends included, so that it fits a phone's screen as well as a desktop's.
    """
    title_params = alt.TitleParams(
        fitted_title(title), anchor="start", frame="bounds", limit=alt.ExprRef("chart_width - 10"),
        # Vega-Lite takes no expression for a subtitle: its lines fit the narrowest column everywhere.
        subtitle=textwrap.wrap(subtitle, int(NARROWEST / SUBTITLE_CHARACTER)) if subtitle else alt.Undefined,
    )
    return (
        fill_width(chart)
        .add_params(CHART_WIDTH)
        .properties(title=title_params, description=description,
                    autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
        .configure_range(category=PALETTE)
        .configure_axis(labelFontSize=12, titleFontSize=12)
        # On a narrow screen an x-axis title ends at the plot's right edge, so it runs into the empty corner
        # under the y-axis labels instead of off the chart.
        .configure_axisX(titleAnchor=alt.ExprRef("chart_width < 500 ? 'end' : 'middle'"))
        # Legends below the chart, one under the other, in as many columns as the width holds.
        .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom", **legend_columns(LEGEND_ROOM),
                          layout=alt.ExprRef("{bottom: {direction: 'vertical', anchor: 'start'}}"))
    )



def fitted_title(title: str) -> str | alt.ExprRef:
    """``title`` on one line where the chart is wide enough for it, else wrapped to fit the narrowest column.

    Why: Vega does not wrap titles, and a title wider than a phone's screen would be cut off.
    """
    lines = textwrap.wrap(title, int(NARROWEST / TITLE_CHARACTER))
    if len(lines) == 1:
        return title
    return alt.ExprRef(f"chart_width < {len(title) * TITLE_CHARACTER + 10:.0f} ? {json.dumps(lines)} : {json.dumps(title)}")


def legend_columns(room: str) -> dict:
    """A legend's columns and label limit (expressions) for ``room`` pixels."""
    columns = f"max(1, floor({room} / {LEGEND_ENTRY}))"
    return {"columns": alt.ExprRef(columns), "labelLimit": alt.ExprRef(f"min(260, {room} / {columns} - 30)")}


def beside_long_labels_legend(**options) -> alt.Legend:
    """The legend of a chart whose axis labels are long (see :func:`label_limit`)."""
    return alt.Legend(**legend_columns(BESIDE_LONG_LABELS), **options)


def long_labels_legend(**options) -> alt.Legend:
    """A legend of long labels, for a chart whose axis labels are short: one column, as wide as the chart
    but for the axis (up to 100 pixels)."""
    return alt.Legend(columns=1, labelLimit=alt.ExprRef("chart_width - 130"), **options)


def label_limit(widest: int, share: float = 0.45) -> alt.ExprRef:
    """Longest axis labels: ``widest`` pixels, but no more than ``share`` of the chart's width (a phone's
    screen leaves the data room); a longer label ends in an ellipsis, its full text in the chart's tooltip."""
    return alt.ExprRef(f"min({widest}, {share} * chart_width)")


def fill_width(chart: alt.TopLevelMixin):
    """``chart`` (or each view of a vertical concatenation) as wide as the element it is drawn in.

    Vega-Lite's container width, redrawn when the window is resized; :func:`coursepack.book.renderers.vega_spec`
    keeps it within the widest text column.
    """
    if isinstance(chart, alt.VConcatChart):
        chart = chart.copy()
        chart.vconcat = [view.properties(width="container") for view in chart.vconcat]
        return chart
    return chart.properties(width="container")


def nothing_to_draw(frame: pd.DataFrame, what: str, title: str):
    """An empty chart with a one-line note where ``frame`` has no rows, else None.

    Why: a filter that keeps nothing (a misspelt name, a date outside the data) should say so in a sentence,
    not end in a traceback from deep inside the chart.
    """
    if len(frame):
        return None
    note = (f"No {what} to draw: the table given has no rows. Check the filter that made it "
            "(the spelling of a name, the dates) against the full table.")
    chart = alt.Chart(alt.Data(values=[{"note": note}])).mark_text(align="left", x=5, fontSize=13).encode(text="note:N")
    return chart.properties(title=title, description=note, height=40, width=600)


def timeline(events: pd.DataFrame, title: str = "Timeline of events by actor"):
    """Events as points on a time axis, one row per actor, coloured by category.

    The time axis takes the width the actors' names leave. Hovering over a point (or tapping it) shows
    the date and the description of the event. With no events, a note says so (:func:`nothing_to_draw`).
    """
    if (empty := nothing_to_draw(events, "events", title)) is not None:
        return empty
    chart = (
        alt.Chart(events)
        .mark_point(filled=True, size=90, opacity=0.9)
        .encode(
            x=alt.X("date:T", title="Date", axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
            # Names are cut at the 140 pixels the legends' room allows for (LEGEND_ROOM); the tooltip has them whole.
            y=alt.Y("actor:N", title=None, sort=sorted(events["actor"].unique()), axis=alt.Axis(labelLimit=140)),
            color=alt.Color("category:N", title="Kind of event"),
            shape=alt.Shape("category:N", title="Kind of event"),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%d %B %Y"),
                alt.Tooltip("actor:N", title="Actor"),
                alt.Tooltip("description:N", title="What happened"),
            ],
        )
        .properties(height=alt.Step(34))
    )
    first, last = events["date"].min(), events["date"].max()
    description = (
        f"Timeline of {len(events)} events from {first:%d %B %Y} to {last:%d %B %Y}, one row per actor "
        f"({', '.join(sorted(events['actor'].unique()))}); colour and shape show the kind of event."
    )
    return finish(chart, title, description)


def estimate_ranges(estimates: pd.DataFrame, title: str = "Estimates of North Korean troops, by claimant"):
    """Each estimate as a point at its upper figure with a bar down to its lower figure.

    Colour is the government or body that made the claim; shape says what the figure counts (in
    Russia, in the Kursk region, or a planned total), so plans are never read as counts.
    """
    if (empty := nothing_to_draw(estimates, "estimates", title)) is not None:
        return empty
    base = alt.Chart(estimates).encode(
        x=alt.X("date:T", title="Date the estimate was made public", axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
        color=alt.Color("claimant_country:N", title="Claimant"),
    )
    tooltip = [
        alt.Tooltip("date:T", title="Date", format="%d %B %Y"),
        alt.Tooltip("claimant:N", title="Claimant"),
        alt.Tooltip("low:Q", title="Low", format=",.0f"),
        alt.Tooltip("high:Q", title="High", format=",.0f"),
        alt.Tooltip("location:N", title="Counts troops"),
    ]
    ranges = base.mark_rule(strokeWidth=3).encode(y=alt.Y("low:Q", title="Troops"), y2="high:Q")
    points = base.mark_point(filled=True, size=110).encode(
        y=alt.Y("high:Q", title="Troops", axis=alt.Axis(format=",.0f")),
        shape=alt.Shape("location:N", title="What the figure counts", scale=LOCATION_SHAPES),
        tooltip=tooltip,
    )
    chart = alt.layer(ranges, points).properties(height=320)
    description = (
        f"{len(estimates)} estimates of North Korean troops between {estimates['date'].min():%d %B %Y} and "
        f"{estimates['date'].max():%d %B %Y}, from {estimates['high'].min():,} to {estimates['high'].max():,}. "
        "Vertical bars show the range between an estimate's low and high figures."
    )
    return finish(chart, title, description)


def estimates_as_of_slider(estimates: pd.DataFrame, start: str = "2024-10-01", end: str = "2024-12-31"):
    """Estimates chart with a day slider and a claimant menu that work in the static HTML book.

    Moving the slider hides every estimate made public after the chosen day, so the reader sees how
    the picture grew; the menu keeps one claimant's estimates.
    """
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    window = estimates[(estimates["date"] >= start_ts) & (estimates["date"] <= end_ts)].copy()
    if (empty := nothing_to_draw(window, f"estimates between {start_ts:%d %B %Y} and {end_ts:%d %B %Y}",
                                 "What had been claimed by a chosen day?")) is not None:
        return empty
    window["day"] = (window["date"] - start_ts).dt.days
    days = alt.param(
        name="day", value=(ANALYSIS_DATE - start_ts).days,
        bind=alt.binding_range(min=0, max=(end_ts - start_ts).days, step=1,
                               name=f"Days after {start_ts:%d %B %Y}: "),
    )
    claimants = ["All", *sorted(window["claimant_country"].unique())]
    who = alt.param(
        name="who", value="All",
        bind=alt.binding_select(options=claimants, name="Claimant: "),
    )
    chart = (
        alt.Chart(window)
        .mark_point(filled=True, size=110)
        .encode(
            x=alt.X("date:T", title="Date made public", scale=alt.Scale(domain=[start_ts.isoformat(), end_ts.isoformat()]),
                    axis=alt.Axis(format="%d %b", labelAngle=-30)),
            y=alt.Y("high:Q", title="Troops (upper figure)", scale=alt.Scale(domain=[0, int(window["high"].max() * 1.1)]),
                    axis=alt.Axis(format=",.0f")),
            color=alt.Color("claimant_country:N", title="Claimant"),
            shape=alt.Shape("location:N", title="What the figure counts", scale=LOCATION_SHAPES),
            tooltip=[alt.Tooltip("date:T", format="%d %B %Y", title="Date"), "claimant:N",
                     alt.Tooltip("high:Q", format=",.0f", title="High")],
        )
        .add_params(days, who)
        .transform_filter("datum.day <= day")
        .transform_filter("who == 'All' || datum.claimant_country == who")
        .properties(height=300)
    )
    description = (
        "Interactive scatter of troop estimates by date. A slider sets the last day shown, starting at the "
        "analysis date of 29 October 2024, and a menu keeps one claimant; points are upper figures."
    )
    return finish(chart, "What had been claimed by a chosen day?", description)
