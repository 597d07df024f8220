"""Start-up: the command line imports no heavy package for ``--help`` or a bad argument.

Whether a command is fast is measured by ``benchmarks/startup_bench.py``; these tests check
the cause (what a fresh process imports) and that the early, light checks say exactly what
the full loaders say.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli import app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"pandas", "mesa", "scipy", "pyarrow", "solara", "dask", "optuna", "geopandas",
         "osmnx", "matplotlib"}
COMMANDS = ["run", "show", "scenarios", "sweep", "optimize", "report", "audit", "viz",
            "validate", "calibrate"]
BAD_ARGS = [
    ["run", "nosuchscenario"],
    ["run", "default", "--days", "-1"],
    ["run", "default", "--seed", "-1"],
    ["run", "default", "--days", "abc"],
    ["run", "default", "--set", "nonsense"],
    ["run", "default", "--set", "run.days=0"],
    ["show", "nosuchscenario"],
    ["calibrate", "nosuchscenario"],
    ["sweep", "nosuch.toml"],
    ["sweep", "experiments/strategy_comparison.toml", "--set", "nonsense"],
    ["sweep", "experiments/strategy_comparison.toml", "--workers", "0"],
    ["optimize", "nosuch.toml"],
    ["audit", "nosuch.toml"],
    ["report", "nosuchstore"],
    ["viz", "--port", "0"],
    ["nosuchcommand"],
]

INVOKE = """
import json, sys
from typer.testing import CliRunner
from experiments.cli import app
codes = [CliRunner().invoke(app, args).exit_code for args in json.loads(sys.argv[1])]
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(json.dumps({{"codes": codes, "heavy": heavy}}))
"""


def fresh(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter from the repository root; return its stdout."""
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def invoke_fresh(argvs: list[list[str]]) -> dict[str, list]:
    """Exit codes of CliRunner invocations in a fresh process, and what it imported."""
    return json.loads(fresh(INVOKE.format(heavy=sorted(HEAVY)), json.dumps(argvs)))


def test_importing_the_cli_imports_no_heavy_package():
    code = ("import experiments.cli, sys; print(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {sorted(HEAVY)!r}))")
    assert fresh(code).strip() == "[]"


def test_the_checker_sees_a_heavy_import():
    code = ("import experiments.cli, sys, pandas; print(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {sorted(HEAVY)!r}))")
    assert "'pandas'" in fresh(code)


def test_help_of_every_command_imports_no_heavy_package():
    found = invoke_fresh([["--help"], *([c, "--help"] for c in COMMANDS)])
    assert found["codes"] == [0] * (len(COMMANDS) + 1)
    assert found["heavy"] == []


def test_bad_arguments_are_refused_before_any_heavy_import():
    found = invoke_fresh(BAD_ARGS)
    assert found["codes"] == [2] * len(BAD_ARGS)
    assert found["heavy"] == []


def test_help_shows_bracketed_text_literally():
    result = CliRunner().invoke(app, ["sweep", "--help"])
    assert result.exit_code == 0
    assert "[quick]" in result.output


# -- the light checks say what the full loaders say --------------------------------------


def _scenario_cases(tmp: Path) -> dict[str, tuple[str | None, list[str]]]:
    broken = tmp / "broken.toml"
    broken.write_text("[police\nofficers = 3\n")
    binary = tmp / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    return {
        "missing": (str(tmp / "missing.toml"), []),
        "unknown preset": ("no_such_preset", []),
        "directory": (str(tmp), []),
        "broken toml": (str(broken), []),
        "not text": (str(binary), []),
        "malformed override": ("default", ["police.officers"]),
        "bad key syntax": ("default", ["police.=3"]),
        "days below 1": ("default", ["run.days=-1"]),
        "days not an integer": ("default", ["run.days=1.5"]),
        "days as text": ("default", ["run.days=many"]),
        "seed below 0": (None, ["run.seed=-1"]),
        "later override wins": ("default", ["run.days=5", "run.days=0"]),
    }


SCENARIO_CASES = ["missing", "unknown preset", "directory", "broken toml", "not text",
                  "malformed override", "bad key syntax", "days below 1",
                  "days not an integer", "days as text", "seed below 0", "later override wins"]


def test_the_case_list_is_the_cases(tmp_path):
    assert sorted(_scenario_cases(tmp_path)) == sorted(SCENARIO_CASES)


@pytest.mark.parametrize("case", SCENARIO_CASES)
def test_precheck_reports_what_load_scenario_reports(tmp_path, case):
    from sim.scenario import ScenarioError, load_scenario
    from sim.scenario_input import precheck

    source, overrides = _scenario_cases(tmp_path)[case]
    with pytest.raises(ScenarioError) as light:
        precheck(source, overrides)
    with pytest.raises(ScenarioError) as full:
        load_scenario(source, overrides)
    assert str(light.value) == str(full.value)


@pytest.mark.parametrize("overrides", [[], ["run.days=30", "run.seed=7"],
                                       ["police.officerz=3"], ["run.nosuch=1"]])
def test_precheck_passes_what_it_cannot_judge(overrides):
    from sim.scenario_input import precheck

    precheck("default", overrides)  # an unknown key is left to the full loader


def _spec_cases(tmp: Path) -> dict[str, Path]:
    broken = tmp / "broken.toml"
    broken.write_text("[factors\n")
    return {"missing": tmp / "missing.toml", "directory": tmp, "broken toml": broken}


@pytest.mark.parametrize("command", ["sweep", "audit", "optimize"])
@pytest.mark.parametrize("case", ["missing", "directory", "broken toml"])
def test_spec_file_check_reports_what_the_spec_loader_reports(tmp_path, command, case):
    from experiments.optimize_spec import load_optimize_spec
    from experiments.spec import load_spec
    from experiments.spec_model import SpecError

    path = _spec_cases(tmp_path)[case]
    loader = load_optimize_spec if command == "optimize" else load_spec
    with pytest.raises(SpecError) as full:
        loader(path)
    result = CliRunner().invoke(app, [command, str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {full.value}"
