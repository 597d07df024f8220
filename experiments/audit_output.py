"""Assumption audit outputs: ``audit.csv``, ``audit.md``, tornado figures and a summary.

:func:`write_audit` writes an audit's folder the way every output of grassroots is written
(:func:`sim.outputs.publish`: staged beside the destination, marked as kind ``audit``, swapped
into place; ``force`` replaces only an earlier audit folder):

* ``audit.csv``: one row per comparison x indicator x parameter x end (value used, mean
  paired difference, 95% CI, the base difference, swing, ``change`` and ``flag``);
* ``audit_base.csv``: the conclusions at the base values (one row per comparison and
  indicator);
* ``audit_runs.csv``: one row per run (setting, point, replication, seed, spawn key, status
  and the indicators), enough to replay any of them;
* ``audit.md``: findings in plain sentences, the base conclusions, and per comparison and
  indicator a table sorted by swing with its tornado figure;
* ``figures/tornado_<comparison>_<indicator>.png`` (see :mod:`experiments.audit_figures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.audit import Comparison, level_text
from experiments.audit_figures import figure_tornado, tornado_name, tornado_rows
from experiments.audit_run import AuditResult
from experiments.audit_stats import HALVES, REVERSES, audit_table, base_table, flagged
from sim.outputs import publish
from sim.params import show_value

MAX_SUMMARY_LINES = 8
"""Flagged conclusions listed by :func:`summary_lines` (all are in ``audit.md``)."""
FEW_REPLICATIONS = 5
"""Below this many replications the Markdown warns that flags are leads, not findings."""


@dataclass
class AuditReport:
    """An audit's tables and text.

    Attributes:
        result: The runs.
        table: :func:`~experiments.audit_stats.audit_table`.
        base: :func:`~experiments.audit_stats.base_table`.
        markdown: The text of ``audit.md``.
        figures: The figure files, relative to the folder.
        path: The folder written (None before :func:`write_audit`).
    """

    result: AuditResult
    table: pd.DataFrame
    base: pd.DataFrame
    markdown: str = ""
    figures: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def flags(self) -> pd.DataFrame:
        """The rows whose assumption changes the conclusion."""
        return flagged(self.table)


def build_report(result: AuditResult) -> AuditReport:
    """Compute an audit's tables and Markdown (nothing is written).

    Args:
        result: The runs (see :func:`experiments.audit_run.run_audit`).

    Returns:
        The report; its ``figures`` are the names :func:`write_audit` will draw.
    """
    report = AuditReport(result, audit_table(result), base_table(result))
    plan = result.plan
    report.figures = [f"figures/{tornado_name(c.slug, ind)}" for c in plan.comparisons
                      for ind in plan.indicators]
    report.markdown = audit_markdown(report)
    return report


def write_audit(result: AuditResult, out: str | Path, force: bool = False) -> AuditReport:
    """Write an audit folder (see the module docstring).

    Args:
        result: The runs.
        out: The folder: missing, empty, or (with ``force``) an earlier audit's.
        force: Replace an earlier audit folder.

    Returns:
        The report, with ``path`` set.

    Raises:
        sim.outputs.OutputError: If ``out`` may not be used (checked again before writing).
        sim.outputs.RescuedOutputError: If it could not be written; the files are elsewhere.
    """
    report = build_report(result)

    def fill(folder: Path) -> None:
        report.table.to_csv(folder / "audit.csv", index=False)
        report.base.to_csv(folder / "audit_base.csv", index=False)
        result.runs.to_csv(folder / "audit_runs.csv", index=False)
        for c in result.plan.comparisons:
            for ind in result.plan.indicators:
                sub = report.table[(report.table["point"] == c.point)
                                   & (report.table["indicator"] == ind)]
                figure_tornado(sub, folder / "figures" / tornado_name(c.slug, ind),
                               f"{c.label}: {_label(sub, ind)}", _xlabel(sub, c))
        (folder / "audit.md").write_text(report.markdown)

    report.path = publish(out, "audit", fill, force=force)
    return report


def count(n: int, word: str) -> str:
    """``1 comparison``, ``5 comparisons``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _label(sub: pd.DataFrame, indicator: str) -> str:
    return str(sub["indicator_label"].iloc[0]) if len(sub) else indicator


def _unit(sub: pd.DataFrame) -> str:
    unit = str(sub["indicator_unit"].iloc[0]) if len(sub) else ""
    return "" if unit in ("", "-") else unit


def _xlabel(sub: pd.DataFrame, c: Comparison) -> str:
    unit = _unit(sub)
    better = str(sub["better"].iloc[0]) if len(sub) else ""
    text = f"difference {c.name} - {c.baseline_name}"
    text += f" ({unit})" if unit else ""
    return text + (f"; {better} is better" if better else "")


def _num(value: float, unit: str = "") -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value:+.3g}" + (f" {unit}" if unit and unit not in ("-", "share", "0-1") else "")


def _ci(mean: float, lo: float, hi: float) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:+.3g} [{lo:+.3g}, {hi:+.3g}]" if np.isfinite(lo) else f"{mean:+.3g}"


def md_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table (no index; floats to 4 significant digits)."""
    if frame.empty:
        return "_(none)_\n"
    head = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}" if np.isfinite(value) else "–"
    return str(value).replace("|", "\\|").replace("\n", " ")


# -- sentences ----------------------------------------------------------------------------
def finding(rows: pd.DataFrame, base_row: pd.Series) -> str:
    """One sentence: which assumptions, at which end, change one conclusion.

    Args:
        rows: The flagged rows of one comparison and indicator.
        base_row: Its row of :func:`~experiments.audit_stats.base_table`.
    """
    unit = str(base_row["indicator_unit"])
    head = (f"{base_row['comparison']}, {base_row['indicator_label']} "
            f"({_num(base_row['diff'], unit)} at the base values, {base_row['verdict']}"
            + ("" if base_row["significant"] else "; not significant at 95%") + ")")
    parts = []
    for change, verb in ((REVERSES, "reversed"), (HALVES, "halved")):
        hits = rows[rows["change"] == change]
        if len(hits):
            ends = [f"{r.parameter} at its {r.end} end ({show_value(r.value)} instead of "
                    f"{show_value(r.base_value)}: {_num(r.diff)})"
                    for r in hits.itertuples(index=False)]
            parts.append(f"{verb} by " + _join(ends))
    return f"{head}: {'; '.join(parts)}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _findings(report: AuditReport) -> list[str]:
    flags = report.flags
    if flags.empty:
        plan = report.result.plan
        return [f"No assumption changes a conclusion: at both ends of each of the "
                f"{len(plan.assumptions)} plausible ranges, every one of the "
                f"{len(report.base)} differences ({count(len(plan.comparisons), 'comparison')} x "
                f"{count(len(plan.indicators), 'indicator')}) keeps its sign and at least half its "
                f"size."]
    out = []
    for (point, ind), rows in flags.groupby(["point", "indicator"], sort=False):
        base_row = report.base[(report.base["point"] == point)
                               & (report.base["indicator"] == ind)].iloc[0]
        out.append(finding(rows, base_row))
    return out


def summary_lines(report: AuditReport) -> list[str]:
    """A short summary for the terminal: runs, time, and the conclusions that changed."""
    result, plan = report.result, report.result.plan
    lines = [f"audit {plan.spec.name}: {len(result.runs)} runs ({result.n_failed} failed) in "
             f"{result.elapsed_s:.1f} s on {result.backend}",
             f"{count(len(plan.comparisons), 'comparison')} against {plan.baseline_factor}="
             f"{level_text(plan.baseline)} x {count(len(plan.indicators), 'indicator')} x "
             f"{count(len(plan.assumptions), 'assumption')} at both ends ({plan.spec.replications} "
             f"replications of {plan.spec.days} days)"]
    flags = report.flags
    if flags.empty:
        lines.append("no assumption changes a conclusion (none reverses or halves a "
                     "difference)")
        return lines
    changed = flags.groupby(["point", "indicator"], sort=False).ngroups
    lines.append(f"{changed} of {len(report.base)} conclusions change at an end of a "
                 f"plausible range ({len(flags)} of {len(report.table)} results flagged):")
    for sentence in _findings(report)[:MAX_SUMMARY_LINES]:
        lines.append(f"  {sentence}")
    if changed > MAX_SUMMARY_LINES:
        lines.append(f"  ... and {changed - MAX_SUMMARY_LINES} more (see audit.md)")
    return lines


# -- the Markdown -------------------------------------------------------------------------
def audit_markdown(report: AuditReport) -> str:
    """The text of ``audit.md``."""
    result, plan = report.result, report.result.plan
    spec = plan.spec
    lines = [f"# Assumption audit: {spec.name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"Each design point against its baseline ({plan.baseline_factor} = "
        f"{level_text(plan.baseline)}): {count(len(plan.comparisons), 'comparison')}, indicators "
        f"{', '.join(f'`{i}`' for i in plan.indicators)}. Every point ran at the base values "
        f"and with each of {len(plan.assumptions)} assumptions at the low and at the high end "
        f"of its plausible range, one at a time: {len(plan.settings)} settings x "
        f"{len(plan.points)} points x {spec.replications} replications of {spec.days} days "
        f"= {plan.n_runs} runs ({result.n_failed} failed, {result.elapsed_s:.0f} s on "
        f"{result.backend}). Replication r used `SeedSequence({spec.seed}, spawn_key=(r,))` "
        f"at every point and setting (common random numbers), so every difference point - "
        f"baseline is paired; intervals are 95% paired t intervals.", "",
        "An assumption **reverses** a conclusion when the difference at one end of its range "
        "has the opposite sign of the difference at the base values, and **halves** it when "
        "it is less than half as large. Its *swing* is |difference at the high end - "
        "difference at the low end|.", ""]
    if spec.replications < FEW_REPLICATIONS:
        lines += [f"_Only {spec.replications} replications of {spec.days} days (a quick "
                  f"audit): the intervals are wide, so treat the flags as leads to check with "
                  f"the full audit._", ""]
    if plan.skipped:
        lines += [f"Not audited, because the design varies them: "
                  f"{', '.join(f'`{s}`' for s in plan.skipped)}.", ""]
    lines += ["## Findings", ""] + [f"- {s}" for s in _findings(report)] + [""]
    lines += ["## Conclusions at the base values", "", md_table(_base_view(report))]
    for c in plan.comparisons:
        for ind, fig in zip(plan.indicators, _figures_of(report, c.slug), strict=True):
            sub = report.table[(report.table["point"] == c.point)
                               & (report.table["indicator"] == ind)]
            b = report.base[(report.base["point"] == c.point)
                            & (report.base["indicator"] == ind)].iloc[0]
            lines += [f"## {c.label}: {_label(sub, ind)}", "",
                      f"At the base values: {_ci(b['diff'], b['ci_lo'], b['ci_hi'])} "
                      f"{_unit(sub)} ({b['verdict']}). Assumptions by swing, largest first:",
                      "", f"![tornado]({fig})", "", md_table(_section_view(sub))]
    return "\n".join(lines)


def _figures_of(report: AuditReport, slug: str) -> list[str]:
    return [f"figures/{tornado_name(slug, ind)}" for ind in report.result.plan.indicators]


def _base_view(report: AuditReport) -> pd.DataFrame:
    flags = report.flags
    rows = []
    for r in report.base.itertuples(index=False):
        hit = flags[(flags["point"] == r.point) & (flags["indicator"] == r.indicator)]
        names = list(dict.fromkeys(hit["parameter"]))
        rows.append({"comparison": r.comparison, "indicator": r.indicator_label,
                     "difference [95% CI]": _ci(r.diff, r.ci_lo, r.ci_hi),
                     "unit": r.indicator_unit, "verdict": r.verdict,
                     "changed by": ", ".join(names) if names else "none"})
    return pd.DataFrame(rows)


def _section_view(sub: pd.DataFrame) -> pd.DataFrame:
    by = sub.set_index(["parameter", "end"])
    rows = []
    for r in tornado_rows(sub).itertuples(index=False):
        low, high = by.loc[(r.parameter, "low")], by.loc[(r.parameter, "high")]
        changes = [f"{ch} at {end}" for end, ch in (("low", r.change_low),
                                                    ("high", r.change_high)) if ch]
        rows.append({
            "assumption": f"`{r.parameter}`", "base": show_value(low["base_value"]),
            "low end": f"{show_value(r.value_low)}: "
                       f"{_ci(low['diff'], low['ci_lo'], low['ci_hi'])}",
            "high end": f"{show_value(r.value_high)}: "
                        f"{_ci(high['diff'], high['ci_lo'], high['ci_hi'])}",
            "swing": r.swing, "changes the conclusion": ", ".join(changes) or "no"})
    return pd.DataFrame(rows)
