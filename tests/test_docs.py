"""The documentation cannot drift from the code."""

from pathlib import Path

from sim.params import markdown_table
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]


def test_odd_parameter_table_is_generated_from_the_schema():
    text = (ROOT / "docs" / "ODD.md").read_text()
    block = text.split("<!-- params:begin -->\n", 1)[1].split("<!-- params:end -->", 1)[0]
    assert block == markdown_table(Scenario()), "run: python docs/update_params.py"


def test_every_parameter_has_unit_and_justification():
    for name, _value, info in Scenario().params():
        assert info.unit, name
        assert len(info.why) > 10, name
