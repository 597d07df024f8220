"""Calibration report: does the simulated status quo reproduce the recorded calls?

For a scenario with ``[data] calls_file``, run the scenario over the span of the data and set
observed beside simulated: calls by hour of day, by community and by priority (counts, with
the chi-square distance and the correlation across communities), and, where the data have a
response-time column, observed vs simulated response times (mean, median, p90) for the
configured (status-quo) organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.api import build_model, collect
from sim.calls import Calls, load_calls
from sim.incidents import MIN_PER_DAY
from sim.outputs import publish
from sim.scenario import Scenario


@dataclass
class Calibration:
    """Observed vs simulated tables and headline statistics."""

    by_hour: pd.DataFrame
    by_community: pd.DataFrame
    by_priority: pd.DataFrame
    response: pd.DataFrame
    stats: dict[str, float]
    data_note: str

    def markdown(self) -> str:
        """The report as Markdown."""
        parts = ["# Calibration: observed vs simulated", "", self.data_note, "",
                 "| statistic | value |", "|---|---|"]
        parts += [f"| {k} | {v:.4g} |" for k, v in self.stats.items()]
        for title, df in (("By priority", self.by_priority), ("By hour of day", self.by_hour),
                          ("Response time (minutes)", self.response),
                          ("By community", self.by_community)):
            parts += ["", f"## {title}", "", df.to_markdown(index=False, floatfmt=".3g")]
        return "\n".join(parts) + "\n"


def calibrate(scenario: Scenario, days: int | None = None, seed: int | None = None) -> Calibration:
    """Run the scenario over the data's span and compare it with the recorded calls.

    Args:
        scenario: A scenario whose ``data.calls_file`` is set.
        days: Days to simulate (default: the span of the data).
        seed: Root seed (default: the scenario's).

    Returns:
        The comparison tables and statistics.
    """
    if not scenario.data.calls_file:
        raise ValueError("data.calls_file: calibration needs recorded calls")
    calls = load_calls(scenario.data, scenario.city, scenario.incidents)
    names = scenario.incidents.names
    n_days = days or int(calls.days)
    model = build_model(scenario, seed=seed, days=n_days)
    model.run_days(n_days)
    sim = collect(model).incidents
    sim = sim[sim["reported"]]
    obs = _observed_frame(calls, model.layout.community, n_days)
    by_hour = _compare(obs["hour"], (sim["t_report"] % MIN_PER_DAY // 60).astype(int),
                       range(24), "hour")
    by_comm = _compare(obs["community"], sim["community"],
                       range(model.layout.n_communities), "community")
    by_prio = _compare(obs["priority"].map(dict(enumerate(names))),
                       sim["priority"].astype(str), names, "priority")
    response = _response(obs["response"], sim["response_time"])
    stats = {
        "observed calls": float(len(obs)), "simulated calls": float(len(sim)),
        "count ratio (sim/obs)": len(sim) / max(len(obs), 1),
        "hour profile chi2 distance": _chi2(by_hour),
        "community correlation": float(np.corrcoef(by_comm["observed"],
                                                   by_comm["simulated"])[0, 1])
        if by_comm["observed"].std() > 0 and by_comm["simulated"].std() > 0 else float("nan"),
        "priority mix max abs diff": float((by_prio["observed_share"] -
                                            by_prio["simulated_share"]).abs().max()),
    }
    return Calibration(by_hour, by_comm, by_prio, response, stats,
                       f"{calls.describe()}; mode = {scenario.data.mode}; {n_days} days.")


def _observed_frame(calls: Calls, community: np.ndarray, n_days: int) -> pd.DataFrame:
    keep = calls.minute < n_days * MIN_PER_DAY
    return pd.DataFrame({
        "hour": (calls.minute[keep] % MIN_PER_DAY // 60).astype(int),
        "community": community[calls.cell[keep]],
        "priority": calls.priority[keep],
        "response": calls.response[keep],
    })


def _compare(observed: pd.Series, simulated: pd.Series, levels: object, name: str) -> pd.DataFrame:
    idx = pd.Index(list(levels), name=name)
    o = observed.value_counts().reindex(idx, fill_value=0)
    s = simulated.value_counts().reindex(idx, fill_value=0)
    df = pd.DataFrame({"observed": o, "simulated": s}).reset_index()
    df["observed_share"] = df["observed"] / max(df["observed"].sum(), 1)
    df["simulated_share"] = df["simulated"] / max(df["simulated"].sum(), 1)
    return df


def _chi2(df: pd.DataFrame) -> float:
    """Chi-square distance between the two share profiles (0 = identical)."""
    o, s = df["observed_share"].to_numpy(), df["simulated_share"].to_numpy()
    denom = np.where(o + s > 0, o + s, 1)
    return float(0.5 * np.sum((o - s) ** 2 / denom))


def _response(observed: pd.Series, simulated: pd.Series) -> pd.DataFrame:
    rows = []
    for label, series in (("observed", observed.dropna()), ("simulated", simulated.dropna())):
        rows.append({"source": label, "n": len(series),
                     "mean": series.mean() if len(series) else np.nan,
                     "median": series.median() if len(series) else np.nan,
                     "p90": series.quantile(0.9) if len(series) else np.nan})
    return pd.DataFrame(rows)


def write_report(cal: Calibration, out: Path, force: bool = False) -> Path:
    """Write ``calibration.md`` and the CSV tables into ``out`` (see :mod:`sim.outputs`).

    Args:
        cal: The calibration.
        out: The folder: missing, empty, or (with ``force``) an earlier calibration's.
        force: Replace an earlier calibration folder.

    Returns:
        The folder.
    """
    def fill(folder: Path) -> None:
        (folder / "calibration.md").write_text(cal.markdown())
        for name in ("by_hour", "by_community", "by_priority", "response"):
            getattr(cal, name).to_csv(folder / f"calibration_{name}.csv", index=False)

    return publish(out, "calibration", fill, force=force)
