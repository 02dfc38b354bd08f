"""ipywidgets explorers for JupyterLab, where Python recomputes as the student moves a control.

Each explorer returns a widget box whose result area is an ``ipywidgets.HTML``: its current value is
saved with the notebook, so the built book shows a readable snapshot even without a kernel.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import pandas as pd


#: What a form of sliders says under its controls: the cell that builds it starts them again from the values
#: written in the notebook, so a student who only moved sliders would lose them on Run All.
RERUN_NOTE = ("Running the notebook again (Run All, or this cell) puts the sliders back to the values written "
              "in the cell above: to keep your choices, write them into that cell.")


def rerun_note() -> widgets.HTML:
    """The one line saying that running the cell again resets its sliders (:data:`RERUN_NOTE`)."""
    return widgets.HTML(f"<p><em>{html.escape(RERUN_NOTE)}</em></p>")


def latest_estimates(estimates: pd.DataFrame, date: pd.Timestamp) -> pd.DataFrame:
    """Each claimant's most recent estimate made public on or before ``date``.

    One row per claimant and per kind of figure (in Russia, in Kursk, planned), so a plan never
    replaces a count.

    Examples
    --------
    >>> frame = pd.DataFrame({"date": pd.to_datetime(["2024-10-18", "2024-10-28"]),
    ...                       "claimant_country": ["United States"] * 2, "location": ["in Russia"] * 2,
    ...                       "low": [3000, 10000], "high": [3000, 10000]})
    >>> latest_estimates(frame, pd.Timestamp("2024-10-20"))["high"].tolist()
    [3000]
    """
    known = estimates[estimates["date"] <= date].sort_values("date")
    latest = known.groupby(["claimant_country", "location"], as_index=False).tail(1)
    return latest.sort_values(["location", "claimant_country"]).reset_index(drop=True)


def _table(frame: pd.DataFrame, columns: dict[str, str], caption: str) -> str:
    """A small accessible HTML table (caption and column headers) of ``frame``."""
    head = "".join(f'<th scope="col">{html.escape(label)}</th>' for label in columns.values())
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, pd.Timestamp):
                value = f"{value:%d %b %Y}"
            elif isinstance(value, (int, float)) and not pd.isna(value):
                value = f"{int(value):,}"
            cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{''.join(rows)}</table>"


def known_on_explorer(events: pd.DataFrame, estimates: pd.DataFrame, start: str = "2024-06-19",
                      end: str = "2025-05-31", value: str = "2024-10-29") -> widgets.VBox:
    """"What was known on date X": events reported so far and each claimant's latest estimate.

    Why a widget: the answer is recomputed in Python for any day the student picks, including days
    after the analysis was written.
    """
    days = pd.date_range(start, end, freq="D")
    slider = widgets.SelectionSlider(
        options=[(f"{day:%d %b %Y}", day) for day in days], value=pd.Timestamp(value),
        description="As of", continuous_update=False, layout=widgets.Layout(width="95%"),
        style={"description_width": "initial"},
    )
    result = widgets.HTML()
    reported = events.assign(reported=events["date_reported"].fillna(events["date"]))

    def show(change=None):
        day = slider.value
        so_far = reported[reported["reported"] <= day].sort_values("date")
        latest = latest_estimates(estimates, day)
        result.value = (
            f"<p><strong>{len(so_far)} of {len(events)} events</strong> had been reported by {day:%d %B %Y}. "
            f"The five most recent:</p>"
            + _table(so_far.tail(5), {"date": "Date", "actor": "Actor", "description": "What happened"},
                     "Latest events reported")
            + _table(latest, {"claimant_country": "Claimant", "location": "Counts", "low": "Low", "high": "High",
                              "date": "Made public"}, "Each claimant's latest troop estimate")
        )

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, result])
