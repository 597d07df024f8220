"""Demand: the incidents of a run, drawn day by day, and the log that holds them.

Wires the incident process (synthetic, replayed or fitted to recorded calls), the hazard
modifiers (deterrence from yesterday's patrol, near-repeat follow-ons), the residents who are
victims and decide whether to report, and the incident log, which streams old, final rows to
Parquet in long runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.hazard import Hazard
from sim.incident_table import SpillFolder
from sim.incidents import IncidentLog, IncidentProcess
from sim.rng import derived
from sim.units import MIN_PER_DAY

if TYPE_CHECKING:
    from agents.residents import Residents
    from sim.city import CityLayout
    from sim.scenario import Scenario

LOOK_BACK_DAYS = 30
"""Days of incidents always kept in memory (the app's and strategies' shortest look-back)."""


def load_recorded(config: Scenario, layout: CityLayout) -> tuple[Any, Any]:
    """Read recorded calls (replay or fit); their risk surface replaces the synthetic one.

    The calls are mapped onto ``layout`` (its mask and, in a real city, its frame). The fit
    uses every call of the file; a replay keeps only the calls within ``run.days`` (the others
    are counted and told in a :class:`~sim.datafile.DataWarning`). The synthetic risk surface
    is kept in the fit as ``base_risk`` (for ``data.background = synthetic``).

    Returns:
        The calls and the fitted process parameters, or ``(None, None)`` without data.
    """
    data = config.data
    if not data.calls_file:
        return None, None
    from sim.calls import fit_process, load_calls, warn_losses
    from sim.datafile import DataError, DataWarning

    if data.background != "none" and data.mode != "replay":
        raise DataError(f"data.background: {data.background} background demand is added to "
                        "a replay (data.mode = replay); a fitted process draws every class")
    calls = load_calls(data, layout, config.incidents)
    warn_losses(calls, data)
    report_p = np.array([pc.report_prob for pc in config.incidents.classes.values()])
    hazard = config.hazard
    eta = hazard.near_repeat_eta if hazard.near_repeat else 0.0
    fit = fit_process(calls, layout.n_cells, layout.width, layout.height, data, report_p,
                      self_excitation=eta, mask=layout.mask)
    fit["base_risk"] = layout.risk
    layout.risk = np.asarray(fit["risk"])
    layout.hotspot = layout.risk >= np.quantile(layout.risk, 1 - config.city.hotspot_cell_share)
    if calls.before_start:
        total = calls.before_start + calls.minute.size
        warnings.warn(f"data.start: {calls.before_start:,} of {total:,} calls lie before "
                      f"{calls.start} and are not used", DataWarning, stacklevel=2)
    if data.mode == "replay":
        calls = calls.within(config.run.days)
    return calls, fit


class Demand:
    """The incidents of one run.

    Args:
        config: The scenario.
        layout: The city.
        calls: Recorded calls (or None) and ``fit``, their fitted process (see
            :func:`load_recorded`).
        fit: The fitted process parameters, or None.
        rng: The incident stream.
        residents: Victims and their trust.
        report_probability: Probability of reporting per incident, from class and victim.
    """

    def __init__(self, config: Scenario, layout: CityLayout, calls: Any, fit: Any,
                 rng: np.random.Generator, residents: Residents,
                 report_probability: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        self.config = config
        self.layout = layout
        self.calls = calls
        self.residents = residents
        self.report_probability = report_probability
        self.replay = calls is not None and config.data.mode == "replay"
        expected = config.incidents.rate_per_1000_day * layout.population.sum() / 1000
        capacity = int(expected * min(config.run.days, 400) * 1.1) + 16
        if config.run.log_rows:
            capacity = min(capacity, int(config.run.log_rows * 1.25) + 16)
        self.log = IncidentLog(capacity)
        self.process = self._process(fit, rng)
        self.log.extra_columns = self._extra_columns()
        self.hazard = Hazard(config.hazard, layout, self.process, self.replay)
        self.day_start = 0

    def _process(self, fit: Any, rng: np.random.Generator) -> IncidentProcess:
        """Synthetic incidents, recorded calls replayed, or a process fitted to them."""
        cfg = self.config.incidents
        if self.calls is not None:
            from sim.calls import FittedProcess, ReplayProcess

            if self.replay:
                from sim.replay import background_process

                background = background_process(
                    self.config.data, cfg, fit, float(self.layout.population.sum()),
                    derived(rng, "background"))
                return ReplayProcess(cfg, self.calls, self.layout.risk, rng, background)
            return FittedProcess(cfg, fit, rng)
        return IncidentProcess(cfg, float(self.layout.population.sum()), self.layout.risk, rng)

    def _extra_columns(self) -> tuple[str, ...]:
        """Columns the incidents table adds: ``source`` and the replay's recorded durations."""
        if not self.replay:
            return ()
        source = ("source",) if getattr(self.process, "background", None) is not None else ()
        return (*source, *(f"rec_{k}" for k in self.calls.recorded))

    def draw_day(self, day: int, presence: np.ndarray) -> np.ndarray:
        """Draw and log one day's incidents; return the ids of those reported.

        Args:
            day: The day.
            presence: Yesterday's visible patrol per cell (deterrence).
        """
        log = self.log
        yesterday = log.column("cell", start=self.day_start) if day > 0 else None
        extra = self.hazard.near_repeat(yesterday)
        self.day_start = log.n
        deterred = self.hazard.deterrence(presence) if day > 0 else None
        cols = self.process.draw_day(day, deterred, extra)
        lay = self.layout
        cols["community"] = lay.community[cols["cell"]]
        cols["precinct"] = lay.precinct[cols["cell"]]
        cols["victim"] = self.residents.victims(cols["cell"], cols["community"],
                                                cols["u_victim"])
        cols["t_report"] = cols["t_occur"] + self.process.report_delay(cols["in_progress"],
                                                                       cols["z_report"])
        cols["reported"] = self._reported(cols)
        ids = log.append(**cols)
        log.set("t_report", ids[~cols["reported"]], np.nan)
        return ids[cols["reported"]]

    def _reported(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Which incidents are reported; recorded calls are, at their call time (in place)."""
        recorded = cols.get("recorded")
        if recorded is None:
            return cols["u_report"] < self.report_probability(cols["priority"], cols["victim"])
        cols["t_report"] = np.where(recorded, cols["t_occur"], cols["t_report"])
        reported = recorded.copy()
        model = ~recorded
        if model.any():  # background incidents: reported as the model's own are
            p_rep = self.report_probability(cols["priority"][model], cols["victim"][model])
            reported[model] = cols["u_report"][model] < p_rep
        return reported

    def spill(self, day: int, live: int, look_back: int,
              frame: Callable[[IncidentLog, int], Any]) -> None:
        """Stream old, final incidents to disk once the log holds ``run.log_rows`` rows.

        A row is final when its incident can no longer change: not waiting in the command
        chain, not open (``live`` is the smallest such id). Rows of the last ``look_back`` days
        (the strategy's), and at least of the last ``LOOK_BACK_DAYS`` (the app's), stay in
        memory.
        """
        log = self.log
        limit = self.config.run.log_rows
        if limit == 0 or log.size <= limit:
            return
        if log.spill_dir is None:
            log.spill_folder = SpillFolder()  # removed once neither the log nor a table uses it
            log.spill_dir = log.spill_folder.path
        keep_days = max(look_back, LOOK_BACK_DAYS)
        recent = log.first_id_at((day - keep_days) * MIN_PER_DAY)
        upto = min(recent, live, self.day_start)
        if upto - log.first_id >= limit // 4:
            log.spill(upto, frame)
