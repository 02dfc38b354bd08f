"""The route map draws offline from the package's own outlines and says in words what it shows."""
import json

from coursepack.lessons import maps


def test_route_map_renders_to_a_spec_with_a_description():
    spec = maps.route_map().to_dict()
    assert spec["description"].startswith("Map of Russia")
    assert "Vladivostok" in spec["description"] and "Sudzha" in spec["description"]
    assert len(spec["vconcat"]) == 2


def data_urls(node):
    """Every ``url`` a spec's data would load."""
    if isinstance(node, dict):
        return ([node["url"]] if isinstance(node.get("url"), str) else []) + [
            u for key, value in node.items() if key != "$schema" for u in data_urls(value)]
    if isinstance(node, list):
        return [u for item in node for u in data_urls(item)]
    return []


def test_map_loads_nothing_from_the_network():
    spec = maps.route_map().to_dict()
    assert data_urls(spec) == []
    assert '"type": "topojson"' in json.dumps(spec)


def test_outlines_are_small_and_hold_the_countries_shown():
    assert maps.OUTLINES.stat().st_size < 60_000
    names = {g["properties"]["name"] for g in json.loads(maps.outlines())["objects"]["countries"]["geometries"]}
    assert {"Russia", "Ukraine", "North Korea", "China"} <= names
    assert (maps.OUTLINES.parent / "LICENSE-world-atlas").exists()


def test_every_place_on_the_map_is_in_the_data():
    from coursepack.lessons import data

    ids = set(data.load("places")["id"])
    assert set(maps.FAR_EAST + maps.FRONT) <= ids


def test_outlines_travel_as_one_string():
    """Saved in an indented notebook, parsed outlines would put each coordinate on a line of its own."""
    datasets = maps.route_map().to_dict()["datasets"].values()
    assert [len(d) for d in datasets if isinstance(d, str)] == [maps.OUTLINES.stat().st_size]
