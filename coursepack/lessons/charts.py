"""Accessible altair charts shared by the chapters.

Every builder returns an ``alt.Chart`` (or layered chart) with a title and a text description, which
Vega turns into the chart's accessible name and description. Colours come from one colour-blind-safe
palette (Okabe and Ito). Importing this module also picks the renderer for the context: a
self-contained one in JupyterLab, the book's shared offline bundle in the HTML book.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from coursepack.book import renderers

renderers.use_renderer()

#: Okabe-Ito palette: distinguishable with the common forms of colour blindness.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

#: One marker per kind of troop figure, the same in every chart: a plan never looks like a count.
LOCATION_SHAPES = alt.Scale(domain=["in Russia", "in Kursk", "planned"], range=["circle", "square", "triangle-up"])

#: Pixels a chart may take, labels and legends included, to fit the book's text column beside both sidebars.
BOOK_WIDTH = 670

#: First day of the chapters' October 2024 window and the analysis's own cut-off.
ANALYSIS_DATE = pd.Timestamp("2024-10-29")


def finish(chart: alt.TopLevelMixin, title: str, description: str, subtitle: str | None = None):
    """Give ``chart`` its title, accessible description and the shared look.

    Why one function: every chart in the book gets a description (read out by screen readers) and the
    same fonts, sizes and palette, so charts read as one family.
    """
    title_params = alt.TitleParams(title, subtitle=subtitle, anchor="start") if subtitle else title
    return (
        chart.properties(title=title_params, description=description)
        .configure_range(category=PALETTE)
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFontSize=12, titleFontSize=12, labelLimit=260, orient="bottom")
    )


def timeline(events: pd.DataFrame, title: str = "Timeline of events by actor", width: int = BOOK_WIDTH):
    """Events as points on a time axis, one row per actor, coloured by category.

    ``width`` is the whole chart's, labels included: the time axis takes what the actors' names leave.
    Hovering a point shows the date and the description of the event.
    """
    chart = (
        alt.Chart(events)
        .mark_point(filled=True, size=90, opacity=0.9)
        .encode(
            x=alt.X("date:T", title="Date", axis=alt.Axis(format="%d %b %Y", labelAngle=-30)),
            y=alt.Y("actor:N", title=None, sort=sorted(events["actor"].unique())),
            color=alt.Color("category:N", title="Kind of event"),
            shape=alt.Shape("category:N", title="Kind of event"),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%d %B %Y"),
                alt.Tooltip("actor:N", title="Actor"),
                alt.Tooltip("description:N", title="What happened"),
            ],
        )
        .properties(width=width, height=alt.Step(34), autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
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
    chart = alt.layer(ranges, points).properties(width=600, height=320)
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
        .properties(width=600, height=300)
    )
    description = (
        "Interactive scatter of troop estimates by date. A slider sets the last day shown, starting at the "
        "analysis date of 29 October 2024, and a menu keeps one claimant; points are upper figures."
    )
    return finish(chart, "What had been claimed by a chosen day?", description)
