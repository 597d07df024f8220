"""Calibration report: does the simulated status quo reproduce the recorded calls?

This is ``grassroots calibrate --compare``; the fit on a training period and the prediction
of held-out days (the command's default) are in :mod:`experiments.calibrate_fit`.

For a scenario with ``[data] calls_file``, run the scenario over the span of the data and set
observed beside simulated, with a verdict and a 95% confidence interval for every statistic
that is actually compared.

What can be compared depends on ``data.mode``:

* ``fit``: the model draws new calls from a process fitted to the data, so the demand is
  compared (the call count as a ratio simulated / observed with a CI; the profiles by hour,
  community and priority as descriptive distances) and so are the response times.
* ``replay``: the recorded calls *are* the simulated demand, so the count and the profiles by
  hour, community and priority are identical by construction and are not compared (the
  report says so; if they do differ, it says that too). Only what the model produces can be
  compared: the response times (overall and by priority). The model's decomposition of the
  response time (dispatch delay, queue, travel), which the data do not record, is reported
  as simulated only.

Confidence intervals come from contiguous batches of whole days (up to 20), paired between
observed and simulated (both sources share the days): a mean response time is a ratio of
sums (minutes / calls), and its interval, that of the difference simulated - observed and
that of the count ratio use the linearised (delta-method) batch residuals with Student t on
``batches - 1`` degrees of freedom.

Long tables (per hour, per community, per priority) go to files in the output folder; the
terminal gets :meth:`Calibration.summary`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from experiments.validate_table import fmt_config_value, fmt_number
from sim.api import build_model, collect
from sim.calls import Calls, load_calls
from sim.datafile import DataWarning
from sim.incidents import MIN_PER_DAY
from sim.outputs import publish
from sim.scenario import Scenario

LEVEL = 0.95
"""Confidence level of every interval of the calibration report."""
MAX_BATCHES = 20
"""At most this many batches of whole days give the intervals."""
TABLES = ("by_hour", "by_community", "by_priority", "response", "comparisons")
"""The tables written as ``calibration_NAME.csv``."""
IDENTICAL = ("call count", "calls by hour of day", "calls by community", "calls by priority")
"""What replay mode reproduces by construction."""


@dataclass(frozen=True)
class Comparison:
    """One statistic, observed vs simulated, with a CI of their difference (or ratio).

    Attributes:
        name: What is compared (``mean response time (min)``, ``call count``...).
        observed: The observed value.
        simulated: The simulated value.
        contrast: ``"difference"`` (simulated - observed, agreement at 0) or ``"ratio"``
            (simulated / observed, agreement at 1).
        estimate: The difference or ratio.
        lo: Lower end of its :data:`LEVEL` CI (NaN when too few batches).
        hi: Upper end.
        observed_ci: The CI of the observed value (a count has none: NaN).
        simulated_ci: The CI of the simulated value.
        count: Whether the values count calls (printed as integers).
    """

    name: str
    observed: float
    simulated: float
    contrast: str
    estimate: float
    lo: float
    hi: float
    observed_ci: tuple[float, float] = (math.nan, math.nan)
    simulated_ci: tuple[float, float] = (math.nan, math.nan)
    count: bool = False

    @property
    def target(self) -> float:
        """The value of the contrast when the model agrees with the data."""
        return 1.0 if self.contrast == "ratio" else 0.0

    @property
    def verdict(self) -> str:
        """``consistent``, ``simulated higher`` / ``lower`` (CI excludes agreement), or why not."""
        if not math.isfinite(self.estimate):
            return "not comparable (no data)"
        if not math.isfinite(self.lo):
            return "no CI (too few days)"
        if self.lo <= self.target <= self.hi:
            return "consistent"
        return "simulated higher" if self.estimate > self.target else "simulated lower"

    def row(self) -> dict[str, object]:
        """The comparison as one row of ``calibration_comparisons.csv``."""
        return {"statistic": self.name, "observed": self.observed,
                "observed_lo": self.observed_ci[0], "observed_hi": self.observed_ci[1],
                "simulated": self.simulated, "simulated_lo": self.simulated_ci[0],
                "simulated_hi": self.simulated_ci[1], "contrast": self.contrast,
                "estimate": self.estimate, "lo": self.lo, "hi": self.hi,
                "agreement_at": self.target, "verdict": self.verdict}


@dataclass
class Calibration:
    """Observed vs simulated: the comparisons with CIs, the tables and headline statistics.

    Attributes:
        by_hour: Calls and mean response time by hour of day, observed and simulated.
        by_community: The same by community.
        by_priority: The same by priority.
        response: Response time (n, mean, median, p90) of each source.
        stats: Descriptive headline statistics (no CI): calls, and in fit mode the count
            ratio, the hour-profile chi-square distance, the community correlation and the
            largest priority-share difference.
        data_note: What was read from the calls file.
        mode: ``data.mode`` (``replay`` or ``fit``).
        config: The configuration of the simulation: set values, not estimates.
        comparisons: The statistics compared, with CIs and verdicts.
        identical: What is identical by construction (replay) and therefore not compared.
        notes: Anything else a reader must know (e.g. a replay that does not reproduce).
        model_adds: Simulated-only means (minutes) the data do not record.
        batches: Number of day batches behind the CIs.
    """

    by_hour: pd.DataFrame
    by_community: pd.DataFrame
    by_priority: pd.DataFrame
    response: pd.DataFrame
    stats: dict[str, float]
    data_note: str
    mode: str = "fit"
    config: dict[str, int | float | str] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model_adds: dict[str, float] = field(default_factory=dict)
    batches: int = 0

    @property
    def comparisons_table(self) -> pd.DataFrame:
        """The comparisons as a table (one row each)."""
        cols = list(Comparison("", 0, 0, "difference", 0, 0, 0).row())
        return pd.DataFrame([c.row() for c in self.comparisons], columns=cols)

    def _headline(self) -> list[str]:
        cfg = " ".join(f"{k}={fmt_config_value(v)}" for k, v in self.config.items())
        lines = [self.data_note, f"configuration (as set, not estimated): {cfg}"]
        if self.mode == "replay":
            lines.append("replay mode: the simulated demand is the recorded calls, so "
                         + ", ".join(self.identical or ["nothing"])
                         + " are identical by construction and not compared; only what the "
                         "model produces (response times) is compared.")
        lines += self.notes
        return lines

    def _comparison_lines(self) -> list[str]:
        if not self.comparisons:
            return ["nothing to compare (the data have no response times)"]
        head = ("statistic", "observed", "simulated", "contrast", "verdict")
        rows = [head]
        for c in self.comparisons:
            label = "sim/obs" if c.contrast == "ratio" else "sim-obs"
            rows.append((c.name, _value_ci(c.observed, c.observed_ci, c.count),
                         _value_ci(c.simulated, c.simulated_ci, c.count),
                         f"{label} {_value_ci(c.estimate, (c.lo, c.hi))}", c.verdict))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        return ["  ".join(s.ljust(w) for s, w in zip(r, widths, strict=True)).rstrip()
                for r in rows]

    def summary(self, files: list[str] | None = None, folder: str | Path | None = None) -> str:
        """A short text for the terminal: verdicts with CIs and where the tables went.

        Args:
            files: The files written (None: nothing was written).
            folder: Where they were written.
        """
        lines = ["Calibration: observed vs simulated", *self._headline(), "",
                 f"compared ({LEVEL:.0%} CI from {self.batches} batches of whole days, paired):"]
        lines += ["  " + s for s in self._comparison_lines()]
        if self.model_adds:
            lines.append("simulated only (the data do not record it): mean "
                         + ", ".join(f"{k} {_fmt(v)} min" for k, v in self.model_adds.items()))
        if self.mode != "replay":
            desc = {k: v for k, v in self.stats.items()
                    if "calls" not in k and not k.startswith("count ratio")}
            lines.append("descriptive (no CI): " + ", ".join(f"{k} {_fmt(v)}"
                                                             for k, v in desc.items()))
        if files is None:
            lines.append("tables per hour, community and priority: not written (use --out DIR)")
        else:
            lines.append(f"wrote {folder}/: " + ", ".join(files))
        return "\n".join(lines)

    def markdown(self) -> str:
        """The whole report as Markdown (what ``calibration.md`` holds)."""
        parts = ["# Calibration: observed vs simulated", "", *[f"{s}  " for s in self._headline()],
                 "", f"## Compared ({LEVEL:.0%} CI from {self.batches} batches of whole days)",
                 "", "```", *self._comparison_lines(), "```", "", "| statistic | value |",
                 "|---|---|"]
        parts += [f"| {k} | {_fmt(v, 'calls' in k)} |" for k, v in self.stats.items()]
        if self.model_adds:
            parts += ["", "Simulated only (minutes): " + ", ".join(
                f"{k} {_fmt(v)}" for k, v in self.model_adds.items())]
        flag = " (call counts identical by construction)" if self.mode == "replay" else ""
        for title, df in (("By priority" + flag, self.by_priority),
                          ("By hour of day" + flag, self.by_hour),
                          ("Response time (minutes)", self.response),
                          ("By community" + flag, self.by_community)):
            parts += ["", f"## {title}", "", df.to_markdown(index=False, floatfmt=".4g")]
        return "\n".join(parts) + "\n"

    def files(self) -> list[str]:
        """The names :func:`write_report` writes."""
        return ["calibration.md", *[f"calibration_{n}.csv" for n in TABLES]]


def calibrate(scenario: Scenario, days: int | None = None, seed: int | None = None) -> Calibration:
    """Run the scenario over the data's span and compare it with the recorded calls.

    Args:
        scenario: A scenario whose ``data.calls_file`` is set.
        days: Days to simulate (default: the span of the data); at least 1.
        seed: Root seed (default: the scenario's).

    Returns:
        The comparisons, tables and statistics.

    Raises:
        ValueError: One line naming the field (``data.calls_file``, ``days``).
    """
    if not scenario.data.calls_file:
        raise ValueError("data.calls_file: calibration needs recorded calls")
    if days is not None and days < 1:
        raise ValueError(f"days: must be at least 1 (got {days})")
    calls = load_calls(scenario.data, scenario.city, scenario.incidents)
    names = scenario.incidents.names
    n_days = days or max(1, int(math.ceil(calls.days)))
    with warnings.catch_warnings():  # --days cuts the data on purpose; the note says so
        warnings.filterwarnings("ignore", message=r"data\.calls_file: .* lie after the",
                                category=DataWarning)
        model = build_model(scenario, seed=seed, days=n_days)
    model.run_days(n_days)
    sim = collect(model).incidents
    sim = sim[sim["reported"]].reset_index(drop=True)
    obs = _observed_frame(calls, model.layout.community, n_days)
    sim_frame = pd.DataFrame({
        "minute": sim["t_report"].to_numpy(dtype=float),
        "hour": (sim["t_report"] % MIN_PER_DAY // 60).astype(int).to_numpy(),
        "community": sim["community"].to_numpy(),
        "priority": sim["priority"].astype(str).to_numpy(),
        "response": sim["response_time"].to_numpy(dtype=float),
    })
    obs["priority"] = obs["priority"].map(dict(enumerate(names)))
    by_hour = _compare(obs, sim_frame, "hour", range(24))
    by_comm = _compare(obs, sim_frame, "community", range(model.layout.n_communities))
    by_prio = _compare(obs, sim_frame, "priority", names)
    response = _response(obs["response"], sim_frame["response"])
    mode = scenario.data.mode
    cal = Calibration(by_hour, by_comm, by_prio, response,
                      {"observed calls": float(len(obs)), "simulated calls": float(len(sim))},
                      _data_note(calls, len(obs), n_days), mode=mode)
    cfg = model.config
    cal.config = {"scenario": cfg.run.name, "mode": mode, "strategy": cfg.strategy.name,
                  "officers": cfg.police.officers, "days": n_days, "seed": str(cfg.run.seed)}
    batch = _batches(obs["minute"].to_numpy(), sim_frame["minute"].to_numpy(), n_days)
    cal.batches = int(max(batch[0].max(initial=-1), batch[1].max(initial=-1)) + 1)
    profiles_same = all(df["observed"].equals(df["simulated"])
                        for df in (by_hour, by_comm, by_prio)) and len(obs) == len(sim)
    if mode == "replay" and profiles_same:
        cal.identical = list(IDENTICAL)
    else:
        if mode == "replay":
            cal.notes.append("warning: replay mode but the simulated calls differ from the "
                             "recorded ones (by count, hour, community or priority); they are "
                             "compared below")
        cal.comparisons.append(_count_ratio(batch, cal.batches))
        cal.stats.update(_profile_stats(by_hour, by_comm, by_prio, len(obs), len(sim)))
    cal.comparisons += _response_comparisons(obs, sim_frame, batch, cal.batches, names)
    arrived = np.isfinite(sim["response_time"].to_numpy(dtype=float))
    cal.model_adds = {label: float(sim.loc[arrived, col].mean())
                      for label, col in (("dispatch delay", "dispatch_delay"),
                                         ("queue wait", "queue_wait"),
                                         ("travel", "travel_time"))
                      if col in sim and arrived.any()}
    return cal


def _fmt(v: float, count: bool = False) -> str:
    """4 significant digits, no exponent in [1e-4, 1e6); counts as integers (``22,350``)."""
    return fmt_number(float(v), count)


def _value_ci(v: float, ci: tuple[float, float], count: bool = False) -> str:
    if not math.isfinite(ci[0]):
        return _fmt(v, count)
    return f"{_fmt(v, count)} [{_fmt(ci[0])}, {_fmt(ci[1])}]"


def _data_note(calls: Calls, compared: int, n_days: int) -> str:
    drops = ", ".join(f"{k}: {v:,}" for k, v in calls.dropped.items() if v) or "none"
    text = (f"data: {calls.rows_read:,} calls read, {calls.minute.size:,} used, "
            f"{sum(calls.dropped.values()):,} dropped ({drops})")
    if calls.response_missing:
        text += f"; {calls.response_missing:,} without a usable response time"
    return f"{text}; {compared:,} calls in the {n_days:,} days compared."


def _observed_frame(calls: Calls, community: np.ndarray, n_days: int) -> pd.DataFrame:
    keep = calls.minute < n_days * MIN_PER_DAY
    return pd.DataFrame({
        "minute": calls.minute[keep].astype(float),
        "hour": (calls.minute[keep] % MIN_PER_DAY // 60).astype(int),
        "community": community[calls.cell[keep]],
        "priority": calls.priority[keep],
        "response": calls.response[keep].astype(float),
    })


def _compare(obs: pd.DataFrame, sim: pd.DataFrame, name: str, levels: object) -> pd.DataFrame:
    """Calls and mean response time of each level, observed beside simulated."""
    idx = pd.Index(list(levels), name=name)  # type: ignore[call-overload]
    o = obs[name].value_counts().reindex(idx, fill_value=0)
    s = sim[name].value_counts().reindex(idx, fill_value=0)
    df = pd.DataFrame({"observed": o, "simulated": s}).reset_index()
    df["observed_share"] = df["observed"] / max(df["observed"].sum(), 1)
    df["simulated_share"] = df["simulated"] / max(df["simulated"].sum(), 1)
    df["observed_response_mean"] = obs.groupby(name)["response"].mean().reindex(idx).to_numpy()
    df["simulated_response_mean"] = sim.groupby(name)["response"].mean().reindex(idx).to_numpy()
    return df


def _chi2(df: pd.DataFrame) -> float:
    """Chi-square distance between the two share profiles (0 = identical)."""
    o, s = df["observed_share"].to_numpy(), df["simulated_share"].to_numpy()
    denom = np.where(o + s > 0, o + s, 1)
    return float(0.5 * np.sum((o - s) ** 2 / denom))


def _profile_stats(by_hour: pd.DataFrame, by_comm: pd.DataFrame, by_prio: pd.DataFrame,
                   n_obs: int, n_sim: int) -> dict[str, float]:
    """Descriptive distances between the demand profiles (fit mode)."""
    o, s = by_comm["observed"], by_comm["simulated"]
    return {
        "count ratio (sim/obs)": n_sim / max(n_obs, 1),
        "hour profile chi2 distance": _chi2(by_hour),
        "community correlation": float(np.corrcoef(o, s)[0, 1])
        if o.std() > 0 and s.std() > 0 else float("nan"),
        "priority mix max abs diff": float((by_prio["observed_share"] -
                                            by_prio["simulated_share"]).abs().max()),
    }


def _response(observed: pd.Series, simulated: pd.Series) -> pd.DataFrame:
    rows = []
    for label, series in (("observed", observed.dropna()), ("simulated", simulated.dropna())):
        rows.append({"source": label, "n": len(series),
                     "mean": series.mean() if len(series) else np.nan,
                     "median": series.median() if len(series) else np.nan,
                     "p90": series.quantile(0.9) if len(series) else np.nan})
    return pd.DataFrame(rows)


# -- intervals ----------------------------------------------------------------------------
def _batches(obs_minute: np.ndarray, sim_minute: np.ndarray,
             n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Batch index of every observed and simulated call: up to 20 runs of whole days."""
    n_b = max(1, min(MAX_BATCHES, n_days))
    day_batch = np.array([b for b, part in enumerate(np.array_split(np.arange(n_days), n_b))
                          for _ in part], dtype=np.int64)

    def of(minute: np.ndarray) -> np.ndarray:
        day = np.clip((minute // MIN_PER_DAY).astype(np.int64), 0, n_days - 1)
        return day_batch[day]

    return of(obs_minute), of(sim_minute)


def _t_ci(est: float, resid: np.ndarray) -> tuple[float, float]:
    """Student-t interval of ``est`` from per-batch linearised residuals (mean zero)."""
    n = resid.size
    if n < 2 or not math.isfinite(est):
        return (math.nan, math.nan)
    se = float(resid.std(ddof=1) / math.sqrt(n))
    q = float(sps.t.ppf(0.5 + LEVEL / 2, n - 1))
    return (est - q * se, est + q * se)


def _ratio_of_sums(num: np.ndarray, den: np.ndarray) -> tuple[float, np.ndarray]:
    """The ratio ``sum num / sum den`` and its linearised batch residuals."""
    total = den.sum()
    if total <= 0:
        return math.nan, np.full(num.size, math.nan)
    r = float(num.sum() / total)
    return r, (num - r * den) / den.mean()


def _count_ratio(batch: tuple[np.ndarray, np.ndarray], n_b: int) -> Comparison:
    """Simulated / observed calls with the ratio estimator's CI over day batches."""
    o = np.bincount(batch[0], minlength=n_b).astype(float)
    s = np.bincount(batch[1], minlength=n_b).astype(float)
    ratio, resid = _ratio_of_sums(s, o)
    lo, hi = _t_ci(ratio, resid)
    return Comparison("call count", float(o.sum()), float(s.sum()), "ratio", ratio, lo, hi,
                      count=True)


def _response_comparisons(obs: pd.DataFrame, sim: pd.DataFrame,
                          batch: tuple[np.ndarray, np.ndarray], n_b: int,
                          names: list[str] | tuple[str, ...]) -> list[Comparison]:
    """Mean response time, overall and by priority: simulated - observed with CIs."""
    if not np.isfinite(obs["response"].to_numpy()).any():
        return []
    out = [_mean_difference("mean response time (min)", obs, sim, batch, n_b,
                            np.ones(len(obs), bool), np.ones(len(sim), bool))]
    for p in names:
        out.append(_mean_difference(f"mean response time, {p} (min)", obs, sim, batch, n_b,
                                    (obs["priority"] == p).to_numpy(),
                                    (sim["priority"] == p).to_numpy()))
    return out


def _mean_difference(name: str, obs: pd.DataFrame, sim: pd.DataFrame,
                     batch: tuple[np.ndarray, np.ndarray], n_b: int,
                     obs_rows: np.ndarray, sim_rows: np.ndarray) -> Comparison:
    """Paired by day batch: each source's mean (a ratio of sums) and their difference."""
    means, resids, cis = [], [], []
    for frame, rows, k in ((obs, obs_rows, batch[0]), (sim, sim_rows, batch[1])):
        y = frame["response"].to_numpy(dtype=float)
        use = rows & np.isfinite(y)
        total = np.bincount(k[use], weights=y[use], minlength=n_b)
        n = np.bincount(k[use], minlength=n_b).astype(float)
        m, e = _ratio_of_sums(total, n)
        means.append(m)
        resids.append(e)
        cis.append(_t_ci(m, e))
    diff = means[1] - means[0]
    lo, hi = _t_ci(diff, resids[1] - resids[0])
    return Comparison(name, means[0], means[1], "difference", diff, lo, hi, cis[0], cis[1])


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
        for name in TABLES:
            table = cal.comparisons_table if name == "comparisons" else getattr(cal, name)
            table.to_csv(folder / f"calibration_{name}.csv", index=False)

    return publish(out, "calibration", fill, force=force)
