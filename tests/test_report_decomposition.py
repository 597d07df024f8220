"""Why strategies differ: paired differences split into parts that add up to them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from experiments.report import make_report
from experiments.spec import load_spec
from experiments.sweep import DECOMPOSITIONS, load_results, make_tasks, run_sweep, stored_outputs

SMALL = {"city.width": 12, "city.height": 12, "city.community_cells": 4,
         "police.officers": 12, "residents.agents": 300}
PNG = b"\x89PNG\r\n\x1a\n"
PARTS = {"response_time_mean": ["command chain", "queue", "travel"],
         "satisfaction_mean": ["start", "experience", "word of mouth", "presence", "contact",
                               "drift"],
         "trust_mean": ["start", "experience", "word of mouth", "contact", "drift"]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("decomposition") / "store"
    spec = {"name": "dec", "replications": 3, "days": 4, "set": SMALL,
            "baseline": "centralized",
            "factors": {"strategy.name": ["centralized", "community", "grid"]}}
    run_sweep(spec, out=out, workers=1)
    return out


@pytest.fixture(scope="module")
def report(store, tmp_path_factory):
    return make_report(store, out=tmp_path_factory.mktemp("decomposition") / "r")


def test_runs_hold_parts_that_add_up_to_their_totals(store):
    runs = load_results(store).runs
    for total, parts in DECOMPOSITIONS.items():
        assert set(parts) <= set(runs.columns)
        np.testing.assert_allclose(runs[list(parts)].sum(axis=1), runs[total], rtol=1e-12,
                                   atol=1e-12)


def test_parts_sum_to_the_paired_difference(report):
    out = report.path.parent
    dec = pd.read_csv(out / "tables" / "decomposition.csv")
    assert list(dec.columns[:5]) == ["point", "baseline_point", "comparison", "indicator",
                                     "component"]
    assert {"diff", "ci_lo", "ci_hi", "share"} <= set(dec.columns)
    assert set(dec["point"]) == {1, 2} and set(dec["baseline_point"]) == {0}
    for (_point, ind), group in dec.groupby(["point", "indicator"]):
        parts = group[group["component"] != "total"]
        assert list(parts["component"]) == PARTS[ind]
        total = group.loc[group["component"] == "total", "diff"].item()
        assert parts["diff"].sum() == pytest.approx(total, rel=1e-9, abs=1e-12)
        if total != 0:
            assert parts["share"].sum() == pytest.approx(1.0, rel=1e-9)
    start = dec[dec["component"] == "start"]
    assert (start["diff"].abs() < 1e-12).all()  # common random numbers: the same start
    # The totals are the paired differences of the report's other table.
    paired = pd.read_csv(out / "tables" / "paired_differences.csv").set_index(
        ["point", "indicator"])["diff"]
    totals = dec[dec["component"] == "total"].set_index(["point", "indicator"])["diff"]
    np.testing.assert_allclose(totals, paired.reindex(totals.index), rtol=1e-12)


def test_report_has_the_section_and_the_figure(report):
    text = report.path.read_text()
    assert "## Why they differ: parts of the paired differences against " \
           "`strategy.name = centralized`" in text
    section = text[text.index("## Why they differ"):text.index("## Figures")]
    assert section.count("Sum check:") == 3
    assert "### Response time, mean (min): difference and its parts" in section
    assert "| comparison | pairs | total | command chain | queue | travel | sum of parts |" \
        in section
    fig = report.path.parent / "figures" / "decomposition.png"
    assert fig in report.figures and fig.read_bytes()[:8] == PNG
    assert "figures/decomposition.png" in text
    # One sentence per comparison naming the part that contributes most, as computed.
    dec = report.tables["decomposition"]
    for point in (1, 2):
        label = dec.loc[dec["point"] == point, "comparison"].iloc[0]
        line = next(ln for ln in section.splitlines() if ln.startswith(f"- **{label}**"))
        for ind, name in (("response_time_mean", "response time"),
                          ("satisfaction_mean", "satisfaction"), ("trust_mean", "trust")):
            parts = dec[(dec["point"] == point) & (dec["indicator"] == ind)
                        & (dec["component"] != "total")]
            top = parts.loc[parts["diff"].abs().idxmax(), "component"]
            assert re.search(rf"{name} [^;]*largest part {top} \(", line), line


def test_an_old_store_without_the_parts_gets_a_one_line_skip(store, tmp_path):
    result = load_results(store)
    keys = {k for parts in DECOMPOSITIONS.values() for k in parts}
    result.runs = result.runs.drop(columns=sorted(keys))
    rep = make_report(result, out=tmp_path / "old")
    text = rep.markdown
    section = text[text.index("## Why they differ"):].split("\n## ")[0].strip().splitlines()
    assert section[0] == "## Why they differ"
    assert [ln for ln in section[1:] if ln] == [
        "Skipped: the runs of this store lack the decomposition keys (response_chain_mean, "
        "response_queue_mean, response_travel_mean, satisfaction_start_mean and 10 more); "
        "rerun the sweep with `--force` to get them."]
    assert "decomposition" not in rep.tables or rep.tables["decomposition"].empty
    assert not (tmp_path / "old" / "tables" / "decomposition.csv").exists()
    assert "decomposition.png" not in {p.name for p in rep.figures}
    assert "## Paired differences against" in text  # the rest of the report is unchanged


def test_a_store_with_only_some_parts_decomposes_what_it_can(store, tmp_path):
    result = load_results(store)
    result.runs = result.runs.drop(columns=["trust_change_drift"])
    rep = make_report(result, out=tmp_path / "some")
    dec = rep.tables["decomposition"]
    assert set(dec["indicator"]) == {"response_time_mean", "satisfaction_mean"}
    assert "Not decomposed: the runs lack trust_change_drift." in rep.markdown


def test_a_sweep_keeps_the_parts_of_the_totals_it_keeps():
    assert stored_outputs(None) is None
    assert stored_outputs(("clearance_rate",)) == ("clearance_rate",)
    kept = stored_outputs(("response_time_mean", "trust_mean"))
    assert kept[:2] == ("response_time_mean", "trust_mean")
    assert set(kept[2:]) == {*DECOMPOSITIONS["response_time_mean"], *DECOMPOSITIONS["trust_mean"]}
    spec = load_spec({"replications": 1, "days": 1, "set": SMALL,
                      "outputs": ["response_time_mean"],
                      "factors": {"strategy.name": ["centralized", "grid"]}})
    assert all(t.outputs == ("response_time_mean", "response_chain_mean",
                             "response_queue_mean", "response_travel_mean")
               for t in make_tasks(spec))


def test_report_numbers_are_readable_and_configuration_is_not_an_estimate():
    from experiments.report_context import META
    from experiments.report_markdown import _ci_text, number

    assert number(22_350.4) == "22,350" and number(0.123456) == "0.1235"
    assert "e+" not in _ci_text(22_349.6, 22_100.0, 22_600.0)
    assert {"officers", "seed", "days"} <= META
