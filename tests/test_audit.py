"""The assumption audit: its design, common random numbers, flags, outputs and CLI."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import TINY
from typer.testing import CliRunner

from experiments import audit
from experiments.audit import ENDS, load_audit
from experiments.audit_output import build_report, summary_lines, write_audit
from experiments.audit_run import audit_tasks, run_audit
from experiments.audit_stats import HALVES, REVERSES, audit_table, judge
from experiments.cli import app, main
from experiments.spec import SpecError
from sim.api import run as run_model
from sim.outputs import MARKER, read_marker, write_marker

SMALL = {k: v for k, v in TINY.items() if k != "run.days"}
PARAMS = ("dispatch.hop_delay_min", "police.turnout_min")
# A comparison whose sign depends on dispatch.hop_delay_min (d): the platform (tech = true)
# halves a 6-minute call handling but adds one relay hop, so its dispatch delay minus the
# baseline's is 0.5 * 6 - 6 + 1 * d = d - 3: -1 at the base value 2, -2 at the low end 1 and
# +1 at the high end 4 (reversed). Chain noise is off, hazard feedback too (same incidents).
FLIP = {
    "name": "flip", "base": "default", "replications": 2, "days": 2,
    "set": {**SMALL, "dispatch.hops": 0, "strategy.tech_hops": 1,
            "strategy.tech_handling_factor": 0.5, "dispatch.call_handling_min": 6.0,
            "dispatch.delay_sigma": 0.0, "hazard.deterrence": False,
            "hazard.near_repeat": False},
    "factors": {"strategy.tech": [False, True]},
    "baseline_factor": "strategy.tech", "baseline": False,
}
INDICATORS = ["dispatch_delay_mean", "response_time_mean"]


def only(names: tuple[str, ...]):
    """A stand-in for :func:`experiments.audit.plausible_params` keeping ``names`` only."""
    real = audit.plausible_params
    return lambda scenario: [a for a in real(scenario) if a.name in names]


@pytest.fixture
def few_params(monkeypatch):
    monkeypatch.setattr(audit, "plausible_params", only(PARAMS))


@pytest.fixture(scope="module")
def flip_result():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audit, "plausible_params", only(PARAMS))
        plan = load_audit(FLIP, indicators=INDICATORS)
    return run_audit(plan, workers=1, progress=False)


def write_spec(path: Path, spec: dict) -> Path:
    path.write_text(tomli_w.dumps(spec))
    return path


# -- the design -------------------------------------------------------------------------------
def test_the_design_has_a_run_per_setting_point_and_replication(monkeypatch):
    names = (*PARAMS, "police.skill_mean")
    monkeypatch.setattr(audit, "plausible_params", only(names))
    spec = {"name": "three", "replications": 2, "days": 2, "set": SMALL,
            "factors": {"strategy.name": ["centralized", "station", "community"]}}
    plan = load_audit(spec)
    assert sorted(a.name for a in plan.assumptions) == sorted(names)
    assert len(plan.settings) == 1 + 2 * len(names)
    assert [(c.point, c.baseline_point) for c in plan.comparisons] == [(1, 0), (2, 0)]
    assert plan.n_runs == 3 * 7 * 2
    tasks = audit_tasks(plan)
    assert len(tasks) == plan.n_runs and len({t.run_id for t in tasks}) == plan.n_runs
    assert {t.seed for t in tasks} == {plan.spec.seed}
    assert sorted({t.rep for t in tasks}) == [0, 1]
    for s in plan.settings[1:]:
        a = plan.assumption(s.param)
        assert s.value == (a.low if s.end == "low" else a.high)
        for point in plan.points:
            values = {n: v for n, v, _ in plan.scenarios[s.index, point].params()}
            assert values[s.param] == s.value
            others = [x for x in names if x != s.param]
            assert all(values[x] == plan.assumption(x).value for x in others)
    assert [s.end for s in plan.settings] == ["base", *ENDS * len(names)]


def test_every_declared_assumption_is_audited_by_default():
    plan_params = audit.plausible_params(load_audit(FLIP, params=PARAMS).spec.scenario)
    assert len(plan_params) >= 20
    assert all(a.low <= a.high for a in plan_params)
    assert "dispatch.hop_delay_min" in {a.name for a in plan_params}


def test_quick_caps_replications_and_days(few_params):
    spec = {**FLIP, "replications": 10, "days": 90, "quick": {"replications": 5, "days": 60}}
    plan = load_audit(spec, quick=True)
    assert (plan.spec.replications, plan.spec.days) == (audit.QUICK_REPLICATIONS,
                                                        audit.QUICK_DAYS)
    assert plan.spec.name == "flip-quick"
    short = load_audit({**spec, "quick": {"replications": 1, "days": 3}}, quick=True)
    assert (short.spec.replications, short.spec.days) == (1, 3)


@pytest.mark.parametrize(("change", "message"), [
    ({"factors": {"strategy.name": ["centralized"]}}, "baseline"),
    ({"factors": {"police.officers": [4, 6]}, "baseline_factor": None, "baseline": None},
     "baseline"),
])
def test_a_spec_without_a_comparison_is_refused(few_params, change, message):
    spec = {k: v for k, v in {**FLIP, **change}.items() if v is not None}
    with pytest.raises(SpecError, match=message):
        load_audit(spec)


def test_bad_indicator_and_parameter_names_are_refused():
    with pytest.raises(SpecError, match="indicator: unknown"):
        load_audit(FLIP, indicators=["no_such_indicator"], params=PARAMS)
    with pytest.raises(SpecError, match=r"police\.officers.*no plausible range"):
        load_audit(FLIP, params=["police.officers"])


# -- common random numbers ------------------------------------------------------------------
def test_every_point_and_setting_share_the_replication_seeds(flip_result):
    runs = flip_result.runs
    assert (runs["status"] == "ok").all()
    assert len(runs) == flip_result.plan.n_runs
    assert (runs["spawn_key"] == runs["rep"]).all()
    assert runs["seed"].nunique() == 1
    keys = runs.groupby(["setting", "rep"])[["seed", "spawn_key"]].nunique()
    assert (keys == 1).all().all()


def test_baseline_and_point_face_the_same_incidents(flip_result):
    plan = flip_result.plan
    high = next(s for s in plan.settings if s.param == "dispatch.hop_delay_min"
                and s.end == "high")
    tasks = {(t.point, t.rep): t for t in audit_tasks(plan)
             if t.run_id.startswith(f"s{high.index:03d}-")}
    (c,) = plan.comparisons
    replays = {}
    for point in (c.baseline_point, c.point):
        task = tasks[point, 1]
        seed = np.random.SeedSequence(entropy=task.seed, spawn_key=(task.rep,))
        replays[point] = run_model(task.scenario, seed=seed, days=task.days)
        row = flip_result.runs.set_index("run_id").loc[task.run_id]
        assert replays[point].summary["dispatch_delay_mean"] == row["dispatch_delay_mean"]
    cols = ["t_occur", "x", "y", "priority"]
    a = replays[c.baseline_point].incidents[cols].reset_index(drop=True)
    b = replays[c.point].incidents[cols].reset_index(drop=True)
    assert len(a) > 5
    pd.testing.assert_frame_equal(a, b)


# -- differences and flags ------------------------------------------------------------------
def test_judge_reverses_and_halves():
    assert judge(-1.0, 0.3) == REVERSES
    assert judge(-1.0, -0.4) == HALVES
    assert judge(-1.0, 0.0) == HALVES
    assert judge(-1.0, -0.6) == "" and judge(-1.0, -3.0) == ""
    assert judge(0.0, 1.0) == "" and judge(math.nan, 1.0) == "" and judge(1.0, math.nan) == ""


def test_an_assumption_that_flips_the_sign_is_flagged(flip_result):
    table = audit_table(flip_result)
    assert len(table) == 1 * len(INDICATORS) * len(PARAMS) * 2
    delay = table[table["indicator"] == "dispatch_delay_mean"].set_index(["parameter", "end"])
    assert delay["base_diff"].iloc[0] == pytest.approx(-1.0)
    hop = delay.loc["dispatch.hop_delay_min"]
    assert hop.loc["low", "diff"] == pytest.approx(-2.0)
    assert hop.loc["high", "diff"] == pytest.approx(1.0)
    assert hop.loc["high", "change"] == REVERSES and bool(hop.loc["high", "flag"])
    assert not hop.loc["low", "flag"]
    assert hop["swing"].iloc[0] == pytest.approx(3.0)
    turnout = delay.loc["police.turnout_min"]
    assert not turnout["flag"].any()
    assert turnout["diff"].to_numpy() == pytest.approx([-1.0, -1.0])
    # sorted by swing: the hop delay first
    assert table[table["indicator"] == "dispatch_delay_mean"]["parameter"].iloc[0] == \
        "dispatch.hop_delay_min"
    text = "\n".join(summary_lines(build_report(flip_result)))
    assert "reversed by dispatch.hop_delay_min at its high end" in text


# -- outputs ---------------------------------------------------------------------------------
def test_outputs_are_written_and_marked(flip_result, tmp_path):
    out = tmp_path / "audit"
    report = write_audit(flip_result, out)
    assert report.path == out.resolve()
    for name in ("audit.csv", "audit.md", "audit_base.csv", "audit_runs.csv"):
        assert (out / name).is_file(), name
    csv = pd.read_csv(out / "audit.csv")
    assert len(csv) == 8
    assert {"comparison", "indicator", "parameter", "end", "value", "diff", "ci_lo", "ci_hi",
            "flag"} <= set(csv.columns)
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == sorted(f"tornado_tech-true_{i}.png" for i in INDICATORS)
    assert all((out / f).stat().st_size > 1000 for f in report.figures)
    md = (out / "audit.md").read_text()
    assert "reversed by dispatch.hop_delay_min" in md
    assert "## Findings" in md and "tornado_tech-true_dispatch_delay_mean.png" in md
    assert read_marker(out)["kind"] == "audit"
    assert len(pd.read_csv(out / "audit_runs.csv")) == flip_result.plan.n_runs


def test_no_flag_says_so(flip_result):
    plan = flip_result.plan
    keep = [s.index for s in plan.settings if s.param != "dispatch.hop_delay_min"]
    runs = flip_result.runs[flip_result.runs["setting"].isin(keep)]
    plan = dataclasses.replace(plan, assumptions=tuple(a for a in plan.assumptions
                                                       if a.name == "police.turnout_min"),
                               settings=tuple(s for s in plan.settings if s.index in keep))
    report = build_report(dataclasses.replace(flip_result, plan=plan, runs=runs))
    assert report.flags.empty
    assert "No assumption changes a conclusion" in report.markdown


# -- the command line --------------------------------------------------------------------------
def invoke(args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def one_line(result, code=2):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.fixture
def spec_file(tmp_path, few_params):
    return write_spec(tmp_path / "flip.toml", FLIP)


def test_cli_runs_prints_a_summary_and_the_folder(spec_file, tmp_path):
    out = tmp_path / "out"
    res = invoke(["audit", spec_file, "--out", out, "--workers", 1, "-i",
                  "dispatch_delay_mean"])
    assert res.exit_code == 0, res.stderr
    assert "audit flip: 20 runs (0 failed)" in res.stdout
    assert "reversed by dispatch.hop_delay_min" in res.stdout
    assert f"wrote {out}/" in res.stdout
    assert (out / "audit.md").is_file()
    assert (out / "figures" / "tornado_tech-true_dispatch_delay_mean.png").is_file()


def test_cli_missing_spec_is_one_line(tmp_path):
    out = tmp_path / "out"
    line = one_line(invoke(["audit", tmp_path / "missing.toml", "--out", out]))
    assert "missing.toml" in line and "no such spec file" in line
    assert not out.exists()


def test_cli_bad_indicator_names_the_field(spec_file, tmp_path):
    line = one_line(invoke(["audit", spec_file, "--out", tmp_path / "o", "-i", "nope"]))
    assert line.startswith("error: indicator:")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["0", "abc", "-2"])
def test_cli_bad_workers_is_one_line_exit_2(spec_file, tmp_path, monkeypatch, capsys, value):
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["grassroots", "audit", str(spec_file), "--out",
                                      str(out), "--workers", value])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "--workers" in lines[0], err
    assert not out.exists()


def test_cli_force_rules(spec_file, tmp_path):
    out = tmp_path / "out"
    args = ["audit", spec_file, "--out", out, "--workers", 1, "-i", "dispatch_delay_mean"]
    assert invoke(args).exit_code == 0
    before = (out / "audit.csv").read_bytes()
    # an earlier audit is not replaced without --force
    assert "exists and is not empty" in one_line(invoke(args))
    # with --force it is, and nothing is left beside it
    assert invoke([*args, "--force"]).exit_code == 0
    assert (out / "audit.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flip.toml", "out"]
    # a file the user added to it is never deleted
    (out / "notes.md").write_text("mine")
    assert "did not write" in one_line(invoke([*args, "--force"]))
    assert (out / "notes.md").read_text() == "mine"


def test_cli_force_never_replaces_other_folders(spec_file, tmp_path):
    args = ["audit", spec_file, "--workers", 1, "--force", "--out"]
    user = tmp_path / "user"
    user.mkdir()
    (user / "thesis.md").write_text("years")
    assert "not written by grassroots" in one_line(invoke([*args, user]))
    assert [p.name for p in user.iterdir()] == ["thesis.md"]
    other = tmp_path / "run"
    other.mkdir()
    (other / "summary.json").write_text("{}")
    write_marker(other, "run")
    assert "holds a grassroots run output" in one_line(invoke([*args, other]))
    assert json.loads((other / MARKER).read_text())["kind"] == "run"
    assert "choose a new folder" in one_line(invoke([*args, Path(__file__).resolve().parents[1]]))
