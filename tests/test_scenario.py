"""The scenario schema: defaults, presets, declarations, validation, overrides, TOML."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from sim.params import info_of, is_section, sections_type
from sim.scenario import (
    PRIORITIES,
    Scenario,
    ScenarioError,
    from_dict,
    load_scenario,
    parse_override,
)

PRESETS = sorted(Path(__file__).resolve().parents[1].joinpath("scenarios").glob("*.toml"))


def _field_error(excinfo: pytest.ExceptionInfo, field: str) -> str:
    """The message, after checking it is one line starting with ``field``."""
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    assert msg.startswith(f"{field}:"), f"message does not start with {field!r}: {msg!r}"
    return msg


# -- defaults and presets ----------------------------------------------------------------------


def test_defaults_load_and_equal_the_dataclass_defaults():
    assert load_scenario() == Scenario()
    assert from_dict({}) == Scenario()


def test_there_is_a_default_preset():
    assert "default" in [p.stem for p in PRESETS]


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_loads_by_name_and_by_path(path):
    by_name = load_scenario(path.stem)
    by_path = load_scenario(path)
    assert by_name == by_path
    assert isinstance(by_name, Scenario)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    # The values written in the preset are the values loaded.
    for section, table in data.items():
        for key, value in table.items():
            if isinstance(value, dict):
                continue
            loaded = getattr(getattr(by_name, section), key)
            if isinstance(value, str) and loaded != value:
                # Relative paths in a preset are resolved against the preset's folder.
                assert Path(loaded) == (path.parent / value).resolve(), f"{section}.{key}"
            else:  # TOML arrays load as tuples
                expect = tuple(value) if isinstance(value, list) else value
                assert loaded == expect, f"{section}.{key}"


def test_default_preset_is_the_centralized_baseline():
    sc = load_scenario("default")
    assert sc.run.name == "default"
    assert sc.strategy.name == "centralized"


# -- declarations ------------------------------------------------------------------------------


def _leaf_fields(cls: type, prefix: str = ""):
    for f in dataclasses.fields(cls):
        if is_section(f):
            yield from _leaf_fields(type(f.default_factory()), f"{prefix}{f.name}.")
        elif sections_type(f) is not None:
            yield from _leaf_fields(sections_type(f), f"{prefix}{f.name}.*.")
        else:
            yield f"{prefix}{f.name}", f


def test_every_field_is_declared_as_a_parameter():
    undeclared = [name for name, f in _leaf_fields(Scenario) if info_of(f) is None]
    assert undeclared == []


def test_every_parameter_has_a_unit_and_a_justification():
    params = Scenario().params()
    assert len(params) > 30
    for name, _value, info in params:
        assert isinstance(info.unit, str) and info.unit.strip(), f"{name}: no unit"
        assert isinstance(info.why, str) and len(info.why.strip()) >= 5, f"{name}: no reason"


def test_every_default_is_within_its_declared_bounds():
    for name, value, info in Scenario().params():
        if isinstance(value, bool | str):
            if info.choices:
                assert value in info.choices, name
            continue
        if info.lo is not None:
            assert value >= info.lo, name
        if info.hi is not None:
            assert value <= info.hi, name


def test_default_shares_add_up():
    sc = Scenario()
    p = sc.police
    assert p.share_hq + p.share_station + p.share_community == pytest.approx(1.0)
    assert sum(sc.incidents.priority(k).share for k in PRIORITIES) == pytest.approx(1.0)


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"police.oficers": 3}, "police.oficers"),
        ({"polize.officers": 3}, "polize"),
        ({"police.officers": "many"}, "police.officers"),
        ({"police.officers": True}, "police.officers"),
        ({"police.officers": 2.5}, "police.officers"),
        ({"police.officers": -1}, "police.officers"),
        ({"city.width": 0}, "city.width"),
        ({"residents.agents": -5}, "residents.agents"),
        ({"dispatch.hops": -1}, "dispatch.hops"),
        ({"police.auxiliary_share": 1.5}, "police.auxiliary_share"),
        ({"police.auxiliary_share": -0.1}, "police.auxiliary_share"),
        ({"city.hotspot_cell_share": 2.0}, "city.hotspot_cell_share"),
        ({"incidents.classes.emergency.report_prob": 1.01},
         "incidents.classes.emergency.report_prob"),
        ({"police.turnout_min": "fast"}, "police.turnout_min"),
        ({"police.turnout_min": True}, "police.turnout_min"),
        ({"police.turnout_min": float("nan")}, "police.turnout_min"),
        ({"dispatch.travel": 1}, "dispatch.travel"),
        ({"dispatch.travel": "yes"}, "dispatch.travel"),
        ({"run.name": 5}, "run.name"),
        ({"incidents.on_scene_distribution": "gamma"}, "incidents.on_scene_distribution"),
        ({"police.share_hq": 0.9}, "police.share_hq"),
        ({"police.share_hq": 0.2, "police.share_station": 0.2}, "police.share_hq"),
        ({"incidents.classes.routine.share": 0.5}, "incidents.classes.emergency.share"),
        ({"city.community_cells": 100}, "city.community_cells"),
        ({"police": 3}, "police"),
        ({"incidents.classes.urgent": 3}, "incidents.classes.urgent"),
    ],
)
def test_invalid_values_raise_naming_the_field(overrides, field):
    with pytest.raises(ScenarioError) as excinfo:
        Scenario().with_overrides(overrides)
    _field_error(excinfo, field)


def test_tier_shares_that_add_up_are_accepted():
    sc = Scenario().with_overrides(
        {"police.share_hq": 0.2, "police.share_station": 0.3, "police.share_community": 0.5}
    )
    assert sc.police.share_community == 0.5


def test_integral_float_is_accepted_for_an_integer():
    assert Scenario().with_overrides({"police.officers": 3.0}).police.officers == 3
    assert isinstance(Scenario().with_overrides({"police.officers": 3.0}).police.officers, int)


def test_int_is_accepted_for_a_float_and_stored_as_float():
    sc = Scenario().with_overrides({"police.turnout_min": 2})
    assert sc.police.turnout_min == 2.0
    assert isinstance(sc.police.turnout_min, float)


def test_bounds_are_inclusive():
    sc = Scenario().with_overrides({"police.auxiliary_share": 1.0, "police.officers": 0})
    assert sc.police.auxiliary_share == 1.0
    assert sc.police.officers == 0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[police]\noficers = 3\n", "police.oficers"),
        ("[polize]\nofficers = 3\n", "polize"),
        ("[police]\nofficers = \"many\"\n", "police.officers"),
        ("[police]\nofficers = true\n", "police.officers"),
        ("[police]\nofficers = -4\n", "police.officers"),
        ("[incidents.classes.emergency]\nshare = 0.5\n", "incidents.classes.emergency.share"),
        ("[incidents.classes.emergency]\nreport_prob = 2.0\n",
         "incidents.classes.emergency.report_prob"),
        ("[incidents]\nemergency = 1\n", "incidents.emergency"),
        ("police = 3\n", "police"),
        ("[police]\nshare_hq = 1.0\nshare_station = 0.5\n", "police.share_hq"),
        ("[city]\ncell_size_m = inf\n", "city.cell_size_m"),
        ("[police]\nofficers = [1]\n", "police.officers"),
        ("[run]\nseed = 1979-05-27\n", "run.seed"),
        ("[incidents.classes.emergency]\nfoo = 1\n", "incidents.classes.emergency.foo"),
        ("[[police]]\nofficers = 1\n", "police"),
        ("x = 1\n", "x"),
    ],
)
def test_invalid_toml_files_raise_naming_the_field(tmp_path, text, field):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    _field_error(excinfo, field)


def test_not_toml_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[police\nofficers = 3\n")
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    assert "TOML" in _field_error(excinfo, str(path))


def test_binary_file(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage\x80")
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    _field_error(excinfo, str(path))


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path)
    _field_error(excinfo, str(path))


def test_unknown_preset_name():
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario("no_such_preset_xyz")
    _field_error(excinfo, "no_such_preset_xyz")


def test_directory(tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(folder)
    _field_error(excinfo, str(folder))


def test_overrides_of_a_loaded_file_are_validated(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text("[police]\nofficers = 10\n")
    assert load_scenario(path).police.officers == 10
    assert load_scenario(path, ["police.officers=12"]).police.officers == 12
    assert load_scenario(path, {"police.officers": 13}).police.officers == 13
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(path, ["police.officers=lots"])
    _field_error(excinfo, "police.officers")


def test_missing_keys_keep_their_defaults(tmp_path):
    path = tmp_path / "partial.toml"
    path.write_text("[incidents.classes.routine]\non_scene_mean_min = 12.5\n")
    sc = load_scenario(path)
    assert sc.incidents.classes["routine"].on_scene_mean_min == 12.5
    # The rest of the routine section (and of everything else) is the default.
    default = Scenario()
    assert sc.incidents.classes["routine"].share == default.incidents.classes["routine"].share
    assert sc.incidents.classes["emergency"] == default.incidents.classes["emergency"]
    assert sc.police == default.police


def test_with_overrides_returns_a_new_scenario():
    base = Scenario()
    changed = base.with_overrides({"police.officers": 3})
    assert changed.police.officers == 3
    assert base.police.officers == Scenario().police.officers
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.police.officers = 5  # type: ignore[misc]


# -- parse_override ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("police.officers=150", "police.officers", 150),
        ("police.officers = 150 ", "police.officers", 150),
        ("police.turnout_min=1.5", "police.turnout_min", 1.5),
        ("city.cell_size_m=1e2", "city.cell_size_m", 100.0),
        ("dispatch.travel=false", "dispatch.travel", False),
        ("dispatch.travel=true", "dispatch.travel", True),
        ('run.name="two words"', "run.name", "two words"),
        ("strategy.name=community", "strategy.name", "community"),
        ("run.description=a = b", "run.description", "a = b"),
        ("incidents.classes.emergency.share=0.2", "incidents.classes.emergency.share", 0.2),
    ],
)
def test_parse_override(text, key, value):
    k, v = parse_override(text)
    assert k == key
    assert v == value
    assert type(v) is type(value)


@pytest.mark.parametrize("text", ["police.officers", "=3", "officers=3", ""])
def test_parse_override_rejects_malformed(text):
    with pytest.raises(ScenarioError) as excinfo:
        parse_override(text)
    assert "\n" not in str(excinfo.value)


def test_string_overrides_end_to_end():
    sc = load_scenario(None, ["police.officers=7", "dispatch.travel=false",
                              "run.name=my_run", "incidents.classes.routine.sworn_only=true"])
    assert sc.police.officers == 7
    assert sc.dispatch.travel is False
    assert sc.run.name == "my_run"
    assert sc.incidents.classes["routine"].sworn_only is True


# -- TOML round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"police.officers": 7, "dispatch.travel": False, "city.cell_size_m": 100.0,
         "run.description": 'quotes " and \\ and 警力下沉',
         "incidents.classes.routine.sworn_only": True,
         "incidents.on_scene_distribution": "exponential"},
    ],
    ids=["defaults", "changed"],
)
def test_to_toml_round_trips(tmp_path, overrides):
    sc = Scenario().with_overrides(overrides)
    text = sc.to_toml()
    assert from_dict(tomllib.loads(text)) == sc
    path = tmp_path / "dumped.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == sc
    # Idempotent: dumping the loaded scenario gives the same text.
    assert load_scenario(path).to_toml() == text


def test_to_toml_is_fully_resolved():
    text = Scenario().to_toml()
    data = tomllib.loads(text)
    for name, value, _info in Scenario().params():
        node = data
        for part in name.split("."):
            node = node[part]
        assert node == (list(value) if isinstance(value, tuple) else value), name


def test_preset_round_trips_through_toml(tmp_path):
    sc = load_scenario("default", ["police.officers=33"])
    path = tmp_path / "again.toml"
    path.write_text(sc.to_toml())
    assert load_scenario(path) == sc


def test_error_messages_are_single_lines_without_python_reprs_of_classes():
    with pytest.raises(ScenarioError) as excinfo:
        Scenario().with_overrides({"city.width": "wide"})
    msg = _field_error(excinfo, "city.width")
    assert not re.search(r"<class|Traceback", msg)


# Parameters whose value describes the scenario (the city studied, the data file), not a
# behavioural assumption: the audit does not vary them.
NOT_AUDITED = {"city.width", "city.precincts_x", "city.population", "city.density_peaks",
               "city.risk_noise_sd", "city.arterial_speedup", "police.officers",
               "data.fit_bandwidth_cells", "data.fit_floor",
               "data.max_recorded_min"}  # a data-cleaning threshold, not a model assumption


def test_every_assumed_value_declares_its_plausible_range():
    for name, value, info in Scenario().params():
        if isinstance(value, bool | str | tuple):
            continue
        if "assumption" in info.why.lower() and name not in NOT_AUDITED:
            assert info.plausible is not None, f"{name}: an assumption without a plausible range"
        if info.plausible is not None:
            a, b = info.plausible
            assert a < b, name
            assert a <= value <= b, f"{name}: default outside its plausible range"
            assert (info.lo is None or info.lo <= a) and (info.hi is None or b <= info.hi), name
