"""Reports on a sweep store: confidence intervals, paired differences, sensitivity, figures.

``make_report(DIR)`` reads a store (see :mod:`experiments.store`) and writes, in ``DIR``
(or ``out``):

* ``report.md``: the design, failed runs, the mean and 95% confidence interval of every
  indicator at every design point, paired differences against a baseline level (with
  confidence intervals, p-values and the variance reduction pairing achieved), why they
  differ (the paired differences of response time, satisfaction and trust split into the
  parts that add up to them) and, for sampled designs, sensitivity indices;
* ``figures/*.png``: indicators against factor levels with CI bands, response-time
  distributions, a per-community map of the gap to the baseline, daily series, the parts
  of the paired differences and sensitivity indices;
* ``tables/*.csv``: the full tables behind the Markdown.

Pairing: replication ``r`` of every design point used the same random streams (common random
numbers), so the difference ``level - baseline`` is taken within each replication; its
variance is usually much smaller than that of two independent samples. The variance
reduction reported is ``1 - var(d) / (var(a) + var(b))``.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, no
display, no global backend change).

This module is the entry point; the pieces live in :mod:`experiments.report_context` (what
every section needs), :mod:`experiments.report_stats` (confidence intervals, paired tests),
:mod:`experiments.report_paired` (paired-differences tables),
:mod:`experiments.report_decomposition` (the parts of the paired differences),
:mod:`experiments.report_sensitivity` (sensitivity indices), :mod:`experiments.report_figures`
and :mod:`experiments.report_markdown`. Every name they define that was importable from here
still is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.report_context import DEFAULT_INDICATORS, META, Context, make_context
from experiments.report_decomposition import decomposition
from experiments.report_figures import (
    MAX_LINES,
    MAX_MAPS,
    figure_community_map,
    figure_daily,
    figure_decomposition,
    figure_indicators,
    figure_rt_distribution,
    figure_scatter,
    figure_sensitivity,
)
from experiments.report_markdown import (
    md_table,
    section_decomposition,
    section_failed,
    section_figures,
    section_header,
    section_paired,
    section_points,
    section_sensitivity,
)
from experiments.report_paired import community_gaps, comparisons, paired_differences
from experiments.report_sensitivity import sensitivity, sensitivity_indices
from experiments.report_stats import CONF, paired_stats, point_stats, t_half_width
from experiments.sweep import SweepResult, load_results
from sim.outputs import (
    OutputError,
    check_location,
    check_replaceable,
    list_files,
    make_stage,
    remove_own,
    swap_in,
    write_marker,
)

__all__ = [
    "CONF",
    "DEFAULT_INDICATORS",
    "MAX_LINES",
    "MAX_MAPS",
    "META",
    "Context",
    "Report",
    "community_gaps",
    "comparisons",
    "decomposition",
    "figure_community_map",
    "figure_daily",
    "figure_decomposition",
    "figure_indicators",
    "figure_rt_distribution",
    "figure_scatter",
    "figure_sensitivity",
    "make_context",
    "make_report",
    "md_table",
    "paired_differences",
    "paired_stats",
    "point_stats",
    "section_decomposition",
    "section_failed",
    "section_figures",
    "section_header",
    "section_paired",
    "section_points",
    "section_sensitivity",
    "sensitivity",
    "t_half_width",
]

_indices = sensitivity_indices  # its name before the split, still imported by tests


@dataclass
class Report:
    """A written report.

    Attributes:
        markdown: The report text.
        path: The Markdown file.
        figures: The PNG files written.
        tables: The tables behind the report (also written as CSV).
    """

    markdown: str
    path: Path
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def make_report(source: str | Path | SweepResult, out: str | Path | None = None,
                baseline: Any = None, baseline_factor: str | None = None,
                indicators: list[str] | None = None) -> Report:
    """Write the report of a sweep store.

    Args:
        source: A store folder or a :class:`~experiments.sweep.SweepResult` with a path.
        out: Output folder (default: the store folder itself).
        baseline: Baseline level for paired differences (default: the spec's, else
            ``centralized`` or the first level).
        baseline_factor: The factor whose levels are compared (default: the spec's, else
            ``strategy.name`` if varied).
        indicators: Indicators to feature in tables and figures (default: the spec's
            ``[report] indicators`` or a standard list).

    Returns:
        The report (Markdown text, paths, tables).
    """
    result = source if isinstance(source, SweepResult) else load_results(source)
    if out is None and result.path is None:
        raise ValueError("out: the sweep has no store folder; give an output folder")
    final, in_store = _report_target(out, result.path)
    stage = make_stage(final / "report" if in_store else final)
    try:
        report = _make(result, stage, baseline, baseline_factor, indicators)
        _install(stage, final, in_store)
    finally:
        if stage.exists():
            remove_own(stage, anything=True)
    return Report(report.markdown, final / "report.md",
                  [final / p.relative_to(stage) for p in report.figures], report.tables)


def _report_target(out: str | Path | None, store: Path | None) -> tuple[Path, bool]:
    """The report's folder and whether it is the store itself (checked before any work)."""
    store_dir = Path(store).resolve() if store is not None else None
    try:
        if store_dir is not None and (out is None or Path(out).resolve() == store_dir):
            return store_dir, True  # only the report's own files are replaced in a store
        final = check_location(out, "--out")  # type: ignore[arg-type]
        in_store = False
        check_replaceable(final, "--out", "report", force=True)  # remade in place: derived
    except (OutputError, OSError) as exc:
        raise ValueError(str(exc)) from None
    return final, in_store


def _install(stage: Path, final: Path, in_store: bool) -> None:
    """Move a finished report from its staging folder into place."""
    if not in_store:
        write_marker(stage, "report")
        swap_in(stage, final)
        return
    new = list_files(stage)
    for rel in sorted(new, key=lambda r: r == "report.md"):  # report.md last
        (final / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, final / rel)
    for folder, ext in (("figures", "*.png"), ("tables", "*.csv")):  # stale ones of ours
        for old in (final / folder).glob(ext):
            if f"{folder}/{old.name}" not in new:
                old.unlink(missing_ok=True)


def _make(result: SweepResult, out_dir: Path, baseline: Any, baseline_factor: str | None,
          indicators: list[str] | None) -> Report:
    ctx = make_context(result, out_dir, baseline, baseline_factor, indicators)
    ps = point_stats(ctx.ok, ctx.factors, ctx.indicators)
    paired = paired_differences(ctx)
    sens = sensitivity(ctx)
    gaps = community_gaps(ctx)
    dec = decomposition(ctx)
    figures = (figure_indicators(ctx, ps) + figure_rt_distribution(ctx)
               + figure_community_map(ctx, gaps) + figure_daily(ctx)
               + figure_sensitivity(ctx, sens) + figure_decomposition(ctx, dec))
    tables = {"point_stats": ps, "paired_differences": paired, "sensitivity": sens,
              "community_gaps": gaps, "decomposition": dec}
    text = "\n".join(s for s in (
        section_header(ctx), section_failed(ctx), section_points(ctx, ps),
        section_paired(ctx, paired), section_decomposition(ctx, dec),
        section_sensitivity(ctx, sens),
        section_figures(ctx, figures)) if s)
    return _write(out_dir, text, figures, tables)


def _write(out: Path, text: str, figures: list[Path], tables: dict[str, pd.DataFrame]) -> Report:
    (out / "tables").mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if not frame.empty:
            frame.to_csv(out / "tables" / f"{name}.csv", index=False)
    path = out / "report.md"
    path.write_text(text)
    return Report(text, path, figures, tables)
