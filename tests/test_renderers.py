"""The book's chart pipeline: charts compiled to Vega at build time for the Vega the pages load."""
import json

import altair as alt
import vl_convert

from coursepack.book import renderers
from tests.conftest import ROOT


def test_pages_load_the_vega_that_vl_convert_compiles_for():
    """The vendored Vega is the one package.json pins and vl-convert writes specs for; a mismatch could draw
    charts wrongly."""
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    assert pinned["vega"] == vl_convert.get_vega_version(), "update package.json's vega with vl-convert (vendor/README.md)"
    bundle = (ROOT / "vendor" / "vega" / "vega.min.js").read_text(encoding="utf-8")
    assert f'version="{pinned["vega"]}"' in bundle, "vendor/vega/vega.min.js is not the pinned Vega: run `make vendor`"
    axe = (ROOT / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
    assert axe.startswith(f'/*! axe v{pinned["axe-core"]}\n'), "vendor/axe-core is not the pinned axe-core: run `make vendor`"
    table = (ROOT / "vendor" / "README.md").read_text(encoding="utf-8")
    for name in ("vega", "axe-core"):
        assert f"| `{name}/` |" in table and f"| {pinned[name]} |" in table, f"vendor/README.md's table lacks {name} {pinned[name]}"
        assert (ROOT / "vendor" / name / "LICENSE").is_file(), f"vendor/{name} has no LICENSE"


def test_book_chart_is_compiled_vega_with_brushes_hidden():
    """The book output carries a Vega spec (no Vega-Lite left to compile) whose brush marks are hidden from assistive tech."""
    brush = alt.selection_interval(name="span")
    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}])).mark_point().encode(x="x:Q", y="y:Q").add_params(brush)
    spec = renderers.vega_spec(chart.to_dict())
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega/")
    marks = {}

    def walk(group):
        for mark in group.get("marks", []):
            marks[mark.get("name", "")] = mark
            walk(mark)

    walk(spec)
    brushes = [mark for name, mark in marks.items() if name.endswith(("_brush", "_brush_bg"))]
    assert len(brushes) == 2 and all(mark["aria"] is False for mark in brushes)
    assert any(mark.get("aria") is not False for name, mark in marks.items() if not name.endswith(("_brush", "_brush_bg")))
    html = renderers.book_renderer(chart.to_dict())["text/html"]
    assert "coursepackDraw" in html and '"$schema":"https://vega.github.io/schema/vega/' in html  # compact JSON


def test_charts_take_the_width_they_are_drawn_in_up_to_the_widest_column():
    """A finished chart is as wide as its element (capped), fitted with its labels, and re-laid out on resizing."""
    from coursepack import charts

    data = alt.Data(values=[{"x": 1, "y": 2, "kind": "a"}])
    title = "A title too long for the narrowest phone's column, so wrapped there"
    chart = charts.finish(alt.Chart(data).mark_point().encode(x="x:Q", y="y:Q", color="kind:N"), title, "Points.")
    spec = renderers.vega_spec(chart.to_dict())
    signals = {signal["name"]: signal for signal in spec["signals"]}
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}
    for name in ("width", "chart_width"):
        assert renderers.CONTAINER_WIDTH in (signals[name].get("init"), signals[name].get("update"))
        assert any(handler["events"] == "window:resize" for handler in signals[name]["on"]), f"{name} ignores resizing"
    assert f"min(containerSize()[0], {renderers.WIDEST})" in renderers.CONTAINER_WIDTH
    wrapped = charts.fitted_title(title)
    assert isinstance(wrapped, alt.ExprRef) and "chart_width <" in wrapped.expr
    assert charts.fitted_title("Short") == "Short"
