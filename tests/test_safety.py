"""Nothing a user has is ever lost: output folders, --force, rescue, killed sweeps.

Every command that writes (run, sweep, report, calibrate, validate --json) checks its output
location before any work, and replaces only what grassroots itself wrote.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from experiments.cli import app
from experiments.store import Store, StoreError
from experiments.sweep import load_results, run_sweep
from sim.outputs import MARKER, OutputError, check_location, read_marker

ROOT = Path(__file__).resolve().parents[1]
GRASSROOTS = Path(sys.executable).parent / "grassroots"
TINY_RUN = ["--days", "1", "--set", "residents.agents=100", "--set", "city.width=8",
            "--set", "city.height=8", "--set", "city.community_cells=4",
            "--set", "police.officers=10"]
SMALL = {"city.width": 8, "city.height": 8, "city.community_cells": 4,
         "police.officers": 10, "residents.agents": 100}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def user_folder(path: Path) -> Path:
    """A folder holding a user's notes (what must survive everything)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "notes.md").write_text("my notes\n")
    (path / "data").mkdir(exist_ok=True)
    (path / "data" / "calls.csv").write_text("a,b\n1,2\n")
    return path


def cli(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed command in ``cwd`` as a user would."""
    return subprocess.run([str(GRASSROOTS), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def one_error_line(res: subprocess.CompletedProcess) -> str:
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert "Traceback" not in res.stderr, res.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


# -- where outputs may go -----------------------------------------------------------------
@pytest.mark.parametrize("out", [".", "..", "./", "../..", "/", "HOME"])
@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_out_dot_and_ancestors_are_refused_with_files_untouched(tmp_path, out, command):
    home = user_folder(tmp_path / "home")
    work = user_folder(home / "project" / "notes")
    before = snapshot(home)
    target = str(home) if out == "HOME" else out
    env_args = ["default" if command == "run" else "replay_synthetic", *TINY_RUN[:2]]
    res = subprocess.run([str(GRASSROOTS), command, *env_args, "--out", target, "--force"],
                         cwd=work, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HOME": str(home)}, stdin=subprocess.DEVNULL)
    assert res.returncode == 2
    assert "--out" in one_error_line(res)
    assert snapshot(home) == before


def test_every_writing_command_refuses_dot(tmp_path):
    work = user_folder(tmp_path / "work")
    before = snapshot(work)
    store = tmp_path / "store"
    spec = tmp_path / "spec.toml"
    spec.write_text(tomli_w.dumps({"replications": 1, "days": 1, "set": SMALL,
                                   "factors": {"police.officers": [5]}}))
    commands = [["run", "default", "--days", "1", "--out", "."],
                ["sweep", str(spec), "--out", ".", "--force", "--workers", "1"],
                ["sweep", str(spec), "--out", "..", "--resume", "--workers", "1"],
                ["report", str(store), "--out", "."],
                ["validate", "--quick", "--json", "."]]
    assert cli(["sweep", str(spec), "--out", str(store), "--workers", "1"], work).returncode == 0
    for args in commands:
        res = cli(args, work)
        assert res.returncode == 2, (args, res.stderr)
        one_error_line(res)
    assert snapshot(work) == before


def test_check_location_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    for bad, words in [("", "not a usable"), ("a\x00b", "not a usable"), ("x" * 300, "too long"),
                       ("file.txt", "is a file"), ("file.txt/sub", "is a file"),
                       (str(ROOT), "project folder"), (str(ROOT.parent), "contains")]:
        with pytest.raises(OutputError, match=words) as info:
            check_location(bad)
        assert "\n" not in str(info.value) and len(str(info.value)) < 300
    assert check_location("results/new") == (tmp_path / "results" / "new").resolve()
    assert not (tmp_path / "results").exists()  # checking creates nothing


def test_a_symlink_to_the_working_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(OutputError, match="current folder"):
        check_location("link")


# -- --force --------------------------------------------------------------------------------
def test_force_keeps_files_the_user_added_to_an_output(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["run", "default", *TINY_RUN, "--out", str(out)]).exit_code == 0
    assert read_marker(out)["kind"] == "run"
    (out / "my_analysis.ipynb").write_text("{}")
    res = runner.invoke(app, ["run", "default", *TINY_RUN, "--out", str(out), "--force"])
    assert res.exit_code == 2 and "did not write" in res.output
    assert (out / "my_analysis.ipynb").read_text() == "{}"


def test_force_does_not_replace_another_kind_of_output(tmp_path):
    store = tmp_path / "store"
    run_sweep({"replications": 1, "days": 1, "set": SMALL,
               "factors": {"police.officers": [5]}}, out=store, workers=1)
    before = snapshot(store)
    res = CliRunner().invoke(app, ["run", "default", *TINY_RUN, "--out", str(store), "--force"])
    assert res.exit_code == 2 and "sweep" in res.output
    assert snapshot(store) == before


def test_a_replaced_run_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "out"
    for officers in (10, 12, 14):
        res = CliRunner().invoke(app, ["run", "default", *TINY_RUN, "--set",
                                       f"police.officers={officers}", "--out", str(out),
                                       "--force"])
        assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["officers"] == 14
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MARKER, "summary.json", "scenario.toml", "incidents.parquet", "daily.parquet",
         "communities.parquet", *(f"{n}.parquet" for n in _extra_tables(out))])


def _extra_tables(out: Path) -> list[str]:
    known = {"incidents", "daily", "communities"}
    return [p.stem for p in out.glob("*.parquet") if p.stem not in known]


# -- results are never lost after a run -----------------------------------------------------
def test_a_vanished_output_location_rescues_the_results(tmp_path, monkeypatch):
    import sim.api

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    parent = tmp_path / "disk"
    parent.mkdir()
    real_run = sim.api.run

    def run_then_lose_the_disk(*args, **kwargs):
        result = real_run(*args, **kwargs)
        parent.rmdir()
        parent.write_text("the disk is gone")  # the location can no longer hold a folder
        return result

    monkeypatch.setattr(sim.api, "run", run_then_lose_the_disk)
    res = CliRunner().invoke(app, ["run", "default", *TINY_RUN, "--out", str(parent / "o")])
    assert res.exit_code == 1
    assert "saved in" in res.output and "Traceback" not in res.output
    saved = Path(res.output.rsplit("saved in ", 1)[1].strip())
    assert (saved / "summary.json").is_file() and (saved / "incidents.parquet").is_file()
    assert saved.parent == work


def test_validate_json_never_overwrites_a_users_file(tmp_path):
    mine = tmp_path / "results.json"
    mine.write_text('{"my": "data"}')
    res = CliRunner().invoke(app, ["validate", "--quick", "--json", str(mine)])
    assert res.exit_code == 2 and "was not written by grassroots" in res.output
    assert mine.read_text() == '{"my": "data"}'


def test_report_out_refuses_a_users_folder(tmp_path):
    store = tmp_path / "store"
    run_sweep({"replications": 1, "days": 1, "set": SMALL,
               "factors": {"police.officers": [5, 10]}}, out=store, workers=1)
    mine = user_folder(tmp_path / "mine")
    before = snapshot(mine)
    res = CliRunner().invoke(app, ["report", str(store), "--out", str(mine), "--quiet"])
    assert res.exit_code == 2 and "not written by grassroots" in res.output
    assert snapshot(mine) == before
    elsewhere = tmp_path / "report"
    for _ in range(2):  # a report folder is remade in place
        res = CliRunner().invoke(app, ["report", str(store), "--out", str(elsewhere), "--quiet"])
        assert res.exit_code == 0, res.output
    assert (elsewhere / "report.md").is_file() and read_marker(elsewhere)["kind"] == "report"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_os_error_never_reaches_the_user_as_a_traceback(tmp_path):
    res = cli(["run", "default", "--days", "1", "--out", "/proc/grassroots-out"], tmp_path)
    assert res.returncode == 2
    one_error_line(res)


# -- sweep stores -------------------------------------------------------------------------
TINY_SPEC = {"name": "tiny", "replications": 2, "days": 2, "set": SMALL,
             "factors": {"police.officers": [6, 10], "dispatch.hops": [1, 2]}}


def test_store_force_refuses_a_store_holding_user_files(tmp_path):
    store = tmp_path / "s"
    run_sweep(TINY_SPEC, out=store, workers=1)
    (store / "thesis_draft.docx").write_text("years of work")
    with pytest.raises(StoreError, match="did not write"):
        run_sweep({**TINY_SPEC, "days": 1}, out=store, workers=1, force=True)
    assert (store / "thesis_draft.docx").read_text() == "years of work"
    run_sweep(TINY_SPEC, out=store, workers=1, resume=True)  # resuming adds, deletes nothing
    assert (store / "thesis_draft.docx").exists()


def test_a_legacy_half_created_store_can_be_resumed_or_replaced(tmp_path):
    store = tmp_path / "s"
    for table in ("runs", "daily"):
        (store / table).mkdir(parents=True)
    (store / "base.toml").write_text("")  # killed before manifest.json: not a store yet
    with pytest.raises(StoreError, match="--resume or --force"):
        run_sweep(TINY_SPEC, out=store, workers=1)
    assert run_sweep(TINY_SPEC, out=store, workers=1, resume=True).n_failed == 0
    assert len(load_results(store).runs) == 8


KILL_IN_CREATION = """
import os, sys
import experiments.store as store
real = store._atomic_parquet
def die(table, path):
    if path.name == "design.parquet":
        os._exit(9)
    real(table, path)
store._atomic_parquet = die
from experiments.sweep import run_sweep
run_sweep({spec!r}, out={out!r}, workers=1)
"""


def test_a_store_killed_while_being_created_is_resumable(tmp_path):
    out = tmp_path / "s"
    code = KILL_IN_CREATION.format(spec=TINY_SPEC, out=str(out))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 9, res.stderr
    assert not out.exists()  # nothing half-made where the user looks
    assert run_sweep(TINY_SPEC, out=out, workers=1, resume=True).n_failed == 0
    assert not [p for p in tmp_path.iterdir() if p.name != "s"]  # the stale staging is gone


def _sweep_cmd(spec: Path, out: Path, *extra: str) -> list[str]:
    return [str(GRASSROOTS), "sweep", str(spec), "--out", str(out), "--workers", "1",
            "--no-progress", *extra]


@pytest.mark.slow
def test_sweeps_killed_at_random_moments_resume_to_the_same_tables(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(tomli_w.dumps(TINY_SPEC))
    clean = tmp_path / "clean"
    assert subprocess.run(_sweep_cmd(spec, clean), capture_output=True,
                          timeout=300).returncode == 0
    out = tmp_path / "killed"
    rng = random.Random(20261201)
    kills = 0
    for attempt in range(20):
        if kills >= 8:
            break
        flag = "--force" if attempt % 3 == 2 else "--resume"  # --force: work to kill again
        proc = subprocess.Popen(_sweep_cmd(spec, out, flag), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 5.0))  # start-up, creation, runs: anywhere
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and "not a sweep store" not in err, err
    final = subprocess.run(_sweep_cmd(spec, out, "--resume"), capture_output=True, text=True,
                           timeout=300)
    assert final.returncode == 0, final.stderr
    assert kills >= 4
    for table in ("runs", "daily", "communities", "rt_hist"):
        a, b = load_results(clean), load_results(out)
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), obj=table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean", "killed", "tiny.toml"]


def test_store_open_checks_the_location_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from experiments.spec import load_spec

    with pytest.raises(StoreError, match="current folder"):
        Store.open(".", load_spec(TINY_SPEC), force=True)


def test_damaged_parts_and_description_are_redone_by_resume(tmp_path):
    store = tmp_path / "s"
    clean = run_sweep(TINY_SPEC, out=store, workers=1)
    (store / "runs" / "part-p0000-r000.parquet").write_text("garbage")
    (store / "daily" / "part-p0001-r001.parquet").write_bytes(os.urandom(64))
    (store / "spec.toml").write_text("[")
    (store / "design.parquet").unlink()
    with pytest.raises(StoreError, match="damaged"):
        load_results(store)
    again = run_sweep(TINY_SPEC, out=store, workers=1, resume=True)
    assert again.n_executed == 2  # exactly the two damaged runs
    for table in ("runs", "daily", "communities"):
        pd.testing.assert_frame_equal(getattr(clean, table), getattr(load_results(store), table))


@pytest.mark.parametrize("args", [["run", "default", "--days", "abc"], ["viz", "--port", "0"],
                                  ["nosuch"], ["run"], ["sweep", "x.toml", "--workers", "0"],
                                  ["run", "default", "--bogus"]])
def test_usage_errors_are_one_line(tmp_path, args):
    res = cli(args, tmp_path)
    assert res.returncode == 2
    one_error_line(res)
