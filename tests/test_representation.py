"""Results do not depend on how residents are represented: per-person mechanisms.

An agent stands for ``population / agents`` persons and every resident mechanism acts per
person (experiences, word of mouth, household contacts, victimisation), so every city-level
indicator agrees across numbers of agents; only the sampling noise differs. The share of
persons victimised follows the incident rate per person.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.api import run
from sim.scenario import load_scenario

INDICATORS = ("satisfaction_mean", "trust_mean", "familiarity_mean", "clearance_rate",
              "reporting_rate", "response_time_mean", "victimised_share")
SEEDS = (1, 2, 3, 4)


def summaries(agents: int, strategy: str, days: int = 60) -> np.ndarray:
    out = []
    for seed in SEEDS:
        sc = load_scenario(strategy, [f"residents.agents={agents}", f"run.seed={seed}"])
        res = run(sc, days=days)
        out.append([res.summary[k] for k in INDICATORS])
    return np.array(out)


@pytest.mark.parametrize("strategy", ["community"])
def test_city_indicators_agree_from_2000_agents_to_100000(strategy):
    """Paired by seed (same incidents), 2,000 and 100,000 agents agree on every indicator.

    Before the per-person fix, satisfaction differed by 0.2 between 2,000 and 100,000 agents
    (0.36 vs 0.59 under centralised policing); the test would fail by tens of standard errors.
    """
    small, large = summaries(2_000, strategy), summaries(100_000, strategy)
    for k, name in enumerate(INDICATORS):
        d = small[:, k] - large[:, k]
        if np.allclose(d, 0.0):
            continue
        half = stats.t.ppf(0.9975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        # A difference that is both outside the 99.5% CI and not negligible fails.
        scale = max(abs(large[:, k].mean()), 1e-9)
        assert abs(d.mean()) <= half or abs(d.mean()) < 0.005 * scale, (
            name, small[:, k], large[:, k])


def test_one_experience_moves_the_city_mean_equally_at_any_scale():
    """A single bad experience moves the mean satisfaction by the same amount whatever the
    number of agents (it is one person's experience)."""
    from sim.api import build_model

    shifts = []
    for agents in (1_000, 20_000):
        sc = load_scenario("default", [f"residents.agents={agents}", "residents.word_of_mouth=0",
                                       "city.population=40000"])
        r = build_model(sc, days=1).residents
        r.satisfaction[:] = 0.5
        before = r.satisfaction.mean()
        r.experience(int(r.n // 2), -1.0)
        shifts.append(before - r.satisfaction.mean())
    assert shifts[0] == pytest.approx(shifts[1], rel=1e-6)
    assert shifts[0] > 0


def test_victimised_share_follows_the_incident_rate_per_person():
    """With the hazards off, the share of persons victimised in T days is
    ``sum_c pop_c (1 - exp(-lambda_c T / pop_c)) / population`` for the configured rates."""
    days = 120
    sc = load_scenario("default", ["hazard.deterrence=false", "hazard.near_repeat=false"])
    from sim.api import build_model, collect

    model = build_model(sc, days=days)
    model.run_days(days)
    res = collect(model)
    lay = model.layout
    pop = lay.population
    daily = sc.incidents.rate_per_1000_day * pop.sum() / 1000
    hits = daily * lay.risk * days
    ok = pop >= 1
    expected = float((pop[ok] * -np.expm1(-hits[ok] / pop[ok])).sum() / pop.sum())
    assert res.summary["victimised_share"] == pytest.approx(expected, rel=0.03)
    # And it is the same with ten times fewer agents.
    fewer = run(sc.with_overrides({"residents.agents": 1_000}), days=days)
    assert fewer.summary["victimised_share"] == pytest.approx(
        res.summary["victimised_share"], rel=0.01)


def test_victimised_share_of_a_one_person_pool():
    """A cell or community of exactly one person: hit at most once, no 0 * log(0)."""
    from types import SimpleNamespace

    import sim.metrics

    layout = SimpleNamespace(population=np.array([1.0, 0.0, 3.0]), height=1,
                             community=np.array([0, 0, 1]), n_communities=2)
    for hits, want in (([0, 0, 0], 0.0), ([2, 0, 0], 1 / 4), ([0, 3, 0], 1 / 4),
                       ([0, 0, 1], 1 / 4)):
        tally = SimpleNamespace(victim_cells=SimpleNamespace(
            first=lambda n, h=hits: np.asarray(h[:n], dtype=float)))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sim.metrics, "as_tally", lambda incidents, height, t=tally: t)
            got = sim.metrics.victimised_share(None, layout)
        assert got == pytest.approx(want, rel=1e-12)
