"""The codebook (data/codebook.yml) and the data agree: every tag is defined and allowed, every example carries its
tag, and rows that point at each other do not call one report by two different kinds. Each rule is also shown to
fail on a copy of the data broken on purpose."""
import json

import pytest
import yaml

from coursepack import data
from coursepack.book import codebook
from tests.test_data import rewrite_cell


def row_number(table, row_id):
    """Spreadsheet row number (header is row 1) of ``row_id`` in ``table``."""
    return int(data.load(table).index[data.load(table)["id"] == row_id][0]) + 2


def edit_yaml(folder, change):
    path = folder / "codebook.yml"
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(book)
    path.write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_package(folder, change):
    path = folder / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    change({r["name"]: {f["name"]: f for f in r["schema"]["fields"]} for r in package["resources"]})
    path.write_text(json.dumps(package, indent=2), encoding="utf-8")


def test_codebook_and_data_agree():
    assert codebook.problems() == []


def test_every_enum_is_in_the_codebook_and_every_codebook_field_is_an_enum():
    book = codebook.load()
    for (table, field), values in codebook.enums(data.describe()).items():
        assert set(values) <= set(codebook.tags(book, table, field)), (table, field)
    for table, fields in book["tables"].items():
        for field in fields:
            assert (table, field) in codebook.enums(data.describe()), (table, field)


def test_an_undefined_tag_is_refused(data_copy):
    """A new tag allowed in the schema and used in a row, but never defined, is caught."""
    edit_package(data_copy, lambda fields: fields["statements"]["speech_act"]["constraints"]["enum"].append("confirms"))
    rewrite_cell(data_copy, "statements", row_number("statements", "rok-nis-2024-10-18"), "speech_act", "confirms")
    assert any("'confirms' is allowed in datapackage.json but not defined" in p for p in codebook.problems(data_copy))


def test_a_tag_outside_the_schema_is_refused_when_the_table_loads(data_copy):
    rewrite_cell(data_copy, "exchanges", 2, "status", "confirmed")
    with pytest.raises(data.DataError, match="'confirmed' is not an allowed value"):
        data.load("exchanges", data_copy)


def test_a_definition_no_enum_allows_is_refused(data_copy):
    edit_yaml(data_copy, lambda book: book["tables"]["exchanges"]["status"]["values"].update(
        {"rumoured": {"rule": "x", "example": None}}))
    assert any("defines 'rumoured', which datapackage.json does not allow" in p for p in codebook.problems(data_copy))


def test_an_example_must_exist_and_carry_its_tag(data_copy):
    def point_elsewhere(book):
        book["tables"]["statements"]["speech_act"]["values"]["denies"]["example"] = "china-2024-10-24"
        book["tables"]["claims"]["kind"]["values"]["forecast"]["example"] = "no-such-claim"
        book["vocabularies"]["actor"]["values"]["Japan"]["example"] = "statements:china-2024-10-24"
    edit_yaml(data_copy, point_elsewhere)
    found = codebook.problems(data_copy)
    assert any("example of 'denies', 'china-2024-10-24', is tagged 'declines to confirm'" in p for p in found)
    assert any("'no-such-claim', is not a row of claims.csv" in p for p in found)
    assert any("vocabulary actor: the example of 'Japan'" in p for p in found)


def test_a_tag_in_use_needs_an_example(data_copy):
    edit_yaml(data_copy, lambda book: book["tables"]["exchanges"]["status"]["values"]["claimed"].update(example=None))
    assert any("'claimed' is used but its codebook entry has no example" in p for p in codebook.problems(data_copy))


CROSS_TABLE = [
    # (table, row id, column, new value, words the problem must contain)
    # Shin Won-sik's "we understand" is an assertion: the exchange it reports cannot be acknowledged.
    ("exchanges", "airdefence-2024-11-22", "status", "acknowledged",
     "exchanges airdefence-2024-11-22 is 'acknowledged' but its statement rok-2024-11-22 'asserts'"),
    # The same person in the same source must be linked, so that the rule above applies.
    ("exchanges", "troops-nebenzia-2024-10-30", "statement_id", "",
     "troops-nebenzia-2024-10-30 and statements russia-2024-10-30-nebenzia report the same person"),
    # A signpost resting on a claim cannot count as appeared.
    ("signposts", "expanded-technology", "status", "appeared",
     "signposts expanded-technology is 'appeared' but rests on exchanges airdefence-2024-11-22"),
    # A claim passing on an assertion is a reported claim, not a reported fact.
    ("claims", "intro-us-confirmed", "kind", "reported fact", "claims intro-us-confirmed is a 'reported fact'"),
]


@pytest.mark.parametrize("table,row_id,column,value,expected", CROSS_TABLE)
def test_rows_that_point_at_each_other_must_agree_on_the_kind(data_copy, table, row_id, column, value, expected):
    rewrite_cell(data_copy, table, row_number(table, row_id), column, value)
    assert any(expected in problem for problem in codebook.problems(data_copy))


def test_codebook_page_lists_every_tag_with_its_example():
    page = codebook.render()
    assert page.startswith("(codebook)=\n# Codebook")
    book = codebook.load()
    for (table, field) in codebook.enums(data.describe()):
        for tag, definition in codebook.tags(book, table, field).items():
            assert f"| {tag} |" in page, (table, field, tag)
            if definition["example"]:
                assert f"`{definition['example']}`" in page
