"""The book's chart pipeline: charts compiled to Vega at build time for the Vega the pages load."""
import json
import re

import altair as alt
import pytest
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


def _sample_chart() -> alt.Chart:
    rows = [{"actor": "Seoul", "count": 3}, {"actor": "Kyiv", "count": 5}]
    return alt.Chart(alt.Data(values=rows), title="Sample").mark_bar().encode(x="count:Q", y="actor:N")


def test_data_block_is_the_charts_data_as_a_table():
    """The table a reader reaches without the chart: a caption naming the chart, its encoded columns, every row."""
    block = renderers.data_block(_sample_chart().to_dict())
    assert block.count("<tr>") == 3 and '<th scope="col">count</th>' in block and "<td>Kyiv</td>" in block
    assert "<summary>Data behind this chart</summary>" in block and "\u201cSample\u201d" in block


def test_a_live_chart_shows_its_data_block_just_before_it(monkeypatch):
    """In JupyterLab a chart's output can carry one format only, so its table is an output of its own."""
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    bundle, _ = renderers.live_renderer(_sample_chart().to_dict())
    assert renderers.VEGA_MIMETYPE in bundle and "text/html" not in bundle
    assert len(shown) == 1 and renderers.LIVE_DATA_SUMMARY in shown[0].data and "<td>Seoul</td>" in shown[0].data


@pytest.mark.slow
def test_every_chart_in_the_book_has_its_data_block(built_book):
    """Each chart drawn on a page is followed by its collapsed table, and nothing else claims to be one."""
    checked = 0
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        charts = html.count(f'<div class="{renderers.CHART_CLASS}"')
        blocks = html.count('<details class="coursepack-data">')
        assert charts == blocks, f"{page.relative_to(built_book)}: {charts} charts, {blocks} data blocks"
        checked += charts
    assert checked >= 15, f"only {checked} charts found in the book: the test would prove little"


def page_specs(page) -> list[dict]:
    """The compiled Vega spec of every chart on a built page."""
    text = page.read_text(encoding="utf-8")
    return [json.loads(found) for found in re.findall(r"\}\)\((\{.*?\})\);\n</script>", text, flags=re.S)]


def vega_nodes(node):
    """Every dict in a spec, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from vega_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from vega_nodes(value)


@pytest.mark.slow
def test_the_charts_each_chapter_draws_in_its_own_code_say_what_they_teach(built_book):
    """The chart each chapter builds in code a student reads: casualties a day against the analysis's rate
    (chapter 2), trade on a log axis (chapter 4), the Brier curve with its slider (chapter 5)."""
    def specs(stem):
        return page_specs(next((built_book / "notebooks").glob(f"{stem}*.html")))

    casualties = [s for s in specs("02-") if "monthly averages of Russian casualties a day" in s.get("description", "")]
    assert casualties and "1,200 a day" in casualties[0]["description"]
    trade = [s for s in specs("04-") if "China's total trade" in s.get("description", "")]
    assert trade and any(n.get("type") == "log" for n in vega_nodes(trade[0]) if "domain" in n)
    brier = [s for s in specs("05-") if "Brier score" in s.get("description", "") and "slider" in s["description"]]
    assert brier and any(n.get("bind", {}).get("input") == "range" for n in vega_nodes(brier[0]) if isinstance(n.get("bind"), dict))
