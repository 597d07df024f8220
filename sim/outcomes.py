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
    """Inverse of :func:`logit`."""
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

    def reporting_probability(self, priority: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Probability that each incident is reported to the police."""
        return self.report_p[priority]

    def clearance_probability(self, row: int, officer: int) -> float:
        """Probability that incident ``row`` attended by ``officer`` is cleared."""
        m = self.model
        log = m.log
        prio = int(log.priority[row])
        x = self.base_logit[prio]
        if log.in_progress[row]:
            rt = max(float(log.t_arrive[row] - log.t_report[row]), 1e-3)
            x += self.rt_slope[prio] * np.log(rt / self.expected[prio])
        x += m.config.incidents.clearance_skill_effect * (m.force.skill[officer] - 0.5)
        return expit(x)

    def close_incident(self, row: int, officer: int) -> None:
        """Decide clearance of an attended incident and credit the officer with the case."""
        log = self.model.log
        log.cleared[row] = log.u_clear[row] < self.clearance_probability(row, officer)
        self.model.force.cases[officer] += 1
