"""The runs of one page: a single run, or runs A and B in compare mode (no UI code).

:class:`Session` holds one run, or two runs for compare mode (same controls and seed,
different strategies, hence the same incident stream at the start; see
:mod:`viz.compare_note` for why it diverges), and steps them together under a lock
so that the Play thread and button clicks never interleave. :meth:`Session.differences` gives
the indicators of both runs and B - A.
"""

from __future__ import annotations

import threading

from viz.controls import Controls, controls_from_preset
from viz.live import INDICATORS, Indicator
from viz.run import Sim


class Session:
    """The runs shown by one page: ``sims[0]`` (A) and in compare mode ``sims[1]`` (B).

    Args:
        controls: Controls to build from (the default preset's if None). Nothing is built
            until :meth:`reset` or :meth:`ensure` is called.
    """

    def __init__(self, controls: Controls | None = None) -> None:
        self.lock = threading.RLock()
        self.controls = controls
        self.applied: Controls | None = None
        self.strategy_b: str | None = None
        self.sims: list[Sim] = []

    @property
    def compare(self) -> bool:
        """Whether two runs are shown."""
        return len(self.sims) > 1

    @property
    def hours(self) -> int:
        """Simulated hours of the runs."""
        return self.sims[0].hours if self.sims else 0

    @property
    def done(self) -> bool:
        """Whether the runs reached the scenario's horizon."""
        return bool(self.sims) and all(s.done for s in self.sims)

    def ensure(self) -> None:
        """Build the first run if nothing is built yet."""
        with self.lock:
            if not self.sims:
                self.reset(self.controls or controls_from_preset())

    def reset(self, controls: Controls, strategy_b: str | None = None) -> None:
        """Rebuild the run(s) at time 0 from ``controls`` (reproducible for a seed).

        Args:
            controls: The controls of run A.
            strategy_b: Strategy of run B for compare mode (None = one run).

        Raises:
            sim.scenario.ScenarioError: If the controls are invalid (nothing changes then).
            ValueError: If a strategy is unknown (nothing changes then).
        """
        sims = [Sim(controls, _label("A", controls.strategy) if strategy_b else
                    controls.strategy)]
        if strategy_b:
            sims.append(Sim(controls.with_strategy(strategy_b), _label("B", strategy_b)))
        with self.lock:
            self.sims = sims
            self.applied = controls
            self.controls = controls
            self.strategy_b = strategy_b

    def set_compare(self, strategy_b: str | None) -> None:
        """Enter compare mode with ``strategy_b``, or leave it with None.

        Entering builds run B from run A's controls with the other strategy and simulates it
        up to A's time, so both are aligned hour by hour (on the same incident stream at the
        start, see :mod:`viz.compare_note`).
        """
        with self.lock:
            self.ensure()
            a = self.sims[0]
            if strategy_b is None:
                a.label = a.controls.strategy
                self.sims = [a]
                self.strategy_b = None
                return
            b = Sim(a.controls.with_strategy(strategy_b), _label("B", strategy_b))
            b.run_to(a.hours)
            a.label = _label("A", a.controls.strategy)
            self.sims = [a, b]
            self.strategy_b = strategy_b

    def step(self, hours: int = 1) -> int:
        """Advance every run by ``hours`` (stops at the horizon); returns hours simulated."""
        with self.lock:
            self.ensure()
            done = [s.step(hours) for s in self.sims]
            return done[0]

    def differences(self) -> list[tuple[Indicator, float, float, float]]:
        """Every indicator as ``(indicator, A, B, B - A)`` in display units (compare mode)."""
        if not self.compare:
            return []
        a, b = self.sims[0].stats, self.sims[1].stats
        out = []
        for ind in INDICATORS:
            va, vb = ind.scale(a[ind.key]), ind.scale(b[ind.key])
            out.append((ind, va, vb, vb - va))
        return out


def _label(side: str, strategy: str) -> str:
    return f"{side}: {strategy}"
