"""The command line: outputs of ``run``, clean one-line errors, ``scenarios`` and ``show``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_KEYS = [
    "days", "seed", "strategy", "incidents_true", "incidents_reported", "reporting_rate",
    "response_time_mean", "response_time_median", "response_time_p90", "dispatch_delay_mean",
    "queue_wait_mean", "travel_time_mean", "on_scene_mean", "clearance_rate",
    "utilization_mean", "response_time_gini", "worst_community_response_time",
]
INCIDENT_COLUMNS = [
    "incident_id", "community", "precinct", "x", "y", "priority", "t_occur", "t_report",
    "t_dispatch", "t_arrive", "t_clear", "reported", "cleared", "officer_id", "officer_tier",
]
TABLES = ("incidents", "daily", "communities")


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def invoke(runner, args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def default_out(runner, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    result = invoke(runner, ["run", "default", "--days", 2, "--out", out])
    assert result.exit_code == 0, result.stderr
    return out, result


def test_run_prints_a_summary_and_writes_the_tables(default_out):
    out, result = default_out
    assert "response_time_mean" in result.stdout
    assert {"summary.json", "scenario.toml", *(f"{t}.parquet" for t in TABLES)} <= {
        p.name for p in out.iterdir()}
    # Nothing left behind next to the output folder (temporary folders are renamed).
    assert [p.name for p in out.parent.iterdir()] == ["out"]


def test_summary_json_has_the_documented_keys(default_out):
    out, _ = default_out
    summary = json.loads((out / "summary.json").read_text())
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    assert missing == []
    assert summary["days"] == 2
    assert summary["seed"] == Scenario().run.seed
    assert summary["strategy"] == "centralized"
    assert summary["incidents_true"] >= summary["incidents_reported"] > 0
    for key in SUMMARY_KEYS[3:]:
        assert summary[key] is None or isinstance(summary[key], int | float), key


def test_incidents_table_has_the_documented_columns(default_out):
    out, _ = default_out
    inc = pd.read_parquet(out / "incidents.parquet")
    missing = [c for c in INCIDENT_COLUMNS if c not in inc.columns]
    assert missing == []
    assert len(inc) == json.loads((out / "summary.json").read_text())["incidents_true"]
    assert inc["incident_id"].is_unique
    assert set(inc["priority"].astype(str)) <= {"emergency", "urgent", "routine"}
    daily = pd.read_parquet(out / "daily.parquet")
    assert daily["day"].tolist() == [0, 1]
    communities = pd.read_parquet(out / "communities.parquet")
    c = Scenario().city
    n_communities = -(-c.width // c.community_cells) * -(-c.height // c.community_cells)
    assert communities["community"].tolist() == list(range(n_communities))


def test_scenario_toml_reruns_to_identical_tables(default_out, runner, tmp_path):
    out, _ = default_out
    written = load_scenario(out / "scenario.toml")
    assert written == load_scenario("default", ["run.days=2"])
    again = tmp_path / "again"
    result = invoke(runner, ["run", out / "scenario.toml", "--out", again])
    assert result.exit_code == 0, result.stderr
    for name in TABLES:
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_parquet(again / f"{name}.parquet"), obj=name)
    assert (out / "summary.json").read_text() == (again / "summary.json").read_text()
    assert (out / "scenario.toml").read_text() == (again / "scenario.toml").read_text()


def test_force_never_replaces_a_folder_grassroots_did_not_write(runner, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    result = invoke(runner, ["run", "default", "--days", 1, "--set", "residents.agents=100",
                             "--out", out, "--force"])
    assert result.exit_code == 2
    assert "was not written by grassroots" in result.stderr
    assert (out / "old.txt").read_text() == "old" and sorted(os.listdir(out)) == ["old.txt"]


def test_force_replaces_an_earlier_run(runner, tmp_path):
    out = tmp_path / "out"
    args = ["run", "default", "--days", 1, "--set", "residents.agents=100", "--out", out]
    assert invoke(runner, args).exit_code == 0
    result = invoke(runner, [*args, "--set", "police.officers=20", "--force"])
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["officers"] == 20
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old copy left


def test_an_empty_existing_folder_is_used(runner, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    result = invoke(runner, ["run", "default", "--days", 1, "--set", "residents.agents=100",
                             "--out", out])
    assert result.exit_code == 0, result.stderr
    assert (out / "summary.json").exists()


# -- bad inputs -------------------------------------------------------------------------------


def _bad_toml(tmp_path: Path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text("[police\nofficers = 3\n")
    return path


def _bad_value_toml(tmp_path: Path) -> Path:
    path = tmp_path / "badvalue.toml"
    path.write_text("[police]\nofficers = \"many\"\n")
    return path


BAD = {
    "unknown key": lambda tmp: ["default", "--set", "police.oficers=3"],
    "unknown section": lambda tmp: ["default", "--set", "polize.officers=3"],
    "wrong type": lambda tmp: ["default", "--set", "police.officers=many"],
    "bool for int": lambda tmp: ["default", "--set", "police.officers=true"],
    "negative count": lambda tmp: ["default", "--set", "police.officers=-3"],
    "share out of range": lambda tmp: ["default", "--set", "police.auxiliary_share=1.5"],
    "tier shares": lambda tmp: ["default", "--set", "police.share_hq=0.9"],
    "malformed override": lambda tmp: ["default", "--set", "police.officers"],
    "zero days": lambda tmp: ["default", "--days", "0"],
    "bad toml file": lambda tmp: [_bad_toml(tmp)],
    "bad value in file": lambda tmp: [_bad_value_toml(tmp)],
    "missing file": lambda tmp: [tmp / "missing.toml"],
    "unknown preset": lambda tmp: ["no_such_preset"],
    "directory": lambda tmp: [tmp],
    "unknown strategy": lambda tmp: ["default", "--set", "strategy.name=no_such_strategy"],
}


def _check_one_line_error(result):
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert lines[0].strip()
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_no_output(runner, tmp_path, case):
    src = tmp_path / "src"
    src.mkdir()
    args = BAD[case](src)
    out = tmp_path / "out"
    result = invoke(runner, ["run", *args, "--days", 1, "--out", out] if case != "zero days"
                    else ["run", *args, "--out", out])
    _check_one_line_error(result)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


@pytest.mark.parametrize("case", ["unknown key", "bad toml file", "missing file"])
def test_bad_input_leaves_an_existing_folder_alone_even_with_force(runner, tmp_path, case):
    src = tmp_path / "src"
    src.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    result = invoke(runner, ["run", *BAD[case](src), "--days", 1, "--out", out, "--force"])
    _check_one_line_error(result)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"


def test_existing_non_empty_folder_without_force(runner, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    result = invoke(runner, ["run", "default", "--days", 1, "--out", out])
    line = _check_one_line_error(result)
    assert "--out" in line or str(out) in line
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_existing_file_as_out_without_force(runner, tmp_path):
    out = tmp_path / "out"
    out.write_text("a file")
    result = invoke(runner, ["run", "default", "--days", 1, "--out", out])
    _check_one_line_error(result)
    assert out.read_text() == "a file"


def test_error_names_the_field(runner, tmp_path):
    result = invoke(runner, ["run", "default", "--set", "police.oficers=3"])
    line = _check_one_line_error(result)
    assert "police.oficers" in line
    result = invoke(runner, ["show", "default", "--set", "police.officers=many"])
    assert "police.officers" in _check_one_line_error(result)


# -- scenarios and show ------------------------------------------------------------------------


def test_scenarios_lists_the_default_preset(runner):
    result = invoke(runner, ["scenarios"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert "default" in names
    for path in (ROOT / "scenarios").glob("*.toml"):
        assert path.stem in names


def test_show_prints_values_units_and_reasons(runner):
    result = invoke(runner, ["show", "default"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    sc = load_scenario("default")
    for name, value, info in sc.params():
        assert name in lines, name
        assert json.dumps(value) in lines[name], name
        assert info.unit in lines[name], name
    assert "km/h" in lines["police.speed_vehicle_kmh"]
    assert "officers" in lines["police.officers"].split(maxsplit=2)[2]


def test_show_toml_is_the_resolved_scenario(runner):
    result = invoke(runner, ["show", "default", "--toml", "--set", "police.officers=77"])
    assert result.exit_code == 0
    data = tomllib.loads(result.stdout)
    assert data["police"]["officers"] == 77
    assert load_scenario("default", ["police.officers=77"]).to_dict() == data


# -- the real entry points ----------------------------------------------------------------------


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def test_console_script_lists_presets(tmp_path):
    exe = Path(sys.executable).parent / "grassroots"
    if not exe.exists():
        pytest.skip("the grassroots console script is not installed in this environment")
    proc = subprocess.run([str(exe), "scenarios"], capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "default" in proc.stdout.split()


def test_python_dash_m_sim_reports_a_bad_override_on_one_line(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", "default", "--days", "1", "--set",
         "police.officers=abc", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path), timeout=120, check=False)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "police.officers" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
