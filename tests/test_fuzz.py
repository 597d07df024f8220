"""Hostile inputs: fuzzed scenario files and --set values either load or fail cleanly.

Every input must either give a valid scenario or a ScenarioError whose message starts with
the field (or file) it is about — never another exception, never a traceback. Scenarios that
load are then run for a day through the CLI: exit 0 with complete output, or exit 2 with one
line and no output folder.
"""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from experiments.cli import app
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_override

KNOWN = [name for name, _, _ in Scenario().params()]
SECTIONS = sorted({k.split(".")[0] for k in KNOWN})
COUNTER = {"load": 0, "set": 0, "run": 0}

scalars = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(string.printable, max_size=12),
    st.lists(st.integers(-5, 5), max_size=3),
)
keys = st.one_of(st.sampled_from(KNOWN), st.builds(
    lambda s, k: f"{s}.{k}", st.sampled_from([*SECTIONS, "bogus"]),
    st.text(string.ascii_lowercase + "_", min_size=1, max_size=10)))


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
            .replace("\r", "\\r").replace("\t", "\\t") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def check_error(exc: ScenarioError) -> None:
    msg = str(exc)
    assert "\n" not in msg
    head = msg.split(":")[0]
    assert head, msg
    # the field (dotted), a section, the file's path, or the --set argument
    assert "/" in head or head.startswith(("--set", "'", '"')) or " " not in head.strip(), msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, scalars, max_size=6), st.booleans())
def test_fuzzed_scenario_files_load_or_fail_cleanly(tmp_path_factory, entries, garble):
    lines: dict[str, list[str]] = {}
    for key, value in entries.items():
        section, _, leaf = key.rpartition(".")
        lines.setdefault(section, []).append(f"{leaf} = {toml_value(value)}")
    text = "\n".join(f"[{sec}]\n" + "\n".join(body) for sec, body in lines.items())
    if garble:
        text = text.replace("=", "", 1) + "\n[[x"
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_text(text)
    COUNTER["load"] += 1
    try:
        load_scenario(path)
    except ScenarioError as exc:
        check_error(exc)


@settings(max_examples=300, deadline=None)
@given(st.text(string.printable, max_size=40))
def test_fuzzed_overrides_parse_or_fail_cleanly(text):
    COUNTER["set"] += 1
    try:
        key, value = parse_override(text)
        Scenario().with_overrides({key: value})
    except ScenarioError as exc:
        check_error(exc)


SMALL = ["city.width=6", "city.height=6", "city.community_cells=3", "residents.agents=100",
         "city.population=3000"]
RUN_KEYS = st.sampled_from([
    ("police.officers", st.integers(-2, 40)),
    ("police.share_hq", st.floats(-0.5, 1.5)),
    ("strategy.name", st.sampled_from(["centralized", "station", "community", "grid", "smart",
                                       "adaptive", "nope"])),
    ("strategy.sink_fraction", st.floats(-0.2, 1.2)),
    ("strategy.community_share", st.floats(0, 1)),
    ("incidents.rate_per_1000_day", st.floats(-1, 30)),
    ("dispatch.hops", st.integers(-1, 12)),
    ("city.blocked_street_share", st.floats(0, 0.6)),
    ("police.shifts_per_day", st.integers(0, 5)),
    ("police.rest_groups", st.integers(0, 3)),
    ("residents.negativity", st.floats(0, 25)),
    ("incidents.on_scene_distribution", st.sampled_from(["lognormal", "exponential", "x"])),
])


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(st.lists(RUN_KEYS.flatmap(lambda kv: kv[1].map(lambda v: (kv[0], v))), max_size=4))
def test_fuzzed_runs_complete_or_fail_cleanly(tmp_path_factory, pairs):
    out = tmp_path_factory.mktemp("run") / "out"
    args = ["run", "default", "--days", "1"]
    for item in SMALL + [f"{k}={toml_value(v)}" for k, v in pairs]:
        args += ["--set", item]
    args += ["--out", str(out)]
    COUNTER["run"] += 1
    res = CliRunner().invoke(app, args)
    assert "Traceback" not in res.output
    if res.exit_code == 0:
        assert (out / "summary.json").is_file() and (out / "incidents.parquet").is_file()
    else:
        assert res.exit_code == 2, res.output
        assert res.output.strip().count("\n") == 0, res.output
        assert res.output.startswith("error: ")
        assert not out.exists()


def test_report_fuzz_counts(capsys):
    """Print how many cases were tried (shown with -s; recorded in docs/RELIABILITY.md)."""
    with capsys.disabled():
        print(f"\nfuzz cases tried: {COUNTER}")
