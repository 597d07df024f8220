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

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import PoliceModel


def logit(p: float) -> float:
    """Log-odds of a probability clipped away from 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def expit(x: float) -> float:
    """Inverse of :func:`logit` (0 or 1 at the extremes, without an overflow warning)."""
    with np.errstate(over="ignore"):
        return float(1.0 / (1.0 + np.exp(-x)))


class Outcomes:
    """Decides reporting and clearance for one model.

    Args:
        model: The model.
    """

    def __init__(self, model: PoliceModel) -> None:
        self.model = model
        cfg = model.config.incidents
        self.report_p = np.array([pc.report_prob for pc in model.priority_cfg])
        self.base_logit = np.array([logit(pc.clearance_base) for pc in model.priority_cfg])
        p0 = np.array([pc.clearance_base for pc in model.priority_cfg]).clip(1e-3, 1 - 1e-3)
        self.rt_slope = cfg.clearance_rt_effect / (p0 * (1 - p0))
        self.expected = np.array([max(pc.expected_response_min, 1e-3)
                                  for pc in model.priority_cfg])

        res = model.config.residents
        self.coop_ref = (1 - res.cooperation_familiarity_weight) * res.trust_init
        self.cooperation: np.ndarray | None = None

    def reporting_probability(self, priority: np.ndarray, victims: np.ndarray) -> np.ndarray:
        """Probability that each incident is reported: base rate scaled by the victim's trust.

        ``p = p0 * (1 + e * (trust - trust_init))``, clipped to 0..1 (incidents without a
        resident victim use ``p0``).
        """
        m = self.model
        p = self.report_p[priority]
        res = m.config.residents
        if res.reporting_trust_elasticity == 0 or m.residents.n == 0:
            return p
        trust = np.where(victims >= 0, m.residents.trust[np.maximum(victims, 0)], res.trust_init)
        return np.clip(p * (1 + res.reporting_trust_elasticity * (trust - res.trust_init)), 0, 1)

    def refresh_cooperation(self) -> None:
        """Recompute each community's cooperation (called once a day)."""
        if self.model.residents.n:
            self.cooperation = np.nan_to_num(self.model.residents.cooperation(),
                                              nan=self.coop_ref)

    def clearance_probability(self, row: int, officer: int) -> float:
        """Probability that incident ``row`` attended by ``officer`` is cleared."""
        m = self.model
        log = m.log
        prio = int(log.get("priority", row))
        x = self.base_logit[prio]
        if log.get("in_progress", row):
            rt = max(float(log.get("t_arrive", row) - log.get("t_report", row)), 1e-3)
            x += self.rt_slope[prio] * np.log(rt / self.expected[prio])
        x += m.config.incidents.clearance_skill_effect * (m.force.skill[officer] - 0.5)
        if self.cooperation is not None:
            coop = self.cooperation[int(log.get("community", row))]
            x += m.config.residents.cooperation_effect * (coop - self.coop_ref)
        x += m.strategy.clearance_bonus(m)
        return expit(x)

    def close_incident(self, row: int, officer: int) -> None:
        """Decide clearance, let the victim judge the response, let the officer learn."""
        m = self.model
        log = m.log
        log.set("cleared", row, log.get("u_clear", row) < self.clearance_probability(row, officer))
        f = m.force
        f.cases[officer] += 1
        f.skill[officer] += m.config.residents.skill_gain_per_case * (1 - f.skill[officer])
        victim = int(log.get("victim", row))
        if victim >= 0:
            m.residents.experience(victim, self.experience_score(row, officer))

    def experience_score(self, row: int, officer: int) -> float:
        """How the victim judges the response, in -1..1.

        A weighted sum of response time against expectation (``tanh(ln(E / RT))``), whether
        the case was cleared (+1 / -1), and the officer's conduct (skill and familiarity with
        the community, mapped to -1..1).
        """
        m = self.model
        log = m.log
        res = m.config.residents
        prio = int(log.get("priority", row))
        rt = max(float(log.get("t_arrive", row) - log.get("t_report", row)), 1e-3)
        timely = float(np.tanh(np.log(self.expected[prio] / rt)))
        cleared = 1.0 if log.get("cleared", row) else -1.0
        community = int(log.get("community", row))
        conduct = m.force.skill[officer] + m.officer_familiarity(officer, community)
        total = res.response_weight + res.clearance_weight + res.conduct_weight
        if total <= 0:
            return 0.0
        score = (res.response_weight * timely + res.clearance_weight * cleared +
                 res.conduct_weight * (conduct - 1.0))
        return min(max(float(score / total), -1.0), 1.0)
