"""The Python API: build a model from a scenario, run it, get the tables.

Example:
    >>> from sim import load_scenario, run
    >>> result = run(load_scenario("default"), days=7)
    >>> result.summary["response_time_mean"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.incident_table import IncidentTable
from sim.incidents import incidents_frame
from sim.metrics import TIERS, community_frame, daily_frame, extra_tables, summary
from sim.model import PoliceModel
from sim.outputs import publish
from sim.scenario import Scenario
from sim.tally import COLUMNS, IncidentTally


@dataclass
class RunResult:
    """Everything one run produced.

    The incident table is held lazily: ``incident_table`` is the parts a long run streamed to
    disk plus the rows still in memory at the end (read batch by batch, column by column, or
    written to Parquet part by part), and ``incidents`` is that table as one pandas
    DataFrame, assembled on first use and kept (without parts: the in-memory rows themselves,
    at no cost).

    Attributes:
        scenario: The fully resolved scenario (with the seed and days actually used).
        summary: Headline indicators.
        incident_table: One row per incident, read lazily (:class:`IncidentTable`).
        daily: One row per day.
        communities: One row per community.
        extra: Further tables (e.g. ``residents``, ``allocations``) by name.
    """

    scenario: Scenario
    summary: dict[str, Any]
    incident_table: IncidentTable
    daily: pd.DataFrame
    communities: pd.DataFrame
    extra: dict[str, pd.DataFrame]
    _incidents: pd.DataFrame | None = field(default=None, init=False, repr=False,
                                            compare=False)

    @property
    def incidents(self) -> pd.DataFrame:
        """One row per incident as a DataFrame (``incident_table.to_pandas()``, kept)."""
        if self._incidents is None:
            self._incidents = self.incident_table.to_pandas()
        return self._incidents

    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by file stem (the incident table assembled: see :attr:`incidents`)."""
        return {"incidents": self.incidents, "daily": self.daily,
                "communities": self.communities, **self.extra}


def build_model(scenario: Scenario, seed: int | np.random.SeedSequence | None = None,
                days: int | None = None) -> PoliceModel:
    """Create a model, resolving the seed and number of days into its scenario.

    Args:
        scenario: The scenario.
        seed: Overrides ``run.seed`` if given (an int, or a SeedSequence for sweeps).
        days: Overrides ``run.days`` if given.

    Returns:
        A model at time 0.
    """
    run_cfg = scenario.run
    if isinstance(seed, int):
        run_cfg = dataclasses.replace(run_cfg, seed=seed)
    if days is not None:
        run_cfg = dataclasses.replace(run_cfg, days=days)
    scenario = dataclasses.replace(scenario, run=run_cfg)
    return PoliceModel(scenario, seed=seed if isinstance(seed, np.random.SeedSequence) else None)


def incident_table(model: PoliceModel) -> IncidentTable:
    """Every incident of a model so far, read lazily.

    The parts streamed to disk, then the rows in memory (copied now: the model may run on).
    """
    lay = model.layout
    x, y = lay.xy(np.arange(lay.n_cells))
    tail = incidents_frame(model.log, x, y, TIERS, classes=model.config.incidents.names)
    return IncidentTable(model.log.parts(), tail, model.log.spill_folder)


def incidents_table(model: PoliceModel) -> pd.DataFrame:
    """Every incident of a model so far as one DataFrame (assembled: see :func:`incident_table`)."""
    return incident_table(model).to_pandas()


def collect(model: PoliceModel) -> RunResult:
    """Close the books of a model and build its tables.

    The daily, community and summary tables are computed from the incident table one part at
    a time (:class:`~sim.tally.IncidentTally`), never from the whole table at once.
    """
    model.finish()
    table = incident_table(model)
    tally = IncidentTally.of(table.batches(COLUMNS), model.config.incidents.names,
                             model.layout.height, model.now)
    days = int(math.ceil(model.day - 1e-9))
    daily = daily_frame(tally, model.recorder, days)
    communities = community_frame(tally, model)
    s = summary(model, tally, communities)
    extra = extra_tables(model)
    return RunResult(model.config, s, table, daily, communities, extra)


def run(scenario: Scenario, seed: int | np.random.SeedSequence | None = None,
        days: int | None = None, progress: bool = False) -> RunResult:
    """Run one scenario and return its tables.

    Args:
        scenario: The scenario.
        seed: Overrides ``run.seed`` (an int, or a SeedSequence for sweep replications).
        days: Overrides ``run.days``.
        progress: Show a tqdm progress bar (only when attached to a terminal).

    Returns:
        The run's summary and tables.
    """
    model = build_model(scenario, seed, days)
    n_days = model.config.run.days
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_days, unit="day", desc=model.strategy.name, leave=False,
                   disable=None)
    try:
        model.run_days(n_days, bar)
    finally:
        if bar is not None:
            bar.close()
    return collect(model)


def write_outputs(result: RunResult, out: str | Path, force: bool = False) -> Path:
    """Write a run's outputs: completely, beside the destination, then swapped into place.

    Nothing the user wrote is ever deleted: see :mod:`sim.outputs`.

    Args:
        result: The run.
        out: Destination folder; it must be missing or empty, or (with ``force``) an earlier
            run's output folder holding only the files grassroots wrote.
        force: Replace an earlier run's output folder.

    Returns:
        The destination path.

    Raises:
        RescuedOutputError: If ``out`` could not be used or written; the tables were saved in
            ``exc.saved`` instead (check ``out`` before running with
            :func:`sim.outputs.prepare`).
    """
    def fill(folder: Path) -> None:
        result.incident_table.to_parquet(folder / "incidents.parquet")  # part by part
        for name, table in {"daily": result.daily, "communities": result.communities,
                            **result.extra}.items():
            table.to_parquet(folder / f"{name}.parquet", index=False)
        (folder / "summary.json").write_text(json.dumps(_jsonable(result.summary), indent=2,
                                                        sort_keys=False) + "\n")
        (folder / "scenario.toml").write_text(result.scenario.to_toml())

    return publish(out, "run", fill, force=force)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, float | np.floating):
            out[k] = None if not math.isfinite(v) else float(v)
        elif isinstance(v, np.integer):
            out[k] = int(v)
        else:
            out[k] = v
    return out
