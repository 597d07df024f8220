"""Outcomes of incidents: whether they are reported and whether they are cleared.

Both are threshold decisions on uniforms pre-drawn at the incident's birth, so that the same
incident has the same luck under every strategy and only the probabilities differ.

Clearance follows a logistic model anchored at each priority's base rate (FBI UCR 2019),
with the response-time effect of Blanes i Vidal & Kirchmaier (2018) for incidents caught in
progress: ``logit p = logit p0 + b_rt * ln(RT / RT_expected) * in_progress + b_skill * (skill -
0.5)``, where ``b_rt = e_rt / (p0 (1 - p0))`` turns the marginal effect ``dP/dlnT = e_rt``
(-0.49: -4.7 pp per +10 % response time) into a logit slope at the base rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import param

if TYPE_CHECKING:
    from agents.officers import Officers
    from agents.residents import Residents
    from sim.incident_classes import IncidentClass
    from sim.incidents import IncidentLog


@dataclass(frozen=True)
class OutcomesConfig:
    """How response, skill and cooperation change clearance, and trust changes reporting."""

    clearance_rt_effect: float = param(
        -0.49,
        "1/ln(min)",
        "dP(clear)/dln(response time) for in-progress incidents: -4.7 pp per +10% "
        "(Blanes i Vidal & Kirchmaier 2018).",
        lo=-5,
        hi=0,
    )
    clearance_skill_effect: float = param(
        1.0, "logit", "Log-odds gain per unit of officer skill above 0.5 (assumption).", lo=0,
        hi=10, plausible=(0.5, 2.0),
    )
    reporting_trust_elasticity: float = param(
        1.0, "-", "Relative change in reporting per unit of trust above baseline "
        "(procedural justice -> cooperation; Tyler & Fagan 2008).", lo=0, hi=10,
    )
    cooperation_effect: float = param(
        2.0, "logit", "Clearance log-odds per unit of community cooperation above baseline "
        "(witnesses naming suspects; Blanes i Vidal & Kirchmaier 2018).", lo=0, hi=10,
    )

def logit(p: float) -> float:
    """Log-odds of a probability clipped away from 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def expit(x: float) -> float:
    """Inverse of :func:`logit` (0 or 1 at the extremes, without an overflow error)."""
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) beyond double precision: the probability is 0
        return 0.0


class Outcomes:
    """Decides reporting and clearance.

    Args:
        cfg: The ``[outcomes]`` section.
        classes: The incident classes, in priority order.
        log: The incident log.
        officers: The force.
        residents: The residents (victims, trust, cooperation).
        clock: The current minute.
        bonus: Log-odds the strategy adds to every clearance (asked at each clearance).
    """

    def __init__(self, cfg: OutcomesConfig, classes: list[IncidentClass], log: IncidentLog,
                 officers: Officers, residents: Residents, clock: Callable[[], float],
                 bonus: Callable[[], float] = lambda: 0.0) -> None:
        self.cfg = cfg
        self.log = log
        self.officers = officers
        self.residents = residents
        self.clock = clock
        self.bonus = bonus
        self.report_p = np.array([pc.report_prob for pc in classes])
        self.base_logit = np.array([logit(pc.clearance_base) for pc in classes])
        p0 = np.array([pc.clearance_base for pc in classes]).clip(1e-3, 1 - 1e-3)
        self.rt_slope = cfg.clearance_rt_effect / (p0 * (1 - p0))
        self.expected = np.array([max(pc.expected_response_min, 1e-3) for pc in classes])
        res = residents.cfg
        self.trust_ref = res.trust_init
        self.coop_ref = (1 - res.cooperation_familiarity_weight) * res.trust_init
        self.cooperation: np.ndarray | None = None

    def reporting_probability(self, klass: np.ndarray, victims: np.ndarray) -> np.ndarray:
        """Probability that each incident is reported: base rate scaled by the victim's trust.

        ``p = p0 * (1 + e * (trust - trust_init))``, clipped to 0..1 (incidents without a
        resident victim use ``p0``).
        """
        p = self.report_p[klass]
        e = self.cfg.reporting_trust_elasticity
        r = self.residents
        if e == 0 or r.n == 0:
            return p
        trust = np.where(victims >= 0, r.trust[np.maximum(victims, 0)], self.trust_ref)
        return np.clip(p * (1 + e * (trust - self.trust_ref)), 0, 1)

    def refresh_cooperation(self) -> None:
        """Recompute each community's cooperation (called once a day)."""
        if self.residents.n:
            self.cooperation = np.nan_to_num(self.residents.cooperation(), nan=self.coop_ref)

    def response_time(self, row: int) -> float:
        """Minutes from the call to the officer's arrival (at least a thousandth)."""
        log = self.log
        return max(float(log.get("t_arrive", row)) - float(log.get("t_report", row)), 1e-3)

    def clearance_probability(self, row: int, officer: int) -> float:
        """Probability that incident ``row`` attended by ``officer`` is cleared."""
        log, cfg = self.log, self.cfg
        klass = int(log.get("priority", row))
        x = float(self.base_logit[klass])
        if log.get("in_progress", row):
            x += float(self.rt_slope[klass]) * math.log(
                self.response_time(row) / float(self.expected[klass]))
        x += cfg.clearance_skill_effect * (float(self.officers.skill[officer]) - 0.5)
        if self.cooperation is not None:
            coop = float(self.cooperation[int(log.get("community", row))])
            x += cfg.cooperation_effect * (coop - self.coop_ref)
        x += self.bonus()
        return expit(x)

    def close_incident(self, row: int, officer: int) -> None:
        """Decide clearance, let the officer learn, let the victim judge the response."""
        log = self.log
        cleared = bool(log.get("u_clear", row) < self.clearance_probability(row, officer))
        log.set("cleared", row, cleared)
        self.officers.finish_case(officer)
        victim = int(log.get("victim", row))
        if victim >= 0:
            self.residents.experience(victim, self.experience_score(row, officer, cleared))

    def experience_score(self, row: int, officer: int, cleared: bool | None = None) -> float:
        """How the victim of ``row`` judges the response of ``officer`` (see ``judge``).

        Args:
            row: The incident.
            officer: The officer who attended.
            cleared: Whether it was cleared (None: read from the log).
        """
        log = self.log
        klass = int(log.get("priority", row))
        community = int(log.get("community", row))
        f = self.officers
        conduct = float(f.skill[officer]) + f.familiarity(officer, community, self.clock())
        if cleared is None:
            cleared = bool(log.get("cleared", row))
        return self.residents.judge(self.response_time(row), float(self.expected[klass]),
                                    cleared, conduct)
