"""Every person and body the tables name is on the actors page, once, with one line."""
import pytest

from coursepack.book import actorspage
from coursepack.lessons import data

ACTORS = data.load("actors")


def test_every_named_actor_is_listed():
    missing = sorted(set(actorspage.named_in_data()) - set(ACTORS["name"]))
    assert not missing, f"named in the data but not in data/actors.csv: {missing}"


def test_every_listed_actor_is_named_somewhere():
    unused = sorted(set(ACTORS["name"]) - set(actorspage.named_in_data()))
    assert not unused, f"in data/actors.csv but named by no table: {unused}"


def test_kinds_and_one_line_descriptions():
    assert set(ACTORS["kind"]) <= set(actorspage.KINDS)
    assert ACTORS["description"].str.contains("\n").sum() == 0
    assert ACTORS["description"].str.len().max() < 200


@pytest.mark.parametrize("text,actor", [
    ("Lloyd Austin, Secretary of Defense (in Fiji)", "Lloyd Austin"),
    ("National Intelligence Service (South Korea), via lawmakers", "National Intelligence Service"),
    ("Multilateral Sanctions Monitoring Team (11 governments, South Korea, the US and Japan among them)",
     "Multilateral Sanctions Monitoring Team"),
])
def test_a_name_is_matched_by_its_text_before_the_comma(text, actor):
    assert actorspage.actor_key(text) == actor


def test_page_lists_every_actor():
    page = actorspage.render()
    for name in ACTORS["name"]:
        assert f"**{name}**" in page
