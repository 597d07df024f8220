"""Hostile inputs: no scenario file, --set value or sweep spec can hang, exhaust or crash.

Property-based (hypothesis): every input ends with exit 0 and complete output, or exit 2 and
one short line naming the field; never a traceback, never longer than a time limit, never a
change to a file outside the chosen output folder.
"""

from __future__ import annotations

import contextlib
import signal
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from experiments.cli import app
from experiments.spec import MAX_RUNS, TOP_KEYS, SpecError, load_spec
from sim.scenario import Scenario

KNOWN = [name for name, _, _ in Scenario().params()]
SIZE_KEYS = [name for name, value, _ in Scenario().params()
             if isinstance(value, int) and not isinstance(value, bool)]
LIMIT_S = 30
MAX_LINE = 400
SMALL = ["--set", "city.width=6", "--set", "city.height=6", "--set", "city.community_cells=3",
         "--set", "residents.agents=60", "--set", "city.population=2000"]


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail the test if the block runs longer than ``seconds`` (a hang)."""
    def hang(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_clean(res, out: Path | None = None) -> None:
    """Exit 0 with output, or exit 2 with one line; never a traceback or another code."""
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    if res.exit_code == 0:
        if out is not None:
            assert (out / "summary.json").is_file() and (out / "incidents.parquet").is_file()
        return
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert len(lines[0]) <= MAX_LINE, lines[0][:500]
    if out is not None:
        assert not out.exists()


# -- values nobody should type, and some that typos produce ---------------------------------
huge_int = st.integers(4301, 6000).map(lambda n: "9" * n)
deep = st.integers(300, 1200).map(lambda n: "[" * n + "]" * n)
deep_table = st.integers(300, 700).map(lambda n: "{a = " * n + "1" + "}" * n)
big_number = st.sampled_from(["1e400", "-1e400", "1e308", "10000000000000000000000000000000",
                              "-9223372036854775809", "18446744073709551616", "nan", "inf",
                              "-inf", "0x7fffffffffffffff", "1_000_000_000_000"])
long_text = st.integers(10_000, 2_000_000).map(lambda n: '"' + "x" * n + '"')
ordinary = st.one_of(st.integers(-(10**6), 10**6).map(str),
                     st.floats(-1e6, 1e6, allow_nan=False).map(repr),
                     st.sampled_from(["true", "false", '""', '"community"', "[1, 2]", "{}"]))
hostile_value = st.one_of(huge_int, deep, deep_table, big_number, long_text, ordinary)
hostile_key = st.one_of(st.sampled_from(KNOWN), st.sampled_from(SIZE_KEYS),
                        st.text(string.printable, min_size=1, max_size=30),
                        st.integers(300, 3000).map(lambda n: "a." * n + "b"),
                        st.integers(1000, 100_000).map(lambda n: "k" * n + ".x"))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(SIZE_KEYS + KNOWN), hostile_value), min_size=1,
                max_size=3))
def test_hostile_scenario_files_never_crash_or_hang(tmp_path_factory, entries):
    folder = tmp_path_factory.mktemp("hostile")
    lines: dict[str, list[str]] = {}
    for key, value in entries:
        section, _, leaf = key.rpartition(".")
        lines.setdefault(section, []).append(f"{leaf} = {value}")
    path = folder / "s.toml"
    path.write_text("\n".join(f"[{sec}]\n" + "\n".join(body) for sec, body in lines.items()))
    before = snapshot(folder)
    with time_limit(LIMIT_S):
        res = CliRunner().invoke(app, ["show", str(path)])
    assert_clean(res)
    assert snapshot(folder) == before


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_key, hostile_value)
def test_hostile_set_values_never_crash_or_hang(key, value):
    with time_limit(LIMIT_S):
        res = CliRunner().invoke(app, ["show", "default", "--set", f"{key}={value}"])
    assert_clean(res)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SIZE_KEYS), st.one_of(big_number, st.integers(0, 10**9).map(str),
                                            st.integers(0, 3000).map(str)))
def test_size_like_values_are_bounded_before_work(tmp_path_factory, key, value):
    """A size parameter at any value runs within the limit or is refused up front."""
    folder = tmp_path_factory.mktemp("size")
    out = folder / "out"
    (folder / "notes.txt").write_text("mine")
    with time_limit(120):
        res = CliRunner().invoke(app, ["run", "default", "--days", "1", *SMALL, "--set",
                                       f"{key}={value}", "--out", str(out)])
    assert_clean(res, out)
    assert (folder / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("args", [
    ["run", "default", "--days", "1000000000"],
    ["run", "default", "--set", "residents.network_k=" + "1" + "0" * 30],
    ["run", "default", "--set", "city.density_peaks=" + "1" + "0" * 30],
    ["run", "default", "--set", "run.seed=" + "9" * 5000],
    ["run", "default", "--set", "police.officers=1e400"],
    ["run", "default", "--seed", str(2**64)],
    ["run", "x" * 5000],
    ["run", "a\x01b"],
    ["show", "default", "--set", "x" * 100_000 + ".y=1"],
])
def test_known_hostile_command_lines_fail_in_one_line(args, tmp_path):
    with time_limit(LIMIT_S):
        res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o")]
                                 if args[0] == "run" else args)
    assert res.exit_code == 2, res.output
    assert_clean(res, tmp_path / "o" if args[0] == "run" else None)


# -- sweep specs ----------------------------------------------------------------------------
spec_value = st.one_of(
    st.integers(-5, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.booleans(), st.lists(st.integers(0, 200), max_size=5),
    st.sampled_from(["factorial", "lhs", "sobol", "morris", "saltelli", "custom"]),
    st.dictionaries(st.sampled_from(KNOWN), st.one_of(
        st.lists(st.integers(0, 300), min_size=1, max_size=12, unique=True),
        st.lists(st.floats(0, 1), min_size=2, max_size=2)), max_size=10))


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(sorted(TOP_KEYS)), spec_value, max_size=7))
def test_hostile_sweep_specs_load_or_fail_in_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("spec") / "spec.toml"
    try:
        path.write_text(tomli_w.dumps(data))
    except (TypeError, ValueError):
        return  # not representable in TOML
    with time_limit(LIMIT_S):
        try:
            spec = load_spec(path)
        except SpecError as exc:
            msg = str(exc)
            assert "\n" not in msg and len(msg) <= MAX_LINE, msg[:500]
            return
    assert spec.n_runs <= MAX_RUNS


@pytest.mark.parametrize(("spec", "field"), [
    ({"replications": 10**9, "factors": {"police.officers": [100, 120]}}, "replications"),
    ({"design": "lhs", "samples": 10**9, "factors": {"police.officers": [100, 120]}},
     "samples"),
    ({"design": "morris", "samples": 10**9, "factors": {"police.officers": [100, 120]}},
     "samples"),
    ({"design": "lhs", "samples": 200_000, "factors": {"police.officers": [100, 120]}},
     "design"),
    ({"factors": {k: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] for k in [
        "residents.experience_rate", "residents.trust_rate_ratio", "residents.word_of_mouth",
        "residents.response_weight", "residents.clearance_weight", "residents.conduct_weight",
        "residents.presence_gain", "residents.vehicle_visibility",
        "residents.contact_familiarity_gain", "residents.contact_trust_gain"]}}, "design"),
    ({"factors": {"police.officers": list(range(20_000))}}, "factors.police.officers"),
    ({"days": 10**9}, "days"),
    ({"seed": 2**64}, "seed"),
])
def test_oversized_sweeps_are_refused_with_their_size(tmp_path, spec, field):
    path = tmp_path / "big.toml"
    path.write_text(tomli_w.dumps(spec))
    with time_limit(LIMIT_S):
        res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert_clean(res)
    assert res.exit_code == 2 and res.output.startswith(f"error: {field}"), res.output
    if field == "design":
        assert "runs" in res.output and "on one core" in res.output
    assert not (tmp_path / "o").exists()


def test_every_numeric_parameter_declares_an_upper_bound():
    """A size a typo can blow up must have a bound checked before any work."""
    unbounded = [name for name, value, info in Scenario().params()
                 if isinstance(value, int | float) and not isinstance(value, bool)
                 and info.hi is None]
    assert unbounded == []
