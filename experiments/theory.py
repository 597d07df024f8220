"""Closed-form and exact numerical results used to validate the simulation.

The simulation is a stochastic model of police units answering calls for service. Several of
its limiting cases have exact answers, and this module collects them so tests and benchmarks
can compare simulated statistics against theory:

* **Erlang formulas for the M/M/c queue.** Calls arrive as a Poisson process of rate ``lam``,
  each of ``c`` identical units serves a call for an exponential time of rate ``mu``; the
  offered load is ``a = lam / mu`` Erlangs. Erlang B is the blocking probability when calls
  that find every unit busy are lost (M/M/c/c); Erlang C is the probability that a call has
  to wait when they queue instead (M/M/c). Erlang B is computed with the numerically stable
  recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))`` and Erlang C from it via
  ``C = B / (1 - (a/c)(1 - B))``. The FCFS waiting time is zero with probability ``1 - C``
  and otherwise exponential with rate ``c mu - lam``, so ``Wq = C / (c mu - lam)`` and
  ``P(W > t) = C exp(-(c mu - lam) t)``.
* **Manhattan (L1) travel distances** between uniformly distributed points of a rectangle,
  from a fixed point to a uniform point, their discrete analogues on a ``w x h`` grid of
  cells, and the mean L1 distance to the nearest point of a planar Poisson process of units.
* **Larson's hypercube queueing model**: an exact continuous-time Markov chain over the
  ``2**N`` busy/free configurations of ``N`` distinguishable units that are dispatched by a
  fixed preference list per demand atom. It yields each unit's workload, the fraction of
  dispatches from each unit to each atom, mean travel and the share of inter-district
  dispatches, which a pure M/M/c model cannot.
* The **Gini coefficient**, used to summarise how unevenly workload or service is spread
  (defined once, as :func:`sim.metrics.gini`, and re-exported here).

This module is the public face of the theory: the formulas live in
:mod:`experiments.theory_queues` (Erlang, M/M/c), :mod:`experiments.theory_space`
(L1 distances) and :mod:`experiments.theory_hypercube` (Larson's model), and every public
name is re-exported here, so ``from experiments.theory import ...`` is the one import to use.

References:
    A. K. Erlang (1917), "Solution of some problems in the theory of probabilities of
    significance in automatic telephone exchanges", Elektroteknikeren 13.

    L. Kleinrock (1975), Queueing Systems, Volume 1: Theory, Wiley, §3.5-3.6.

    D. Gross, J. F. Shortle, J. M. Thompson, C. M. Harris (2008), Fundamentals of Queueing
    Theory, 4th ed., Wiley, §2.3-2.5.

    R. C. Larson (1974), "A hypercube queuing model for facility location and redistricting
    in urban emergency services", Computers & Operations Research 1(1), 67-95.

    R. C. Larson and A. R. Odoni (1981), Urban Operations Research, Prentice-Hall,
    ch. 3 (geometrical probability: L1 distances, nearest-neighbour distances), ch. 4
    (M/M/c queues) and §5.3-5.4 (the hypercube queueing model).

    C. Gini (1912), Variabilità e mutabilità, Bologna.
"""

from __future__ import annotations

from experiments.theory_hypercube import (
    MAX_HYPERCUBE_UNITS,
    QUEUE_MODES,
    HypercubeModel,
    HypercubeResult,
    solve_hypercube,
)
from experiments.theory_queues import (
    erlang_b,
    erlang_c,
    mmc_queue_length_mean,
    mmc_utilisation,
    mmc_wait_mean,
    mmc_wait_quantile,
    mmc_wait_survival,
)
from experiments.theory_space import (
    grid_mean_cell_to_uniform,
    grid_mean_uniform_pair,
    manhattan_mean_point_to_uniform,
    manhattan_mean_uniform_pair,
    nearest_of_poisson_units_mean,
)
from sim.metrics import gini

__all__ = [
    "MAX_HYPERCUBE_UNITS",
    "QUEUE_MODES",
    "HypercubeModel",
    "HypercubeResult",
    "erlang_b",
    "erlang_c",
    "gini",
    "grid_mean_cell_to_uniform",
    "grid_mean_uniform_pair",
    "manhattan_mean_point_to_uniform",
    "manhattan_mean_uniform_pair",
    "mmc_queue_length_mean",
    "mmc_utilisation",
    "mmc_wait_mean",
    "mmc_wait_quantile",
    "mmc_wait_survival",
    "nearest_of_poisson_units_mean",
    "solve_hypercube",
]
