"""Worked extension 1: officers who may refuse non-emergency calls (one file, a plug-in).

A share ``refusing_share`` of officers are *reluctant*: offered a call of a class other than
those in ``never_refused`` (emergencies by default), a reluctant officer turns it down with
probability ``refusal_prob``, and the dispatcher sends the nearest officer who accepts (or
queues the call). Everything else is station sinking.

What it shows:

* **Own parameters** (:class:`RefusalParams`): once registered they are
  ``strategy.refusing_share`` etc., set with ``--set``, swept, shown by ``grassroots show``.
* **Own random draws** from named streams (:mod:`sim.rng`): who is reluctant comes from
  ``streams.named("strategy", "reluctant")``; whether officer ``i`` refuses incident ``row``
  is the ``i``-th uniform of ``derived(streams.strategy, "refusal", row)``, the same however
  often or in whatever order the dispatcher asks. No other draw of the run changes, so with
  ``refusal_prob = 0`` the run is identical to ``station``.
* **A dispatch rule** through the strategy's ``eligible`` hook, for any incident class.

Use it from Python (``docs/EXTENDING.md``)::

    import importlib.util, sys
    path = "docs/extensions/refusing_officers.py"
    spec = importlib.util.spec_from_file_location("refusing", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["refusing"] = module
    spec.loader.exec_module(module)      # registers "station_refusal"

    from sim import load_scenario, run
    sc = load_scenario("station", ["strategy.name=station_refusal", "strategy.refusal_prob=0.8"])
    result = run(sc, days=30)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from agents.officers import Assignment
from sim.params import param
from sim.rng import derived
from sim.strategies import register_strategy
from sim.strategies.builtin import SinkingParams, Station

if TYPE_CHECKING:
    from sim.model import PoliceModel
    from sim.scenario import Scenario


@dataclass(frozen=True)
class RefusalParams(SinkingParams):
    """Who may refuse, how often, and which calls are never refused."""

    refusing_share: float = param(
        0.2, "-", "Share of officers who may refuse a non-emergency call (assumption; "
        "a worked extension).", lo=0, hi=1)
    refusal_prob: float = param(
        0.5, "-", "Probability that a reluctant officer refuses an offered call (assumption).",
        lo=0, hi=1)
    never_refused: tuple[str, ...] = param(
        ("emergency",), "-", "Incident classes no officer refuses.")


@register_strategy
class StationRefusal(Station):
    """Station sinking where reluctant officers may turn down non-emergency calls."""

    name = "station_refusal"
    description = "Station sinking; some officers may refuse non-emergency calls."
    Params = RefusalParams

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        names = self.scenario.incidents.names
        for name in self.cfg.never_refused:
            if name not in names:
                raise ValueError(f"strategy.never_refused: unknown incident class {name!r} "
                                 f"(classes: {', '.join(names)})")
        self.refusable = np.array([n not in self.cfg.never_refused for n in names])
        self.refusals = 0
        self._offers: dict[int, np.ndarray] = {}

    def organise(self, model: PoliceModel) -> list[Assignment]:
        """Station sinking; then draw who is reluctant (a stream of its own)."""
        out = super().organise(model)
        u = model.streams.named("strategy", "reluctant").random(model.force.n)
        self.reluctant = u < self.cfg.refusing_share
        return out

    def eligible(self, model: PoliceModel, row: int, candidates: np.ndarray) -> np.ndarray:
        """As station sinking, minus the reluctant officers who refuse this call."""
        ok = super().eligible(model, row, candidates)
        if not self.refusable[int(model.log.get("priority", row))]:
            return ok
        refuse = self.reluctant[candidates] & (self.offer(model, row)[candidates]
                                               < self.cfg.refusal_prob)
        self.refusals += int((refuse & ok).sum())
        return ok & ~refuse

    def offer(self, model: PoliceModel, row: int) -> np.ndarray:
        """One uniform per officer for incident ``row`` (the same at every asking)."""
        u = self._offers.get(row)
        if u is None:
            if len(self._offers) > 10_000:
                self._offers.clear()
            u = derived(model.streams.strategy, "refusal", row).random(model.force.n)
            self._offers[row] = u
        return u

    def describe(self) -> dict[str, object]:
        """Key facts for summaries: how many offers were refused."""
        return {**super().describe(), "refusals": self.refusals}
