"""The validation table and the calibration report say what they compute.

* the printed interval is the one the pass rule uses, and the header names its level;
* Little's law is checked against the configured arrival rate and Erlang C, not only against
  the run's own rate and wait;
* counts print as integers with thousands separators, other numbers with 4 significant
  digits;
* configuration values are values, never estimates with an interval;
* ``grassroots calibrate`` in replay mode does not compare the data with themselves, gives
  verdicts with CIs for what it compares and writes the long tables to files.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import theory
from experiments.calibrate import Comparison, _mean_difference, calibrate
from experiments.cli import app
from experiments.validate import (
    DECISION_LEVEL,
    LEVEL,
    Check,
    Estimate,
    Report,
    check_mmc,
    format_table,
    write_json,
)
from experiments.validate_table import config_text, fmt_config_value, fmt_number
from sim.scenario import load_scenario


def _table(*checks: Check) -> str:
    return format_table(Report(quick=True, checks=list(checks), seconds=1.0))


# -- 1. the interval printed is the interval of the rule -------------------------------------
def test_header_names_the_level_of_the_pass_rule() -> None:
    header = _table(Check("1", "a", "cfg", 1.0, 0.9, 1.1, 1.0, True)).splitlines()[0]
    assert LEVEL == DECISION_LEVEL == 0.995
    assert "99.5% CI" in header and "95% CI" not in header.replace("99.5% CI", "")


def test_printed_interval_decides_the_verdict() -> None:
    # Theory between the 95% and the 99.5% bounds: inside the printed interval, so PASS.
    est = Estimate(0.0, 1.0, math.inf)
    row = Check.from_estimate("1", "x", {"c": 1}, est, 2.3)
    assert (row.lo, row.hi) == pytest.approx(est.ci(DECISION_LEVEL))
    assert row.lo < 2.3 < row.hi and row.passed
    assert not Check.from_estimate("1", "x", {"c": 1}, est, 2.9).passed  # outside: FAIL
    for theory_value in np.linspace(-4, 4, 81):
        r = Check.from_estimate("1", "x", {"c": 1}, est, float(theory_value))
        assert r.passed == (r.lo <= theory_value <= r.hi)


def test_rows_with_another_rule_are_marked_and_the_rule_printed() -> None:
    text = _table(Check("4", "p", "cfg", 0.3, math.nan, math.nan, 0.005, True,
                        rule="PASS when p >= 0.005"),
                  Check.from_estimate("5", "d", {"c": 2}, Estimate(0.0, 1.0, 10), 0.0,
                                      atol=0.5))
    assert "PASS*" in text and "PASS when p >= 0.005" in text
    assert "widened by +/-0.5000" in text
    assert "rule: PASS when the theory value lies inside the 99.5% confidence interval" in text


def test_json_names_the_one_level(tmp_path) -> None:
    rep = Report(quick=True, checks=[Check("1", "a", {"c": 3, "rho": 0.9}, 1.0, 0.9, 1.1,
                                           1.0, True)])
    data = json.loads(write_json(rep, tmp_path / "v.json").read_text())
    assert data["ci_level"] == 0.995 and "confidence_level" not in data
    assert "99.5%" in data["pass_rule"]
    assert data["checks"][0]["config"] == {"c": 3, "rho": 0.9}


# -- 2. Little's law against the configured rate and Erlang C --------------------------------
@pytest.fixture(scope="module")
def mmc_rows() -> list[Check]:
    return check_mmc(2, 0.7, 2_000, seed=5, mean_min=2.8)  # 20 days, ~14,000 calls


def test_little_checks_use_the_configured_rate_and_erlang_c(mmc_rows) -> None:
    c, rho, mean_min = 2, 0.7, 2.8
    lam, mu = rho * c / mean_min, 1.0 / mean_min
    little = {r.name: r for r in mmc_rows if r.group == "5"}
    assert set(little) == {"arrival rate lam_hat (/min)", "Little: Lq vs lam*Wq (Erlang C)",
                           "Little internal: Lq - lam_hat*W_hat"}
    assert little["arrival rate lam_hat (/min)"].theory == pytest.approx(lam)
    erlang = little["Little: Lq vs lam*Wq (Erlang C)"]
    assert erlang.theory == pytest.approx(lam * theory.mmc_wait_mean(lam, mu, c))
    assert erlang.theory == pytest.approx(theory.mmc_queue_length_mean(lam, mu, c))
    assert erlang.lo < erlang.value < erlang.hi and erlang.passed
    internal = little["Little internal: Lq - lam_hat*W_hat"]
    assert "internal consistency" in internal.note and internal.theory == 0.0
    assert all(r.passed for r in mmc_rows)


def test_erlang_little_check_fails_when_the_queue_is_not_erlang(mmc_rows) -> None:
    """The Erlang-C check is not circular: a wrong theory value falls outside its CI."""
    erlang = next(r for r in mmc_rows if "Erlang C" in r.name and r.group == "5")
    est = Estimate(erlang.value, (erlang.hi - erlang.value) / 3.0, math.inf)
    assert not Check.from_estimate("5", erlang.name, erlang.config, est,
                                   1.5 * erlang.theory).passed


# -- 3. numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "count", "text"), [
    (22350.0, True, "22,350"), (22350.4, False, "22,350"), (1_234_567.0, True, "1,234,567"),
    (0.49704, False, "0.4970"), (13.0412, False, "13.04"), (299.85, True, "299.9"),
    (300.0, True, "300"), (1.0, False, "1.000"), (0.0, False, "0"), (999.97, False, "1,000"),
    (5.059e-6, False, "5.059e-06"), (math.nan, False, "-"), (-2.5, False, "-2.500"),
])
def test_fmt_number(value, count, text) -> None:
    assert fmt_number(value, count) == text


def test_counts_in_the_table_are_integers_with_separators() -> None:
    text = _table(Check("4", "incidents", {"days": 150}, 22350.0, 22000.0, 22700.0, 22400.0,
                        True, count=True))
    assert "22,350" in text and "[22,000, 22,700]" in text and "22,400" in text
    assert not re.search(r"\de[+-]\d", text)


# -- 4. configuration values are values, not estimates --------------------------------------
def test_configuration_is_shown_as_set(mmc_rows) -> None:
    assert config_text({"c": 10, "rho": 0.9, "1/mu_min": 6.4, "calls": 40_000}) == \
        "c=10 rho=0.9 1/mu_min=6.4 calls=40,000"
    assert fmt_config_value("fixed") == "fixed" and fmt_config_value(120) == "120"
    for row in mmc_rows:
        assert isinstance(row.config, dict) and {"c", "rho"} <= set(row.config)
        assert row.name not in row.config
    assert "c=2 rho=0.7" in _table(*mmc_rows)


def test_a_configuration_value_cannot_be_a_row() -> None:
    with pytest.raises(ValueError, match="configuration value is not an estimate"):
        Check("1", "officers", {"officers": 120}, 120.0, 120.0, 120.0, 120.0, True)


# -- 5. calibrate ---------------------------------------------------------------------------
def test_mean_difference_interval_covers_when_sources_agree() -> None:
    """Paired day-batch CI of a difference of means: ~95% coverage when both agree."""
    rng = np.random.default_rng(3)
    hits, n_rep = 0, 200
    for _ in range(n_rep):
        n = 600
        minute = np.sort(rng.uniform(0, 10 * 1440, n))
        day_effect = rng.normal(0, 2, 10)[(minute // 1440).astype(int)]
        frames = [pd.DataFrame({"minute": minute,
                                "response": 10 + day_effect + rng.exponential(3, n)})
                  for _ in range(2)]
        batch = tuple((f["minute"].to_numpy() // 1440).astype(np.int64) for f in frames)
        every = np.ones(n, bool)
        comp = _mean_difference("m", frames[0], frames[1], batch, 10, every, every)
        hits += comp.lo <= 0.0 <= comp.hi
    assert 0.88 <= hits / n_rep <= 0.99


def test_comparison_verdicts() -> None:
    assert Comparison("m", 1, 1, "difference", 0.1, -0.2, 0.4).verdict == "consistent"
    assert Comparison("m", 1, 2, "difference", 1.0, 0.5, 1.5).verdict == "simulated higher"
    assert Comparison("n", 10, 8, "ratio", 0.8, 0.7, 0.9).verdict == "simulated lower"
    assert Comparison("n", 10, 10, "ratio", 1.0, 0.9, 1.1).verdict == "consistent"
    assert "too few" in Comparison("m", 1, 1, "difference", 0, math.nan, math.nan).verdict


@pytest.fixture(scope="module")
def replay():
    return calibrate(load_scenario("replay_synthetic"), days=4)


def test_replay_does_not_compare_the_data_with_themselves(replay) -> None:
    assert replay.mode == "replay"
    assert {"call count", "calls by hour of day", "calls by community",
            "calls by priority"} <= set(replay.identical)
    names = [c.name for c in replay.comparisons]
    assert "call count" not in names
    for key in ("hour profile chi2 distance", "community correlation", "count ratio (sim/obs)"):
        assert key not in replay.stats
    text = replay.summary()
    assert "identical by construction" in text and "replay mode" in text
    assert "correlation" not in text and "chi2" not in text


def test_replay_compares_response_times_with_cis(replay) -> None:
    main = replay.comparisons[0]
    assert main.name == "mean response time (min)" and main.contrast == "difference"
    assert math.isfinite(main.lo) and main.lo < main.estimate < main.hi
    assert main.observed_ci[0] < main.observed < main.observed_ci[1]
    assert main.simulated_ci[0] < main.simulated < main.simulated_ci[1]
    assert main.estimate == pytest.approx(main.simulated - main.observed)
    assert main.verdict in ("consistent", "simulated higher", "simulated lower")
    assert len(replay.comparisons) == 1 + 3  # overall and each priority
    assert replay.batches == 4
    assert set(replay.model_adds) == {"dispatch delay", "queue wait", "travel"}
    assert "95% CI" in replay.summary()


def test_configuration_is_not_an_estimate(replay) -> None:
    assert replay.config["officers"] == 120 and replay.config["mode"] == "replay"
    line = next(s for s in replay.summary().splitlines() if s.startswith("configuration"))
    assert "officers=120" in line and "[" not in line


def test_fit_mode_compares_the_count_with_a_ci() -> None:
    cal = calibrate(load_scenario("fit_synthetic"), days=3)
    count = next(c for c in cal.comparisons if c.name == "call count")
    assert count.contrast == "ratio" and count.count
    assert count.estimate == pytest.approx(count.simulated / count.observed)
    assert math.isfinite(count.lo) and count.lo < count.estimate < count.hi
    assert not cal.identical and "community correlation" in cal.stats
    assert re.search(r"call count\s+[\d,]+\s+[\d,]+\s+sim/obs \d\.\d{3} \[", cal.summary())


def test_calibrate_cli_prints_a_short_summary_and_writes_tables(tmp_path) -> None:
    out = tmp_path / "cal"
    res = CliRunner().invoke(app, ["calibrate", "replay_synthetic", "--compare", "--days", "3",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert len(lines) <= 20, res.stdout
    assert "identical by construction" in res.stdout
    assert "calibration_by_community.csv" in res.stdout and "calibration.md" in res.stdout
    assert not any(line.startswith("|") for line in lines)  # no Markdown tables
    comm = pd.read_csv(out / "calibration_by_community.csv")
    assert len(comm) == 25 and {"observed_response_mean", "simulated_response_mean"} <= \
        set(comm.columns)
    comp = pd.read_csv(out / "calibration_comparisons.csv")
    assert {"lo", "hi", "verdict"} <= set(comp.columns) and len(comp) == 4
    assert "identical by construction" in (out / "calibration.md").read_text()
    assert len(pd.read_csv(out / "calibration_by_hour.csv")) == 24


def test_calibrate_cli_without_out_says_how_to_get_the_tables() -> None:
    res = CliRunner().invoke(app, ["calibrate", "replay_synthetic", "--compare", "--days", "2"])
    assert res.exit_code == 0, res.output
    assert "use --out DIR" in res.stdout and len(res.stdout.splitlines()) <= 20


@pytest.mark.parametrize(("args", "field"), [
    (["replay_synthetic", "--days", "0"], "run.days"),
    (["default", "--days", "1"], "data.calls_file"),
    (["replay_synthetic", "--days", "1", "--set", "data.mode=sometimes"], "data.mode"),
])
def test_calibrate_bad_input_is_one_line_naming_the_field(tmp_path, args, field) -> None:
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["calibrate", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]
    assert not out.exists()


def test_calibrate_api_refuses_zero_days() -> None:
    with pytest.raises(ValueError, match=r"^days: "):
        calibrate(load_scenario("replay_synthetic"), days=0)


def test_internal_little_difference_ignores_rounding() -> None:
    """A nearly empty queue makes the internal difference pure rounding: it reads 0 [0, 0]."""
    rows = check_mmc(20, 0.3, 1_000, seed=2, mean_min=12.0)
    internal = next(r for r in rows if "internal" in r.name)
    assert internal.passed and abs(internal.value) < 1e-9
    assert internal.lo <= 0.0 <= internal.hi
