"""Writing a calibration (:class:`experiments.calibrate_fit.Fit`): terminal, Markdown, files.

The folder gets ``calibrated.toml`` (the calibrated scenario, loadable by ``grassroots
run``), ``calibration.md`` (the report) and its tables as CSV: ``calibration_estimates.csv``,
``calibration_prediction.csv`` and ``calibration_ranking.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from experiments.calibrate_boot import LEVEL
from experiments.calibrate_fit import Fit
from sim.outputs import publish

FILES = ("calibrated.toml", "calibration.md", "calibration_estimates.csv",
         "calibration_prediction.csv", "calibration_ranking.csv")
"""What :func:`write_fit` writes."""


def _ci(v: float, lo: float, hi: float, pct: bool = False) -> str:
    if not math.isfinite(v):
        return "n/a"
    f = (lambda x: f"{100 * x:+.1f}%") if pct else (lambda x: f"{x:.4g}")
    return f"{f(v)} [{f(lo)}, {f(hi)}]" if math.isfinite(lo) else f(v)


def _lines(fit: Fit) -> list[str]:
    """The headline: periods, the goal's verdict and the ranking."""
    h = fit.headline()
    r = fit.rank
    if "rho" in r:
        rho = _ci(float(r["rho"]), float(r["rho_lo"]), float(r["rho_hi"]))
        rank = (f"precinct order by mean response: Spearman rho {rho}, same order: "
                f"{r['same_order']} ({r['discordant_pairs']} discordant pairs of "
                f"{r['precincts']} precincts)")
    else:
        rank = f"precinct order: not ranked ({r.get('note', '')})"
    return [f"data: {fit.data_note}",
            f"trained on {fit.train.label} ({fit.train.days} days), tested on {fit.test.label} "
            f"({fit.test.days} days), {fit.seeds} seed{'s' if fit.seeds != 1 else ''}; "
            f"{LEVEL:.0%} intervals by bootstrap "
            "over days",
            f"mean response, test period: recorded {h['recorded']:.4g} min, predicted "
            f"{h['predicted']:.4g} min, relative error "
            f"{_ci(h['relative_error'], h['relative_lo'], h['relative_hi'], True)}: "
            f"{h['verdict']} (goal: within 10%)", rank, *fit.notes]


def summary(fit: Fit, folder: str | Path | None = None) -> str:
    """A short text for the terminal."""
    lines = ["Calibration: fitted on the training period, predicting the test period",
             *_lines(fit), "estimates:"]
    for e in fit.estimates:
        lines.append(f"  {e.parameter} {e.before:g} -> {_ci(e.value, e.lo, e.hi)}")
    if fit.travel:
        e = fit.travel[-1]
        where = "in calibrated.toml" if fit.travel_written else "reported only"
        lines.append(f"  car speed factor, all hours {_ci(e.value, e.lo, e.hi)} (24 hourly "
                     f"factors {where})")
    lines.append(f"wrote {folder}/: " + ", ".join(FILES) if folder is not None else
                 "tables and calibrated scenario: not written (use --out DIR)")
    return "\n".join(lines)


def markdown(fit: Fit) -> str:
    """The report as Markdown."""
    p = fit.prediction
    est = fit.estimates_table
    parts = ["# Calibration: training fit and held-out prediction", "",
             *[f"{s}  " for s in _lines(fit)], "",
             "## Estimates (training period)", "", est.to_markdown(index=False, floatfmt=".4g"),
             "", "## Prediction of the test period (all calls)", "",
             p[p["precinct"] == "all"].to_markdown(index=False, floatfmt=".4g"), "",
             "## Prediction by precinct", "",
             p[p["precinct"] != "all"].to_markdown(index=False, floatfmt=".4g"), "",
             "## Precincts ranked by mean response (1 = fastest)", "",
             fit.ranking.to_markdown(index=False, floatfmt=".4g")]
    return "\n".join(parts) + "\n"


def write_fit(fit: Fit, out: Path, force: bool = False) -> Path:
    """Write the calibrated scenario, the report and its tables into ``out``.

    Args:
        fit: The calibration.
        out: The folder: missing, empty, or (with ``force``) an earlier calibration's.
        force: Replace an earlier calibration folder.

    Returns:
        The folder.
    """
    def fill(folder: Path) -> None:
        (folder / "calibrated.toml").write_text(fit.calibrated.to_toml())
        (folder / "calibration.md").write_text(markdown(fit))
        fit.estimates_table.to_csv(folder / "calibration_estimates.csv", index=False)
        fit.prediction.to_csv(folder / "calibration_prediction.csv", index=False)
        pd.DataFrame(fit.ranking).to_csv(folder / "calibration_ranking.csv", index=False)

    return publish(out, "calibration", fill, force=force)
