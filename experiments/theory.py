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

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.linalg import spsolve

from sim.metrics import gini

__all__ = [
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

QUEUE_MODES = ("loss", "infinite")
"""Accepted values of the hypercube ``queue`` argument."""

MAX_HYPERCUBE_UNITS = 12
"""Largest number of units the exact solver accepts (``2**12`` states; LU fill-in grows fast)."""


# ---------------------------------------------------------------------------------------------
# Erlang formulas and the M/M/c queue
# ---------------------------------------------------------------------------------------------


def _check_servers(c: int) -> int:
    """Validate a number of servers and return it as an ``int``."""
    if isinstance(c, bool) or int(c) != c or c < 0:
        raise ValueError(f"number of servers must be a non-negative integer, got {c!r}")
    return int(c)


def _check_rates(lam: float, mu: float) -> None:
    """Validate an arrival rate (>= 0) and a service rate (> 0)."""
    if lam < 0:
        raise ValueError(f"arrival rate must be non-negative, got {lam!r}")
    if mu <= 0:
        raise ValueError(f"service rate must be positive, got {mu!r}")


def erlang_b(c: int, a: float) -> float:
    """Return the Erlang B blocking probability of an M/M/c/c loss system.

    Uses the stable recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``.

    Args:
        c: Number of servers (non-negative integer).
        a: Offered load in Erlangs (arrival rate divided by service rate), ``a >= 0``.

    Returns:
        Probability that an arriving call finds all ``c`` servers busy and is lost.

    Raises:
        ValueError: If ``c`` is not a non-negative integer or ``a`` is negative.
    """
    c = _check_servers(c)
    if a < 0:
        raise ValueError(f"offered load must be non-negative, got {a!r}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Return the Erlang C probability that a call must wait in an M/M/c queue.

    Computed from Erlang B as ``C = B / (1 - (a/c)(1 - B))``.

    Args:
        c: Number of servers (non-negative integer).
        a: Offered load in Erlangs, ``a >= 0``.

    Returns:
        Probability that an arriving call finds all servers busy; ``1.0`` when ``a >= c``
        (the queue is unstable and every call eventually waits).

    Raises:
        ValueError: If ``c`` is not a non-negative integer or ``a`` is negative.
    """
    c = _check_servers(c)
    if a < 0:
        raise ValueError(f"offered load must be non-negative, got {a!r}")
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return b / (1.0 - (a / c) * (1.0 - b))


def mmc_utilisation(lam: float, mu: float, c: int) -> float:
    """Return the server utilisation ``rho = lam / (c mu)`` of an M/M/c queue.

    Args:
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Number of servers (positive integer).

    Returns:
        Offered load per server; values ``>= 1`` mean the queue is unstable.
    """
    _check_rates(lam, mu)
    if _check_servers(c) == 0:
        raise ValueError("an M/M/c queue needs at least one server")
    return lam / (c * mu)


def _mmc_wait_params(lam: float, mu: float, c: int) -> tuple[float, float]:
    """Return ``(C, c mu - lam)`` for an M/M/c queue, with ``C = 1`` if unstable."""
    rho = mmc_utilisation(lam, mu, c)
    if rho >= 1:
        return 1.0, 0.0
    return erlang_c(c, lam / mu), c * mu - lam


def mmc_wait_mean(lam: float, mu: float, c: int) -> float:
    """Return the mean waiting time in queue ``Wq = C / (c mu - lam)`` of an M/M/c queue.

    Args:
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Number of servers (positive integer).

    Returns:
        Mean time from arrival to start of service, in the time unit of the rates;
        ``inf`` if ``lam >= c mu``.
    """
    prob_wait, drain = _mmc_wait_params(lam, mu, c)
    return math.inf if drain == 0 else prob_wait / drain


def mmc_queue_length_mean(lam: float, mu: float, c: int) -> float:
    """Return the mean number of calls waiting ``Lq = lam Wq`` (Little's law) in an M/M/c queue.

    Args:
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Number of servers (positive integer).

    Returns:
        Mean queue length excluding calls in service; ``inf`` if ``lam >= c mu``.
    """
    wait = mmc_wait_mean(lam, mu, c)
    return 0.0 if lam == 0 else lam * wait


def mmc_wait_survival(t: float, lam: float, mu: float, c: int) -> float:
    """Return ``P(Wq > t) = C exp(-(c mu - lam) t)`` for an FCFS M/M/c queue.

    Args:
        t: Waiting-time threshold (same time unit as the rates).
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Number of servers (positive integer).

    Returns:
        Probability that a call waits longer than ``t``; ``1.0`` for ``t < 0`` and, for
        ``t >= 0``, ``1.0`` if the queue is unstable.
    """
    prob_wait, drain = _mmc_wait_params(lam, mu, c)
    if t < 0:
        return 1.0
    return prob_wait * math.exp(-drain * t)


def mmc_wait_quantile(p: float, lam: float, mu: float, c: int) -> float:
    """Return the ``p``-quantile of the FCFS M/M/c waiting time in queue.

    This is the smallest ``t`` with ``P(Wq <= t) >= p``: zero when ``p <= 1 - C`` (enough
    calls are served at once) and ``ln(C / (1 - p)) / (c mu - lam)`` otherwise.

    Args:
        p: Probability level in ``[0, 1]``.
        lam: Arrival rate.
        mu: Service rate of one server.
        c: Number of servers (positive integer).

    Returns:
        The waiting-time quantile; ``inf`` for ``p == 1`` with ``C > 0`` or an unstable queue.

    Raises:
        ValueError: If ``p`` lies outside ``[0, 1]``.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"probability level must lie in [0, 1], got {p!r}")
    prob_wait, drain = _mmc_wait_params(lam, mu, c)
    if p <= 1 - prob_wait:
        return 0.0
    if p == 1 or drain == 0:
        return math.inf
    return math.log(prob_wait / (1 - p)) / drain


# ---------------------------------------------------------------------------------------------
# Manhattan (L1) travel distances
# ---------------------------------------------------------------------------------------------


def _mean_abs_to_uniform(p: float, length: float) -> float:
    """Return ``E|U - p|`` for ``U`` uniform on ``[0, length]`` (any real ``p``)."""
    if length <= 0:
        raise ValueError(f"side length must be positive, got {length!r}")
    if p <= 0 or p >= length:
        return abs(length / 2 - p)
    return (p**2 + (length - p) ** 2) / (2 * length)


def manhattan_mean_uniform_pair(x0: float, y0: float) -> float:
    """Return the mean L1 distance between two independent uniform points of a rectangle.

    Per axis, ``E|U - V| = L / 3`` for ``U, V`` uniform on ``[0, L]``.

    Args:
        x0: Width of the rectangle.
        y0: Height of the rectangle.

    Returns:
        ``(x0 + y0) / 3``.
    """
    if x0 <= 0 or y0 <= 0:
        raise ValueError(f"side lengths must be positive, got {x0!r}, {y0!r}")
    return (x0 + y0) / 3


def manhattan_mean_point_to_uniform(px: float, py: float, x0: float, y0: float) -> float:
    """Return the mean L1 distance from a fixed point to a uniform point of a rectangle.

    The rectangle is ``[0, x0] x [0, y0]``. For ``p`` inside ``[0, L]`` the per-axis mean is
    ``(p**2 + (L - p)**2) / (2 L)``; for ``p`` outside it is ``|L/2 - p|``.

    Args:
        px: x coordinate of the fixed point (e.g. a station).
        py: y coordinate of the fixed point.
        x0: Width of the rectangle.
        y0: Height of the rectangle.

    Returns:
        The exact mean Manhattan distance.
    """
    return _mean_abs_to_uniform(px, x0) + _mean_abs_to_uniform(py, y0)


def _check_grid_side(n: int) -> int:
    """Validate a grid side length (positive integer) and return it as an ``int``."""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"grid side must be a positive integer, got {n!r}")
    return int(n)


def _grid_mean_abs(x: float, n: int) -> float:
    """Return ``mean_{i=0..n-1} |i - x|`` in closed form (any real ``x``)."""
    k = min(max(math.floor(x), -1), n - 1)  # cells 0..k lie at or left of x
    left = (k + 1) * x - k * (k + 1) / 2
    right = (n * (n - 1) - k * (k + 1)) / 2 - (n - 1 - k) * x
    return (left + right) / n


def grid_mean_uniform_pair(w: int, h: int) -> float:
    """Return the mean L1 distance (in cells) between two independent uniform cells of a grid.

    Both cells are drawn uniformly and independently (they may coincide) from a ``w x h``
    grid; per axis ``E|I - J| = (n**2 - 1) / (3 n)``.

    Args:
        w: Number of columns.
        h: Number of rows.

    Returns:
        ``(w**2 - 1) / (3 w) + (h**2 - 1) / (3 h)``.
    """
    w, h = _check_grid_side(w), _check_grid_side(h)
    return (w * w - 1) / (3 * w) + (h * h - 1) / (3 * h)


def grid_mean_cell_to_uniform(x: float, y: float, w: int, h: int) -> float:
    """Return the mean L1 distance (in cells) from cell ``(x, y)`` to a uniform cell of a grid.

    Cells are indexed ``0..w-1`` by ``0..h-1``; ``x`` and ``y`` may also be fractional
    (a point between cell centres). The sum ``mean_i |i - x| + mean_j |j - y|`` is evaluated
    in closed form.

    Args:
        x: Column of the source cell.
        y: Row of the source cell.
        w: Number of columns.
        h: Number of rows.

    Returns:
        The exact mean Manhattan distance in cell units.
    """
    w, h = _check_grid_side(w), _check_grid_side(h)
    return _grid_mean_abs(x, w) + _grid_mean_abs(y, h)


def nearest_of_poisson_units_mean(density: float) -> float:
    """Return the mean L1 distance to the nearest unit of a planar Poisson process.

    An L1 ball of radius ``r`` has area ``2 r**2``, so ``P(D > r) = exp(-2 gamma r**2)`` and
    ``E[D] = sqrt(pi / (8 gamma)) ~= 0.6267 / sqrt(gamma)`` (Larson & Odoni 1981, ch. 3).

    Args:
        density: Units per unit area, ``gamma > 0``.

    Returns:
        The mean nearest-unit Manhattan distance.
    """
    if density <= 0:
        raise ValueError(f"density must be positive, got {density!r}")
    return math.sqrt(math.pi / (8 * density))


# ---------------------------------------------------------------------------------------------
# Larson's hypercube queueing model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class HypercubeResult:
    """Steady-state results of the hypercube model.

    Attributes:
        queue: ``"loss"`` or ``"infinite"``.
        probabilities: Shape ``(2**N,)``; entry ``b`` is the probability of the busy set
            whose bit ``n`` is set iff unit ``n`` is busy. In the infinite-queue model the
            all-busy entry includes every queue length (``P(all busy) = P(call waits)``).
        workload: Shape ``(N,)``, fraction of time each unit is busy.
        dispatch_fractions: Shape ``(N, J)``; ``f[n, j]`` is the fraction of all served
            dispatches that send unit ``n`` to atom ``j`` (sums to 1).
        loss_probability: Fraction of calls lost (loss model; 0 for the infinite queue).
        wait_probability: Fraction of calls that queue (infinite model; 0 for loss).
        mean_queue_length: Mean number of queued calls (0 for the loss model).
        mean_wait: Mean queueing delay over all calls (0 for the loss model).
        fraction_interdistrict: Fraction of served dispatches in which the unit is not the
            first entry of the atom's preference list.
        mean_travel: Mean travel over served calls, or ``None`` without a travel matrix.
        mean_travel_per_atom: Shape ``(J,)`` mean travel to each atom (``nan`` if never
            served), or ``None``.
        mean_travel_per_unit: Shape ``(N,)`` mean travel of each unit (``nan`` if never
            dispatched), or ``None``.
    """

    queue: str
    probabilities: np.ndarray
    workload: np.ndarray
    dispatch_fractions: np.ndarray
    loss_probability: float
    wait_probability: float
    mean_queue_length: float
    mean_wait: float
    fraction_interdistrict: float
    mean_travel: float | None = None
    mean_travel_per_atom: np.ndarray | None = None
    mean_travel_per_unit: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        """Number of units ``N``."""
        return int(self.workload.shape[0])

    def busy_count_distribution(self) -> np.ndarray:
        """Return ``P(k units busy)`` for ``k = 0..N`` (aggregated over busy sets)."""
        counts = _popcounts(self.n_units)
        return np.bincount(counts, weights=self.probabilities, minlength=self.n_units + 1)

    def state_probability(self, busy: list[int] | tuple[int, ...]) -> float:
        """Return the probability that exactly the units in ``busy`` are busy."""
        mask = sum(1 << int(n) for n in set(busy))
        return float(self.probabilities[mask])


@dataclass(frozen=True, eq=False)
class HypercubeModel:
    """Larson's hypercube queueing model with fixed-preference dispatching.

    ``N`` distinguishable units (``2**N`` busy/free states) serve ``J`` demand atoms. Calls
    from atom ``j`` arrive as a Poisson process of rate ``lam[j]`` and are dispatched to the
    first *free* unit in ``preference[j]``; unit ``n`` finishes a job (travel + on-scene
    time) at exponential rate ``mu[n]`` and returns to its home location. A call for which
    no listed unit is free is lost (``queue="loss"``) or joins a FCFS queue
    (``queue="infinite"``). The infinite queue requires equal service rates, complete
    preference lists and ``sum(lam) < N mu``.

    The inputs are validated on construction and kept as given; validated copies are held in
    private fields.

    Attributes:
        lam: Shape ``(J,)`` call rate of each atom.
        mu: Shape ``(N,)`` service rate of each unit (a scalar is broadcast to all ``N``
            units, where ``N`` is inferred from ``travel`` or else the preference lists).
        preference: ``J`` lists of unit indices in dispatch order; a list may be a subset.
        travel: Optional ``(N, J)`` mean travel time or distance from unit ``n``, at its home
            location, to atom ``j``.
        queue: ``"loss"`` or ``"infinite"``.
        n_units: Number of units ``N`` (derived).
    """

    lam: npt.ArrayLike
    mu: npt.ArrayLike
    preference: list[list[int]]
    travel: npt.ArrayLike | None = None
    queue: str = "loss"
    n_units: int = field(init=False)
    _lam: np.ndarray = field(init=False, repr=False)
    _mu: np.ndarray = field(init=False, repr=False)
    _prefs: list[tuple[int, ...]] = field(init=False, repr=False)
    _travel: np.ndarray | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lam = _as_rates(self.lam, "lam", allow_zero=True)
        prefs = [tuple(int(n) for n in p) for p in self.preference]
        n_units = _infer_n_units(prefs, self.mu, self.travel)
        mu = np.broadcast_to(_as_rates(self.mu, "mu"), (n_units,)).astype(float)
        travel = None if self.travel is None else np.asarray(self.travel, dtype=float)
        _validate_model(lam, mu, prefs, travel, self.queue)
        normalised = {"n_units": n_units, "_lam": lam, "_mu": mu, "_prefs": prefs}
        for name, value in (*normalised.items(), ("_travel", travel)):
            object.__setattr__(self, name, value)

    def solve(self) -> HypercubeResult:
        """Solve the balance equations exactly and return the steady-state results."""
        lam, n_units = self._lam, self.n_units
        dispatch = _dispatch_table(self._prefs, n_units)
        probs = _stationary(_generator(lam, self._mu, dispatch, n_units))
        queue_stats = (0.0, 0.0, 0.0)
        if self.queue == "infinite":
            probs, queue_stats = _add_queue_tail(probs, float(lam.sum()), float(self._mu[0]))
        rates = _served_rates(lam, dispatch, probs, n_units)
        if self.queue == "infinite":  # queued calls go to the first unit to free: uniform
            rates += np.tile(lam * probs[-1] / n_units, (n_units, 1))
        return self._result(probs, rates, queue_stats)

    def _result(
        self, probs: np.ndarray, rates: np.ndarray, queue_stats: tuple[float, float, float]
    ) -> HypercubeResult:
        """Assemble a :class:`HypercubeResult` from state probabilities and dispatch rates."""
        total = float(self._lam.sum())
        served = float(rates.sum())
        fractions = rates / served if served > 0 else np.zeros_like(rates)
        first = np.array([p[0] for p in self._prefs])
        interdistrict = 1.0 - float(fractions[first, np.arange(first.size)].sum())
        travel_mean, travel_atom, travel_unit = _travel_stats(fractions, self._travel)
        return HypercubeResult(
            queue=self.queue,
            probabilities=probs,
            workload=_workloads(probs, self.n_units),
            dispatch_fractions=fractions,
            loss_probability=1.0 - served / total if self.queue == "loss" else 0.0,
            wait_probability=queue_stats[0],
            mean_queue_length=queue_stats[1],
            mean_wait=queue_stats[2],
            fraction_interdistrict=interdistrict if served > 0 else 0.0,
            mean_travel=travel_mean,
            mean_travel_per_atom=travel_atom,
            mean_travel_per_unit=travel_unit,
        )


def solve_hypercube(
    lam: npt.ArrayLike,
    mu: npt.ArrayLike,
    preference: list[list[int]],
    travel: npt.ArrayLike | None = None,
    queue: str = "loss",
) -> HypercubeResult:
    """Solve Larson's hypercube model exactly; see :class:`HypercubeModel`.

    Convention for the infinite queue: a call that arrives when every unit is busy waits
    FCFS and is served by whichever unit frees first. With equal service rates that unit is
    uniform over the ``N`` units, so each queued call from atom ``j`` adds ``lam[j] / N``
    times ``P(all busy)`` to every ``f[n, j]`` (Larson & Odoni 1981, §5.4), and its travel
    is taken from that unit's home location, i.e. ``travel[n, j]``.

    Args:
        lam: Shape ``(J,)`` call rate of each atom.
        mu: Shape ``(N,)`` or scalar service rate of each unit.
        preference: ``J`` lists of unit indices in dispatch order.
        travel: Optional ``(N, J)`` mean travel from each unit's home to each atom.
        queue: ``"loss"`` (calls finding no listed unit free are lost) or ``"infinite"``.

    Returns:
        The steady-state :class:`HypercubeResult`.

    Raises:
        ValueError: On inconsistent shapes, invalid rates or unit indices, or an infinite
            queue with unequal service rates, incomplete preference lists or
            ``sum(lam) >= N mu``.
    """
    return HypercubeModel(lam, mu, preference, travel, queue).solve()


def _as_rates(values: npt.ArrayLike, name: str, allow_zero: bool = False) -> np.ndarray:
    """Return a 1-D float array of rates, checking they are finite and positive."""
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite rates")
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}")
    return arr


def _infer_n_units(
    prefs: list[tuple[int, ...]], mu: npt.ArrayLike, travel: npt.ArrayLike | None
) -> int:
    """Infer ``N`` from ``mu``, ``travel`` or (failing both) the preference lists."""
    mu_arr = np.asarray(mu)
    if mu_arr.ndim == 1:
        return int(mu_arr.size)
    if travel is not None:
        return int(np.shape(travel)[0])
    return 1 + max((max(p) for p in prefs if p), default=-1)


def _validate_model(
    lam: np.ndarray,
    mu: np.ndarray,
    prefs: list[tuple[int, ...]],
    travel: np.ndarray | None,
    queue: str,
) -> None:
    """Raise ``ValueError`` unless the hypercube inputs are consistent."""
    n_units, n_atoms = mu.size, lam.size
    if not 1 <= n_units <= MAX_HYPERCUBE_UNITS:
        raise ValueError(f"need 1..{MAX_HYPERCUBE_UNITS} units, got {n_units}")
    if queue not in QUEUE_MODES:
        raise ValueError(f"queue must be one of {QUEUE_MODES}, got {queue!r}")
    if lam.sum() <= 0:
        raise ValueError("total call rate must be positive")
    if len(prefs) != n_atoms:
        raise ValueError(f"need one preference list per atom ({n_atoms}), got {len(prefs)}")
    for j, pref in enumerate(prefs):
        if not pref or len(set(pref)) != len(pref) or not all(0 <= n < n_units for n in pref):
            raise ValueError(f"preference list of atom {j} must be distinct units 0..{n_units - 1}")
    if travel is not None and travel.shape != (n_units, n_atoms):
        raise ValueError(f"travel must have shape ({n_units}, {n_atoms}), got {travel.shape}")
    if queue == "infinite":
        _validate_infinite(lam, mu, prefs)


def _validate_infinite(lam: np.ndarray, mu: np.ndarray, prefs: list[tuple[int, ...]]) -> None:
    """Raise ``ValueError`` unless the infinite-queue model is well defined and stable."""
    if not np.allclose(mu, mu[0], rtol=1e-12, atol=0):
        raise ValueError("the infinite-queue hypercube requires equal service rates")
    if any(len(p) != mu.size for p in prefs):
        raise ValueError("the infinite-queue hypercube requires complete preference lists")
    if lam.sum() >= mu.size * mu[0]:
        raise ValueError("the infinite-queue hypercube is unstable: sum(lam) >= N mu")


def _popcounts(n_units: int) -> np.ndarray:
    """Return the number of set bits of every state ``0..2**N - 1``."""
    states = np.arange(1 << n_units)
    counts = np.zeros_like(states)
    for n in range(n_units):
        counts += (states >> n) & 1
    return counts


def _dispatch_table(prefs: list[tuple[int, ...]], n_units: int) -> np.ndarray:
    """Return ``(J, 2**N)`` array: unit dispatched to atom ``j`` in state ``b`` (-1 if none)."""
    states = np.arange(1 << n_units)
    table = np.full((len(prefs), states.size), -1, dtype=int)
    for j, pref in enumerate(prefs):
        for n in reversed(pref):  # earlier preferences overwrite later ones
            table[j, ((states >> n) & 1) == 0] = n
    return table


def _generator(
    lam: np.ndarray, mu: np.ndarray, dispatch: np.ndarray, n_units: int
) -> sparse.csr_array:
    """Return the sparse CTMC generator over the ``2**N`` busy sets (arrivals to no unit drop)."""
    n_states = 1 << n_units
    atoms, states = np.nonzero(dispatch >= 0)
    up_to = states | (1 << dispatch[atoms, states])
    all_states = np.arange(n_states)
    busy = [(all_states[((all_states >> n) & 1) == 1], n) for n in range(n_units)]
    rows = np.concatenate([states, *(s for s, _ in busy)])
    cols = np.concatenate([up_to, *(s ^ (1 << n) for s, n in busy)])
    vals = np.concatenate([lam[atoms], *(np.full(s.size, mu[n]) for s, n in busy)])
    q = sparse.coo_array((vals, (rows, cols)), shape=(n_states, n_states)).tocsr()
    return q - sparse.diags_array(np.asarray(q.sum(axis=1)).ravel())


def _stationary(q: sparse.csr_array) -> np.ndarray:
    """Solve ``pi Q = 0``, ``sum(pi) = 1`` by fixing ``pi[0] = 1`` (keeps the system sparse).

    The all-free state 0 is reachable from every state (completions only), so the chain has a
    single recurrent class containing it and the reduced system is non-singular.
    """
    qt = sparse.csc_array(q.T)
    rest = np.atleast_1d(spsolve(qt[1:, 1:], -qt[1:, [0]].toarray().ravel()))
    pi = np.clip(np.concatenate([[1.0], rest]), 0.0, None)
    return pi / pi.sum()


def _served_rates(
    lam: np.ndarray, dispatch: np.ndarray, probs: np.ndarray, n_units: int
) -> np.ndarray:
    """Return ``(N, J)`` rates of immediate dispatches of unit ``n`` to atom ``j``."""
    rates = np.zeros((n_units, lam.size))
    atoms, states = np.nonzero(dispatch >= 0)
    np.add.at(rates, (dispatch[atoms, states], atoms), lam[atoms] * probs[states])
    return rates


def _add_queue_tail(
    probs: np.ndarray, lam_total: float, mu: float
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Fold the geometric queue tail into the all-busy state and renormalise.

    In the all-busy state with ``k`` calls queued, arrivals (rate ``lam_total``) raise ``k``
    and completions (rate ``N mu``) lower it, so ``P(all busy, k) = P(all busy, 0) r**k`` with
    ``r = lam_total / (N mu)``; the finite-chain solution is exact for ``k = 0``.

    Returns:
        The renormalised probabilities and ``(P(wait), mean queue length, mean wait)``.
    """
    n_units = int(probs.size).bit_length() - 1
    r = lam_total / (n_units * mu)
    probs = probs.copy()
    probs[-1] /= 1.0 - r
    probs /= probs.sum()
    p_wait = float(probs[-1])
    queue_length = p_wait * r / (1.0 - r)
    return probs, (p_wait, queue_length, queue_length / lam_total)


def _workloads(probs: np.ndarray, n_units: int) -> np.ndarray:
    """Return each unit's busy fraction ``sum of P(b)`` over states with bit ``n`` set."""
    states = np.arange(probs.size)
    return np.array([probs[((states >> n) & 1) == 1].sum() for n in range(n_units)])


def _travel_stats(
    fractions: np.ndarray, travel: np.ndarray | None
) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
    """Return mean travel overall, per atom and per unit (all ``None`` without travel)."""
    if travel is None:
        return None, None, None
    weighted = fractions * travel
    with np.errstate(invalid="ignore", divide="ignore"):
        per_atom = weighted.sum(axis=0) / fractions.sum(axis=0)
        per_unit = weighted.sum(axis=1) / fractions.sum(axis=1)
    return float(weighted.sum()), per_atom, per_unit
