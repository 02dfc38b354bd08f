"""Maps drawn from ``data/places.csv`` on country outlines the package carries itself.

Why a stored outline file: altair's map examples fetch the world atlas from a CDN, which fails offline and on
school networks. ``maps_data/countries-eurasia-110m.json`` is the world-atlas 2.0.2 TopoJSON of Natural Earth's
1:110m countries (ISC licence for the file, public-domain data; see ``maps_data/README.md``), cut down to the
countries between Europe and the Pacific, about 22 kB. It goes into the chart spec inline, so the map draws in
the HTML book, in JupyterLab and in a saved notebook with no network.

Example
-------
>>> from coursepack.lessons import maps
>>> chart = maps.route_map()
>>> chart.to_dict()["description"][:40]
'Map of Russia from the Pacific coast to '
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import altair as alt
import pandas as pd

from coursepack.lessons import charts, data

OUTLINES = Path(__file__).resolve().parent / "maps_data" / "countries-eurasia-110m.json"

#: The places the route joins, west to east: where the first contingent arrived and was based, and Kursk.
FAR_EAST = ["vladivostok", "ussuriysk", "khabarovsk", "blagoveshchensk"]
#: The places of the Kursk front shown in the second panel.
FRONT = ["kursk", "sudzha", "moscow", "kyiv", "donetsk"]


@lru_cache(maxsize=1)
def outlines() -> str:
    """The stored TopoJSON topology (object ``countries``), as the text the chart carries.

    Passed to the chart as one string, not as parsed JSON: a notebook saved by JupyterLab (which indents its
    JSON) then stores the outlines in about 22 kB instead of about 80 kB of numbers one per line."""
    return OUTLINES.read_text(encoding="utf-8")


def _countries(projection: alt.Projection, highlight: tuple[str, ...]) -> alt.Chart:
    source = alt.InlineData(values=outlines(), format=alt.DataFormat(type="topojson", feature="countries"))
    return (
        alt.Chart(source)
        .mark_geoshape(stroke="white", strokeWidth=0.6, clip=True)
        .encode(
            color=alt.condition(
                alt.FieldOneOfPredicate(field="properties.name", oneOf=list(highlight)),
                alt.value("#d9d9d9"), alt.value("#f0f0f0"),
            ),
            tooltip=[alt.Tooltip("properties.name:N", title="Country")],
        )
        .project(**projection)
    )


def _places(places: pd.DataFrame, projection: dict, colour: str, shape: str) -> alt.LayerChart:
    base = alt.Chart(places).encode(longitude="longitude:Q", latitude="latitude:Q")
    points = base.mark_point(filled=True, size=70, color=colour, shape=shape, opacity=1).encode(
        tooltip=[alt.Tooltip("name:N", title="Place"), alt.Tooltip("role:N", title="Why it matters")]
    )
    labels = base.mark_text(align="left", dx=6, dy=-6, fontSize=11).encode(text="name:N")
    return alt.layer(points, labels).project(**projection)


def _frame(places: pd.DataFrame, margin: float) -> dict:
    """A GeoJSON feature the projection is fitted to: the places' bounding box widened by ``margin`` degrees.

    Why: fitted to the places rather than to the outlines (Russia reaches across the date line), the map fills
    the width of the column it is drawn in, a phone's or a desktop's.
    """
    west, east = places["longitude"].min() - margin, places["longitude"].max() + margin
    south, north = places["latitude"].min() - margin, places["latitude"].max() + margin
    return {"type": "Feature", "properties": {},
            "geometry": {"type": "MultiPoint", "coordinates": [[west, south], [east, north]]}}


def route_map(places: pd.DataFrame | None = None) -> alt.VConcatChart:
    """Two panels: the reported movement from the Russian Far East to Kursk, and the Kursk front.

    The line is drawn straight between places; the route the soldiers took (rail or air) was not reported in the
    data, and the map says so. The area Ukraine held in Kursk region has no outline in the data, so the second
    panel marks Sudzha, the largest town it held, rather than drawing a front line.
    """
    places = data.load("places") if places is None else places
    places = places.set_index("id", drop=False)
    east = places.loc[FAR_EAST]
    front = places.loc[FRONT]
    route = pd.DataFrame({
        "leg": ["Far East to Kursk"] * 2,
        "order": [0, 1],
        "name": [places.loc["vladivostok", "name"], places.loc["kursk", "name"]],
        "longitude": [places.loc["vladivostok", "longitude"], places.loc["kursk", "longitude"]],
        "latitude": [places.loc["vladivostok", "latitude"], places.loc["kursk", "latitude"]],
    })
    overview = dict(type="mercator", fit=_frame(places.loc[["kursk", "vladivostok", "pyongyang", "moscow"]], 3))
    zoom = dict(type="mercator", fit=_frame(front, 1))
    line = (
        alt.Chart(route)
        .mark_line(strokeDash=[6, 4], strokeWidth=2, color=charts.PALETTE[1], clip=True)
        .encode(longitude="longitude:Q", latitude="latitude:Q", order="order:Q",
                tooltip=[alt.Tooltip("leg:N", title="Reported movement")])
        .project(**overview)
    )
    top = alt.layer(
        _countries(overview, ("Russia", "North Korea")), line,
        _places(east, overview, charts.PALETTE[0], "circle"),
        _places(places.loc[["kursk", "moscow", "pyongyang"]], overview, charts.PALETTE[1], "square"),
    ).properties(height=260, title="Far East to Kursk")
    bottom = alt.layer(
        _countries(zoom, ("Russia",)),
        _places(front, zoom, charts.PALETTE[1], "square"),
    ).properties(height=300, title="The Kursk front")
    chart = alt.vconcat(top, bottom)
    return charts.finish(chart, "Where the soldiers went", route_description(places),
                         subtitle="The dashed line joins the places; it is not the route.")


def route_description(places: pd.DataFrame) -> str:
    """The map in words, for screen readers and for the text under the map."""
    names = lambda ids: ", ".join(places.loc[ids, "name"])  # noqa: E731
    kursk, vladivostok = places.loc["kursk"], places.loc["vladivostok"]
    span = abs(vladivostok["longitude"] - kursk["longitude"])
    return (
        f"Map of Russia from the Pacific coast to its border with Ukraine. South Korea's intelligence service said "
        f"the first contingent landed at {vladivostok['name']} and was based at {names(FAR_EAST[1:])} in the "
        f"Russian Far East. A dashed straight line joins {vladivostok['name']} to {kursk['name']}, about "
        f"{span:.0f} degrees of longitude to the west; it shows the reported movement, not the route, which the data "
        f"does not record. A second panel shows the Kursk front: {kursk['name']}, the regional capital; "
        f"{places.loc['sudzha', 'name']}, the largest town Ukraine held in the region from August 2024 until March "
        f"2025, just across the border from Ukraine; and Moscow, Kyiv and Donetsk for orientation. Russia is "
        f"shaded darker than its neighbours. The area Ukraine held is not drawn, because the data has no outline of it."
    )
