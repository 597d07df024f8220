"""A researcher-written sinking strategy: hot-spot teams (a worked plug-in example).

``hotspot_teams`` is station sinking (``sink_fraction`` of HQ officers move to the stations,
which dispatch themselves) plus one change: a share of each station's officers form a
*hot-spot team* that patrols only the highest-risk cells of its precinct (hot-spot policing,
Braga et al. 2019). Every four weeks the hot spots are re-ranked from the incidents the police
actually know about (reported ones), blended with the prior risk map.

It shows every hook of the strategy protocol (:class:`sim.strategies.Strategy`):

* ``organise`` (via the ``prepare`` and ``target`` hooks of :class:`Sinking`) - who is where;
* ``chain_hops`` / ``handling_factor`` - inherited from :class:`Station` (one hop fewer);
* ``eligible`` - team officers answer calls only inside their own precinct;
* ``patrol_weights`` - inside the hot spots, patrol time follows risk;
* ``clearance_bonus`` - inherited (the ``tech`` layer's data sharing, if switched on);
* ``on_day`` - gradual sinking and rotation (inherited), plus the four-weekly re-ranking.

Use it from Python::

    import importlib.util
    spec = importlib.util.spec_from_file_location("plugin_example", "docs/plugin_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)          # registers "hotspot_teams"

    from sim import load_scenario, run
    result = run(load_scenario(None, {"strategy.name": "hotspot_teams"}), days=30)

or install it in a package that declares the ``grassroots.strategies`` entry point (see
``docs/PLUGINS.md``) and name it in a scenario file: ``[strategy] name = "hotspot_teams"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agents.enums import Tier
from agents.officers import Assignment
from sim.params import param
from sim.strategies import register_strategy
from sim.strategies.builtin import SinkingParams, Station

if TYPE_CHECKING:
    from sim.model import PoliceModel


@dataclass(frozen=True)
class HotspotParams(SinkingParams):
    """The plug-in's own parameters.

    Once the strategy is registered they are ``strategy.team_share`` etc., set with
    ``--set``, swept, shown by ``grassroots show`` and listed in the ODD table.
    """

    team_share: float = param(0.3, "-", "Share of station officers in hot-spot teams "
                              "(assumption).", lo=0, hi=1)
    hot_share: float = param(0.1, "-", "Share of a precinct's cells that are its team's hot "
                             "spots (Weisburd 2015: ~5% of places hold ~50% of crime).",
                             lo=0, hi=1)
    refresh_days: int = param(28, "d", "Re-rank hot spots from recorded incidents this often "
                              "(assumption).", lo=1, hi=36_500)


@register_strategy
class HotspotTeams(Station):
    """Station sinking with hot-spot teams patrolling the top-risk cells of each precinct.

    Its parameters are declared in :class:`HotspotParams` (``Params``); every inherited
    ``[strategy]`` key still applies: ``sink_fraction``, ``sink_per_quarter``, ``tech``,
    ``rotation_days``, ``equipment_follows``...
    """

    name = "hotspot_teams"
    description = ("Station sinking; a share of station officers patrol only the top-risk "
                   "cells of their precinct, re-ranked every four weeks.")
    Params = HotspotParams

    @property
    def team_share(self) -> float:
        """Share of station officers in hot-spot teams."""
        return float(self.cfg.team_share)

    @property
    def hot_share(self) -> float:
        """Share of a precinct's cells that are its team's hot spots."""
        return float(self.cfg.hot_share)

    @property
    def refresh_days(self) -> int:
        """Re-rank hot spots this often (days)."""
        return int(self.cfg.refresh_days)

    # -- organise ---------------------------------------------------------------------------
    def prepare(self, model: PoliceModel) -> None:
        """Add one patrol area per precinct holding its hot spots (from the risk map).

        Called once by :meth:`Sinking.organise` before anybody is posted.
        """
        self.n_precincts = model.layout.n_precincts
        cells = [self.hot_cells(model, p, model.layout.risk) for p in range(self.n_precincts)]
        self.hot_mask = np.zeros(model.layout.n_cells, dtype=bool)
        for c in cells:
            self.hot_mask[c] = True
        self.first_area = model.add_patrol_areas(cells)

    def target(self, model: PoliceModel, fraction: float) -> list[Assignment]:
        """Station sinking at ``fraction``, then the hot-spot teams.

        ``team_share`` of station officers (in the strategy's fixed random order, so the same
        officers are chosen every time) get their precinct's hot-spot area. They stay station
        officers, posted at the station.
        """
        out = super().target(model, fraction)
        station = [i for i in self.local_order.tolist() if out[i].tier == Tier.STATION]
        for i in station[: int(round(self.team_share * len(station)))]:
            a = out[i]
            out[i] = Assignment(Tier.STATION, a.post_cell, a.precinct, -1,
                                self.first_area + a.precinct)
        return out

    def hot_cells(self, model: PoliceModel, precinct: int, score: np.ndarray) -> np.ndarray:
        """The ``hot_share`` highest-scoring cells of ``precinct`` (at least one)."""
        cells = np.flatnonzero(model.layout.precinct == precinct)
        k = max(1, math.ceil(self.hot_share * cells.size))
        order = np.lexsort((cells, -score[cells]))  # highest score first, ties by index
        return np.sort(cells[order[:k]])

    def is_team(self, model: PoliceModel, officers: np.ndarray) -> np.ndarray:
        """Which of ``officers`` are in a hot-spot team."""
        area = model.force.area[officers]
        return (area >= self.first_area) & (area < self.first_area + self.n_precincts)

    # -- dispatch ---------------------------------------------------------------------------
    def eligible(self, model: PoliceModel, row: int, candidates: np.ndarray) -> np.ndarray:
        """Team officers stay in their precinct: they answer only calls from it."""
        ok = super().eligible(model, row, candidates)
        if not hasattr(self, "first_area"):
            return ok
        own = model.force.precinct[candidates] == model.log.get("precinct", row)
        return ok & (~self.is_team(model, candidates) | own)

    # -- patrol -----------------------------------------------------------------------------
    def patrol_weights(self, model: PoliceModel, cells: np.ndarray) -> np.ndarray:
        """Inside a hot-spot area patrol time follows risk; elsewhere as the parent decides.

        Called for every patrol area whenever the areas are (re)installed; the city-wide and
        precinct areas exist before :meth:`prepare` runs, hence the ``getattr``.
        """
        hot = getattr(self, "hot_mask", None)
        if hot is not None and cells.size and hot[cells].all():
            return model.layout.risk[cells] + 1e-9
        return super().patrol_weights(model, cells)

    # -- evaluation -------------------------------------------------------------------------
    def on_day(self, model: PoliceModel, day: int) -> None:
        """Gradual sinking / rotation as usual; every ``refresh_days`` re-rank hot spots."""
        super().on_day(model, day)
        if day % self.refresh_days == 0:
            self.refresh(model, day)

    def refresh(self, model: PoliceModel, day: int) -> None:
        """Re-rank hot spots from recent reported incidents, half-and-half with prior risk.

        Only reported incidents of the last ``refresh_days`` days count: the police cannot
        see the others.
        """
        log = model.log
        t0 = (day - self.refresh_days) * 1440.0
        known = log.column("reported") & (log.column("t_occur") >= t0)
        counts = np.bincount(log.column("cell")[known], minlength=model.layout.n_cells)
        recorded = counts / counts.sum() if counts.sum() else model.layout.risk
        score = 0.5 * model.layout.risk + 0.5 * recorded
        areas = list(model.patrol_areas)
        self.hot_mask[:] = False
        for p in range(self.n_precincts):
            cells = self.hot_cells(model, p, score)
            areas[self.first_area + p] = cells
            self.hot_mask[cells] = True
        model.set_patrol_areas(areas)  # officers keep their area ids; only the cells change

    def describe(self) -> dict[str, object]:
        """Key facts for summaries."""
        return {**super().describe(), "team_share": self.team_share,
                "hot_share": self.hot_share}
