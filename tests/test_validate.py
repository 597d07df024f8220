"""Tests of ``grassroots validate``: the statistics helpers and the quick validation run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.validate import (
    Check,
    Estimate,
    Report,
    batch_means,
    batch_means_estimate,
    format_table,
    mean_estimate,
    time_average_count,
    time_batches,
)


def test_mean_estimate_matches_t_interval() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    est = mean_estimate(x)
    assert est.mean == pytest.approx(3.0)
    assert est.se == pytest.approx(np.std(x, ddof=1) / math.sqrt(5))
    assert est.df == 4
    lo, hi = est.ci(0.95)
    # t_{0.975, 4} = 2.7764
    assert hi - 3.0 == pytest.approx(2.7764451 * est.se, rel=1e-6)
    assert lo == pytest.approx(6.0 - hi)


def test_mean_estimate_degenerate() -> None:
    assert math.isnan(mean_estimate([]).mean)
    one = mean_estimate([2.0])
    assert one.mean == 2.0 and all(math.isnan(v) for v in one.ci())
    assert one.agrees(2.0) and not one.agrees(2.1)


def test_batch_means_uses_every_observation() -> None:
    x = np.arange(103, dtype=float)
    b = batch_means(x, 10)
    assert b.size == 10
    sizes = [len(p) for p in np.array_split(x, 10)]
    assert np.dot(b, sizes) == pytest.approx(x.sum())
    with pytest.raises(ValueError):
        batch_means(np.arange(5.0), 10)
    with pytest.raises(ValueError):
        batch_means(x, 0)


def test_batch_means_ci_covers_ar1_mean() -> None:
    """Batch means give honest coverage on an autocorrelated series (AR(1), phi = 0.9)."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(1)
    hits = 0
    n_rep = 200
    for _ in range(n_rep):
        e = rng.standard_normal(20_000)
        e[0] /= math.sqrt(1 - 0.81)  # start in the stationary distribution
        x = lfilter([1.0], [1.0, -0.9], e)
        hits += batch_means_estimate(x, 20).agrees(0.0, level=0.95)
    # Nominal 95%; naive i.i.d. intervals would cover only ~ 40% here.
    assert 0.88 <= hits / n_rep <= 0.99


def test_estimate_agrees_with_atol() -> None:
    est = Estimate(1.0, 0.01, 30)
    assert est.agrees(1.02)
    assert not est.agrees(1.1)
    assert est.agrees(1.1, atol=0.08)


def test_time_helpers() -> None:
    k = time_batches(np.array([-1.0, 0.0, 4.9, 5.0, 9.99, 10.0]), 0.0, 10.0, 2)
    assert k.tolist() == [-1, 0, 0, 1, 1, -1]
    # Two intervals: [0, 4) and [2, 12) over the window [1, 11): (3 + 9) / 10.
    assert time_average_count(np.array([0.0, 2.0]), np.array([4.0, 12.0]), 1.0, 11.0) == \
        pytest.approx(1.2)


def test_format_table_and_json() -> None:
    rep = Report(quick=True, checks=[
        Check("1", "a", "cfg", 1.0, 0.9, 1.1, 1.05, True),
        Check("2", "bbb", "cfg2", math.nan, math.nan, math.nan, 2.0, False, note="why"),
    ], seconds=1.0)
    text = format_table(rep)
    lines = text.splitlines()
    assert "PASS" in lines[2] and "FAIL" in lines[3]
    assert len({line.index("theory") for line in lines[:1]}) == 1
    assert "1/2 checks passed" in text and "why" in text
    data = rep.to_json()
    assert data["passed"] is False and data["checks"][1]["value"] is None
    json.dumps(data)


@pytest.mark.slow
def test_validate_quick_cli(tmp_path) -> None:
    """The quick validation passes end to end and writes its JSON."""
    out = tmp_path / "v.json"
    result = CliRunner().invoke(app, ["validate", "--quick", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.stdout
    data = json.loads(out.read_text())
    assert data["passed"] and data["quick"]
    groups = {c["group"] for c in data["checks"]}
    assert groups == {"1", "2", "3", "4", "5"}
    assert all(c["passed"] for c in data["checks"])


def test_validate_cli_exits_1_on_fail(monkeypatch, tmp_path) -> None:
    import experiments.validate as v

    failing = Report(quick=True, checks=[Check("1", "x", "c", 1.0, 0.9, 1.1, 2.0, False)])
    monkeypatch.setattr(v, "run_validation", lambda **_kw: failing)
    out = tmp_path / "f.json"
    result = CliRunner().invoke(app, ["validate", "--quick", "--json", str(out)])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and json.loads(out.read_text())["passed"] is False
