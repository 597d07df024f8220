"""The optimisation report (``report.md``): front, plans, paired check, verdict."""

from __future__ import annotations

import pandas as pd

from experiments.optimize_spec import OptimizeSpec
from sim.indicators import label

RESPONSE = "response_time_mean"


def _fmt(x: float) -> str:
    return "-" if pd.isna(x) else f"{x:.3f}"


def _front_table(front: pd.DataFrame, spec: OptimizeSpec, most: int = 40) -> list[str]:
    cols = list(spec.objectives)
    lines = ["| plan | HQ | stations | community officers | " +
             " | ".join(label(c) for c in cols) + " |",
             "|---|---|---|---|" + "---|" * len(cols)]
    stations = [c for c in front.columns if c.startswith("station_")]
    comms = [c for c in front.columns if c.startswith("community_")]
    for row in front.sort_values(cols[0]).head(most).itertuples(index=False):
        st = ",".join(str(int(getattr(row, c))) for c in stations)
        posts = sum(int(getattr(row, c)) for c in comms)
        lines.append(f"| {row.plan} | {row.hq} | {st} | {posts} | " +
                     " | ".join(_fmt(getattr(row, c)) for c in cols) + " |")
    if len(front) > most:
        lines.append(f"\n({len(front) - most} more plans in `front.parquet`.)")
    return lines


def _paired_table(pairs: pd.DataFrame, spec: OptimizeSpec) -> list[str]:
    sq = spec.check.status_quo
    sub = pairs[pairs["strategy"] == sq]
    cols = list(spec.objectives)
    lines = [f"Plan minus `{sq}` (status quo), paired by replication, mean and 95% CI:", "",
             "| plan | " + " | ".join(label(c) for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for plan, g in sub.groupby("plan", sort=True):
        cells = []
        for c in cols:
            r = g[g["indicator"] == c].iloc[0]
            cells.append(f"{r['diff']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]")
        lines.append(f"| {plan} | " + " | ".join(cells) + " |")
    return lines


def _builtins_table(check: pd.DataFrame, spec: OptimizeSpec) -> list[str]:
    cols = list(spec.objectives)
    lines = ["| strategy or plan | " + " | ".join(label(c) for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    means = check.groupby("key", sort=False)[cols].mean()
    for key, row in means.iterrows():
        lines.append(f"| {key} | " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return lines


def _verdict(won: list[str], pairs: pd.DataFrame, spec: OptimizeSpec) -> list[str]:
    if RESPONSE not in spec.objectives:
        return [f"No verdict: `{RESPONSE}` is not an objective of this search."]
    names = ", ".join(f"`{s}`" for s in spec.check.strategies)
    rule = (f"A plan wins when, on fresh seeds, its paired 95% CI of the difference in "
            f"{label(RESPONSE)} against every built-in strategy ({names}) lies below zero, "
            "and its interval against each of them for satisfaction and response-time "
            "equity (Gini) does not lie entirely on the worse side.")
    if won:
        best = pairs[(pairs["indicator"] == RESPONSE) & pairs["plan"].isin(won)]
        top = best.groupby("plan")["hi"].max().sort_values().index[0]
        return [rule, "", f"**{len(won)} plan(s) win: {', '.join(won)}.** The most "
                f"convincing is {top} (plans/{top}.toml)."]
    resp = pairs[pairs["indicator"] == RESPONSE]
    best = resp.groupby("plan")["diff"].mean().sort_values().index[0]
    unbeaten = resp[(resp["plan"] == best) & ~(resp["hi"] < 0)]["strategy"].tolist()
    why = (f"The best plan on mean response, {best}, is not faster (paired 95%) than "
           + ", ".join(f"`{s}`" for s in unbeaten) + "." if unbeaten else
           f"The best plan on mean response, {best}, is faster than every strategy but worse "
           "on satisfaction or equity against at least one.")
    return [rule, "", "**No plan on the front beats every built-in strategy on mean response "
            "without being worse on satisfaction or equity, on fresh seeds.** " + why]


def report_markdown(spec: OptimizeSpec, trials: pd.DataFrame, front: pd.DataFrame,
                    chosen: pd.DataFrame, check: pd.DataFrame, pairs: pd.DataFrame,
                    won: list[str]) -> str:
    """The whole report."""
    v = spec.variables
    ok = int(trials["feasible"].sum()) if not trials.empty else 0
    lines = [f"# Optimisation: {spec.name}", "", spec.description, "",
             f"Base scenario `{spec.base}`; {spec.days} days per run, {spec.replications} "
             f"replication(s) per plan on common random numbers (seed {spec.seed}); NSGA-II "
             f"(optuna) with a population of {spec.population}: {len(trials)} plans evaluated, "
             f"{ok} feasible, {len(front)} on the Pareto front.", "",
             f"Decision variables: officers per station in [{v.station_min}, {v.station_max}]"
             + (f", officers per community post in [0, {v.community_max}]"
                if v.community_max else "") + f"; the rest at HQ (at least {v.min_hq})" +
             (f"; at most {v.max_vehicles} vehicles" if v.max_vehicles else "") + ".",
             "Objectives: " + ", ".join(
                 f"{label(o)}" for o in spec.objectives) + ".", "",
             "![front](figures/front.png)", "", "## The front", ""]
    lines += _front_table(front, spec) if not front.empty else ["No feasible plan."]
    if not check.empty:
        lines += ["", "## On fresh seeds", "",
                  f"{len(chosen)} plans of the front (spread along {label(spec.objectives[0])})"
                  f" and the built-in strategies, re-run with {spec.check.replications} fresh "
                  f"replications (seed {spec.check.seed}, never used by the search), common "
                  "random numbers:", ""]
        lines += _builtins_table(check, spec)
        lines += ["", "![plans](figures/plans.png)", ""]
        lines += _paired_table(pairs, spec)
        lines += ["", "Every plan against every strategy: `paired.csv`.", "", "## Verdict", ""]
        lines += _verdict(won, pairs, spec)
    lines += ["", "## Reproduce", "",
              "Each plan is a scenario file: `grassroots run plans/<plan>.toml --spawn-key r` "
              f"gives replication r (0..{spec.replications - 1}) of the search exactly; the "
              "objectives in `front.parquet` are the means over those replications.", ""]
    return "\n".join(lines)
