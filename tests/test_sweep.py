"""Sweeps: spec validation, designs, common random numbers, backends, resume, failures."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.spec import SpecError, load_spec
from experiments.store import Store, StoreError
from experiments.sweep import load_results, replay_command, run_sweep
from sim.api import run as run_model
from sim.rng import DEFAULT_SEED
from sim.strategies import registry
from sim.strategies.base import Strategy

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"city.width": 12, "city.height": 12, "city.community_cells": 4,
         "police.officers": 20, "residents.agents": 300}
TABLES = ("runs", "daily", "communities", "rt_hist")


def small(**extra):
    """A tiny sweep: 2 x 2 points, 2 replications, 3 days on a 12 x 12 city."""
    spec = {"name": "small", "replications": 2, "days": 3, "set": dict(SMALL),
            "factors": {"police.officers": [10, 20], "dispatch.hops": [1, 3]}}
    spec.update(extra)
    return spec


def write_toml(path: Path, spec: dict) -> Path:
    import tomli_w

    path.write_text(tomli_w.dumps(spec))
    return path


# -- spec validation ----------------------------------------------------------------------
@pytest.mark.parametrize(("change", "message"), [
    ({"factors": {"police.officerz": [1, 2]}}, "factors.police.officerz: unknown scenario key"),
    ({"factors": {"police.officers": [-5]}}, "factors.police.officers: level -5: must be >= 0"),
    ({"factors": {"police.officers": [10, 10]}}, "factors.police.officers: levels must be"),
    ({"factors": {"police.officers": 10}}, "factors.police.officers: expected a non-empty list"),
    ({"factors": {"strategy.name": ["centralized", "nope"]}},
     "factors.strategy.name: unknown strategy 'nope'"),
    ({"factors": {"run.days": [1, 2]}}, "factors.run.days: set `seed` and `days`"),
    ({"replications": 0}, "replications: must be >= 1"),
    ({"days": "ten"}, "days: expected an integer"),
    ({"design": "taguchi"}, "design: must be one of"),
    ({"colour": "red"}, "colour: unknown key"),
    ({"base": "no_such_preset"}, "base: no_such_preset: no such file or preset"),
    ({"set": {"police.share_hq": 0.9}}, "set.police.share_hq: tier shares must add up to 1"),
    ({"design": "lhs"}, "samples: a lhs design needs `samples`"),
    ({"design": "sobol", "samples": 6}, "samples: a sobol design needs a power of 2"),
    ({"design": "lhs", "samples": 4, "factors": {"police.officers": [30, 10]}},
     "factors.police.officers: range [lo, hi] needs lo < hi"),
    ({"design": "morris", "samples": 4, "factors": {"strategy.name": [1, 2]}},
     "factors.strategy.name: a sampled design can only vary numbers"),
    ({"baseline": "station"}, "baseline: needs a factor with levels"),
    ({"baseline_factor": "police.officers", "baseline": 15},
     "baseline: 15 is not a level of police.officers"),
    ({"outputs": "response_time_mean"}, "outputs: expected a list of names"),
    ({"quick": {"replicates": 2}}, None),  # only checked with --quick, below
])
def test_invalid_specs_raise_one_line(change, message):
    if message is None:
        with pytest.raises(SpecError, match=r"quick.replicates: unknown key"):
            load_spec(small(**change), quick=True)
        return
    with pytest.raises(SpecError) as info:
        load_spec(small(**change))
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_spec_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(SpecError, match=r"bad\.toml: not valid TOML"):
        load_spec(bad)
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.toml")


def test_unknown_output_is_refused_before_running(tmp_path):
    with pytest.raises(SpecError, match="outputs: unknown indicator 'response_time_meen'"):
        run_sweep(small(outputs=["response_time_meen"]), out=tmp_path / "s", workers=1)
    assert not (tmp_path / "s").exists()


def test_cli_reports_spec_errors_in_one_line(tmp_path):
    spec = write_toml(tmp_path / "bad.toml", small(factors={"police.officerz": [1]}))
    res = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == \
        "error: factors.police.officerz: unknown scenario key"


# -- designs ------------------------------------------------------------------------------
def test_factorial_design_size_and_order():
    spec = load_spec(small(factors={"strategy.name": ["centralized", "station", "community"],
                                    "police.officers": [10, 20.0]}, replications=4))
    assert spec.n_points == 6
    assert spec.n_runs == 24
    assert spec.points["strategy.name"].tolist()[:2] == ["centralized", "centralized"]
    assert spec.points["police.officers"].tolist() == [10, 20] * 3
    assert spec.points["police.officers"].dtype == np.int64  # coerced to the key's type


@pytest.mark.parametrize(("design", "samples", "points"), [
    ("lhs", 5, 5), ("sobol", 8, 8), ("morris", 3, 3 * 3), ("saltelli", 4, 4 * 4)])
def test_sampled_designs(design, samples, points):
    spec = load_spec(small(design=design, samples=samples,
                           factors={"police.officers": [10, 30],
                                    "incidents.rate_per_1000_day": [1.0, 4.0]},
                           cross={"dispatch.hops": [1, 2]}))
    assert spec.n_points == 2 * points
    pts = spec.points
    assert pts["police.officers"].between(10, 30).all()
    assert pts["police.officers"].dtype == np.int64
    assert pts["incidents.rate_per_1000_day"].between(1.0, 4.0).all()
    assert (pts["dispatch.hops"].iloc[:points] == 1).all()
    again = load_spec(small(design=design, samples=samples,
                            factors={"police.officers": [10, 30],
                                     "incidents.rate_per_1000_day": [1.0, 4.0]},
                            cross={"dispatch.hops": [1, 2]}))
    pd.testing.assert_frame_equal(pts, again.points)  # the design follows the root seed


@pytest.mark.parametrize("name", ["strategy_comparison", "sinking_dose", "sensitivity"])
def test_shipped_specs_are_valid(name):
    spec = load_spec(ROOT / "experiments" / f"{name}.toml")
    quick = load_spec(ROOT / "experiments" / f"{name}.toml", quick=True)
    assert quick.n_runs < spec.n_runs
    assert quick.fingerprint() != spec.fingerprint()


def test_design_dataframe_is_a_spec():
    design = pd.DataFrame({"police.officers": [10, 20], "dispatch.hops": [1, 2]})
    result = run_sweep(design, replications=2, days=2, set=SMALL, workers=1)
    assert result.runs[["point", "police.officers", "dispatch.hops"]].drop_duplicates() \
        .shape == (2, 3)
    assert len(result.runs) == 4
    assert (result.runs["status"] == "ok").all()


# -- seeds --------------------------------------------------------------------------------
def test_common_random_numbers_and_replay():
    spec = small(factors={"police.officers": [10, 20]}, replications=2,
                 set={**SMALL, "hazard.deterrence": False, "hazard.near_repeat": False})
    result = run_sweep(spec, workers=1)
    runs = result.runs
    assert (runs["seed"] == DEFAULT_SEED).all()
    assert runs["spawn_key"].tolist() == [0, 1, 0, 1]
    by_rep = runs.pivot(index="rep", columns="police.officers", values="incidents_true")
    assert (by_rep[10] == by_rep[20]).all()  # same incidents in a replication
    assert by_rep.loc[0, 10] != by_rep.loc[1, 10]  # different ones across replications
    sweep = result.spec
    occ = {}
    for point in range(2):
        row = runs[(runs["point"] == point) & (runs["rep"] == 1)].iloc[0]
        seed = np.random.SeedSequence(entropy=int(row["seed"]), spawn_key=(int(row["spawn_key"]),))
        replay = run_model(sweep.scenario_for(point), seed=seed, days=sweep.days)
        assert replay.summary["response_time_mean"] == row["response_time_mean"]
        occ[point] = replay.incidents["t_occur"].to_numpy()
    np.testing.assert_array_equal(occ[0], occ[1])


def test_replay_command_reproduces_a_run(tmp_path):
    result = run_sweep(small(factors={"strategy.name": ["centralized", "community"]},
                             replications=2), out=tmp_path / "s", workers=1)
    row = result.runs.iloc[3]
    cmd = replay_command(tmp_path / "s", result.spec, int(row["point"]), int(row["rep"]))
    args = shlex.split(cmd)[2:]
    assert "--spawn-key" in args
    res = CliRunner().invoke(app, ["run", *args])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("response_time_mean "))
    assert float(line.split()[1]) == pytest.approx(row["response_time_mean"], rel=1e-3)


# -- backends -----------------------------------------------------------------------------
def test_serial_equals_process_pool_equals_dask(tmp_path):
    from distributed import Client, LocalCluster

    spec = small(factors={"police.officers": [10, 20], "strategy.name": ["centralized",
                                                                        "community"]})
    serial = run_sweep(spec, out=tmp_path / "serial", workers=1)
    pool = run_sweep(spec, out=tmp_path / "pool", workers=2)
    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = run_sweep(spec, out=tmp_path / "dask", dask=client)
    assert serial.n_failed == 0
    assert len(serial.runs) == 8
    for other in (pool, dask):
        for table in TABLES:
            pd.testing.assert_frame_equal(getattr(serial, table), getattr(other, table))
    assert set(pool.timing["worker"]) != set(serial.timing["worker"])


# -- store and resume ---------------------------------------------------------------------
def test_store_refuses_other_sweeps_and_folders(tmp_path):
    out = tmp_path / "s"
    run_sweep(small(), out=out, workers=1)
    run_sweep(small(), out=out, workers=1)  # complete: nothing to do, no error
    with pytest.raises(StoreError, match="holds a different sweep"):
        run_sweep(small(days=2), out=out, workers=1)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is not a sweep store"):
        run_sweep(small(), out=tmp_path / "other", workers=1)
    forced = run_sweep(small(days=2), out=out, workers=1, force=True)
    assert forced.n_executed == 8


def test_resume_after_kill_loses_and_repeats_nothing(tmp_path):
    spec = write_toml(tmp_path / "kill.toml",
                      small(factors={"police.officers": [10, 20]}, replications=20, days=4))
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "sweep", str(spec),
                             "--out", str(out), "--workers", "1", "--no-progress"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("part-*.parquet"))) < 5:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    store = Store(out)
    done = store.done_ids()
    assert 5 <= len(done) < 40
    before = {rid: (store.part("runs", rid).stat().st_mtime_ns,
                    pd.read_parquet(store.part("runs", rid))) for rid in done}
    with pytest.raises(StoreError, match="use --resume"):
        run_sweep(spec, out=out, workers=1)
    resumed = run_sweep(spec, out=out, workers=1, resume=True)
    assert resumed.n_executed == 40 - len(done)
    ids = resumed.runs["run_id"]
    assert ids.is_unique
    assert len(ids) == 40
    for rid, (mtime, frame) in before.items():
        assert store.part("runs", rid).stat().st_mtime_ns == mtime  # not rerun
        row = resumed.runs[resumed.runs["run_id"] == rid].reset_index(drop=True)
        pd.testing.assert_frame_equal(row, frame, check_dtype=False)
    fresh = run_sweep(spec, workers=1)
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(resumed, table), getattr(fresh, table))


# -- failures -----------------------------------------------------------------------------
class Exploding(Strategy):
    """A strategy that fails while organising the force."""

    name = "exploding"

    def organise(self, model):
        raise RuntimeError("boom: injected failure")


@pytest.fixture
def exploding(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "exploding", Exploding)


def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path, exploding):
    spec = small(factors={"strategy.name": ["centralized", "exploding"]}, replications=3)
    result = run_sweep(spec, out=tmp_path / "s", workers=1)
    assert len(result.runs) == 6
    assert result.n_failed == 3
    failed = result.failed
    assert (failed["strategy.name"] == "exploding").all()
    assert (failed["error"] == "RuntimeError: boom: injected failure").all()
    assert failed["traceback"].str.contains("organise").all()
    ok = result.runs[result.runs["status"] == "ok"]
    assert ok["response_time_mean"].notna().all()
    assert set(result.daily["run_id"]) == set(ok["run_id"])
    loaded = load_results(tmp_path / "s")
    pd.testing.assert_frame_equal(loaded.runs, result.runs)


def test_cli_exit_status_counts_failed_runs(tmp_path, exploding):
    spec = write_toml(tmp_path / "f.toml", small(factors={"strategy.name": ["centralized",
                                                                          "exploding"]}))
    out = tmp_path / "s"
    res = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 1  # failed runs: 1 (2 is an invalid input)
    assert "error: 2 of 4 runs failed" in res.output
    assert "replay: grassroots run" in res.output
    res = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1"])
    assert res.exit_code == 2 and "use --resume" in res.output
    res = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1",
                                   "--resume"])
    assert res.exit_code == 1  # failed runs are retried on resume, and fail again
    assert "2 runs in" in res.output


def test_outputs_and_daily_columns_are_kept_as_asked():
    result = run_sweep(small(outputs=["response_time_mean", "clearance_rate"],
                             daily=["response_time_mean"]), workers=1)
    assert "clearance_rate" in result.runs.columns
    assert "utilization_mean" not in result.runs.columns
    assert list(result.daily.columns[-2:]) == ["day", "response_time_mean"]
