"""Reports: confidence intervals, paired differences, sensitivity indices, figures, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from experiments.cli import app
from experiments.report import (
    _indices,
    make_report,
    paired_stats,
    point_stats,
    t_half_width,
)
from experiments.spec import SAMPLE_PREFIX, load_spec
from experiments.sweep import run_sweep

SMALL = {"city.width": 12, "city.height": 12, "city.community_cells": 4,
         "police.officers": 20, "residents.agents": 300}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "store"
    spec = {"name": "rep", "replications": 4, "days": 3, "set": SMALL,
            "baseline": "centralized",
            "factors": {"strategy.name": ["centralized", "community"],
                        "police.officers": [10, 20]}}
    run_sweep(spec, out=out, workers=1)
    return out


# -- statistics ---------------------------------------------------------------------------
def test_point_stats_match_a_t_interval():
    ok = pd.DataFrame({"point": [0, 0, 0, 1, 1, 1], "f": [1, 1, 1, 2, 2, 2],
                       "y": [1.0, 2.0, 3.0, 5.0, 5.0, np.nan]})
    ps = point_stats(ok, ["f"], ["y"]).set_index("point")
    lo, hi = stats.t.interval(0.95, 2, loc=2.0, scale=1.0 / np.sqrt(3))
    assert ps.loc[0, "mean"] == 2.0
    assert ps.loc[0, "ci_lo"] == pytest.approx(lo)
    assert ps.loc[0, "ci_hi"] == pytest.approx(hi)
    assert ps.loc[1, "n"] == 2 and ps.loc[1, "ci_lo"] == 5.0  # NaN left out; zero spread
    assert np.isnan(t_half_width(1.0, 1))


def test_paired_stats_agree_with_scipy_and_measure_variance_reduction():
    rng = np.random.default_rng(0)
    common = rng.normal(100, 20, 12)  # the shared incidents of each replication
    b = common + rng.normal(0, 1, 12)
    a = common + 3 + rng.normal(0, 1, 12)
    out = paired_stats(a, b)
    test = stats.ttest_rel(a, b)
    assert out["p_value"] == pytest.approx(test.pvalue)
    assert out["diff"] == pytest.approx(np.mean(a - b))
    assert out["ci_lo"] < 3 < out["ci_hi"]
    assert out["var_reduction"] > 0.95  # pairing removes the shared variance
    indep = paired_stats(a, rng.permutation(b))
    assert indep["var_reduction"] < out["var_reduction"]


def test_paired_stats_edge_cases():
    same = paired_stats(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert same["diff"] == 0 and same["p_value"] == 1.0 and same["var_reduction"] == 1.0
    shifted = paired_stats(np.array([2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0]))
    assert shifted["p_value"] == 0.0
    one = paired_stats(np.array([1.0, np.nan]), np.array([0.0, 1.0]))
    assert one["n"] == 1 and np.isnan(one["p_value"])


@pytest.mark.parametrize(("design", "samples", "index"), [
    ("saltelli", 256, "ST"), ("morris", 20, "mu_star"), ("lhs", 64, "rho")])
def test_sensitivity_indices_rank_the_influential_factor_first(design, samples, index):
    spec = load_spec({"design": design, "samples": samples, "set": SMALL,
                      "factors": {"incidents.rate_per_1000_day": [1.0, 4.0],
                                  "dispatch.hop_delay_min": [1.0, 4.0],
                                  "police.turnout_min": [0.5, 2.0]}})
    x = spec.points[[SAMPLE_PREFIX + f.key for f in spec.factors]].to_numpy(float)
    y = 10 * x[:, 0] + x[:, 1] + 0.01 * x[:, 2]
    rows = pd.DataFrame(_indices(spec, x, y, "all", "y")).set_index("factor")
    assert rows[index].abs().idxmax() == "incidents.rate_per_1000_day"
    conf = {"ST": "ST_conf", "mu_star": "mu_star_conf", "rho": "rho_lo"}[index]
    assert rows[conf].notna().all()


# -- the report ---------------------------------------------------------------------------
def test_report_writes_markdown_figures_and_tables(store, tmp_path):
    rep = make_report(store, out=tmp_path / "r")
    text = rep.path.read_text()
    assert text == rep.markdown
    assert "# Sweep report: rep" in text
    assert "mean [95% CI]" in text
    assert "## Paired differences against `strategy.name = centralized`" in text
    assert "p=" in text and "paired t-test" in text
    assert "variance reduction by pairing (median)" in text
    assert "## Why they differ: parts of the paired differences" in text
    names = {p.name for p in rep.figures}
    assert {"indicators_vs_officers.png", "response_time_distribution.png",
            "community_gap_map.png", "daily.png", "decomposition.png"} <= names
    for path in rep.figures:
        assert path.read_bytes()[:8] == PNG
        assert f"figures/{path.name}" in text
    paired = pd.read_csv(tmp_path / "r" / "tables" / "paired_differences.csv")
    assert set(paired["point"]) == {2, 3}  # community at 10 and 20 officers
    assert set(paired["baseline_point"]) == {0, 1}
    assert paired["p_value"].between(0, 1).all()
    dec = pd.read_csv(tmp_path / "r" / "tables" / "decomposition.csv")
    assert set(dec["point"]) == {2, 3} and set(dec["baseline_point"]) == {0, 1}
    ps = pd.read_csv(tmp_path / "r" / "tables" / "point_stats.csv")
    assert (ps["ci_lo"] <= ps["mean"]).all() and (ps["mean"] <= ps["ci_hi"]).all()


def test_report_of_a_morris_sweep_has_sensitivity(tmp_path):
    spec = {"name": "morris", "design": "morris", "samples": 2, "replications": 1, "days": 2,
            "set": SMALL, "factors": {"police.officers": [8, 24],
                                      "incidents.rate_per_1000_day": [1.0, 4.0]}}
    result = run_sweep(spec, out=tmp_path / "s", workers=1)
    assert len(result.runs) == 6
    rep = make_report(tmp_path / "s")
    assert rep.path == tmp_path / "s" / "report.md"  # next to the store's tables
    assert "## Sensitivity: Morris" in rep.markdown
    assert "sensitivity.png" in {p.name for p in rep.figures}
    assert any(p.name.startswith("scatter_") for p in rep.figures)


def test_cli_report(store, tmp_path):
    res = CliRunner().invoke(app, ["report", str(store), "--out", str(tmp_path / "r"),
                                   "--baseline", "community", "-i", "clearance_rate"])
    assert res.exit_code == 0, res.output
    assert "against `strategy.name = community`" in res.output
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip().endswith("not a sweep store (no manifest.json; see "
                                       "`grassroots sweep --out`)")
    res = CliRunner().invoke(app, ["report", str(store), "--out", str(tmp_path / "r2"),
                                   "--baseline", "nope"])
    assert res.exit_code == 2
    assert "baseline: 'nope' is not a level" in res.output
