"""The book's chart pipeline: charts compiled to Vega at build time for the Vega the pages load."""
import json

import altair as alt
import vl_convert

from coursepack import renderers
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
    assert "coursepackDraw" in html and '"$schema": "https://vega.github.io/schema/vega/' in html
