"""One definition of each shared constant: time units, the quarter, the default seed, the Gini."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import experiments.theory
import sim.incidents
import sim.metrics
from experiments import spec, validate
from sim import units
from sim.rng import DEFAULT_SEED
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for pkg in ("sim", "agents", "experiments")
                 for p in (ROOT / pkg).rglob("*.py"))


def _definitions(name: str) -> list[str]:
    """Modules that assign ``name`` at top level or define a function of that name."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.FunctionDef) and node.name == name:
                found.append(path.relative_to(ROOT).as_posix())
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("name, home", [
    ("MIN_PER_DAY", "sim/units.py"), ("MIN_PER_HOUR", "sim/units.py"),
    ("QUARTER_DAYS", "sim/units.py"), ("DEFAULT_SEED", "sim/rng.py"),
    ("gini", "sim/metrics.py"),
])
def test_each_constant_is_defined_once(name, home):
    assert _definitions(name) == [home]


def test_the_re_exports_are_the_definitions():
    assert sim.incidents.MIN_PER_DAY is units.MIN_PER_DAY
    assert validate.MIN_PER_DAY is units.MIN_PER_DAY
    assert experiments.theory.gini is sim.metrics.gini
    assert "gini" in experiments.theory.__all__


def test_a_quarter_is_the_adaptive_evaluation_period():
    assert units.QUARTER_DAYS == 90
    assert Scenario().strategy.eval_period_days == units.QUARTER_DAYS


def test_every_default_seed_is_the_one_seed():
    assert Scenario().run.seed == DEFAULT_SEED
    assert spec.DEFAULT_SEED == DEFAULT_SEED
    assert inspect.signature(validate.run_validation).parameters["seed"].default == DEFAULT_SEED


def test_the_cli_validate_seed_is_the_one_seed():
    from experiments import cli

    default = inspect.signature(cli.validate).parameters["seed"].default
    assert default == DEFAULT_SEED


def test_gini_unweighted_and_weighted_agree():
    x = np.random.default_rng(3).gamma(2.0, size=50)
    gini = sim.metrics.gini
    assert gini(x) == pytest.approx(gini(x, np.ones_like(x)), rel=1e-12)
    assert gini([2.0, 2.0]) == 0.0 and gini([0.0, 0.0]) == 0.0
    with pytest.raises(ValueError):
        gini([])
    with pytest.raises(ValueError):
        gini([1.0, np.nan])
