"""Larson's hypercube queueing model: exact steady state of distinguishable, located units.

An exact continuous-time Markov chain over the ``2**N`` busy/free configurations of ``N``
distinguishable units that are dispatched by a fixed preference list per demand atom. It
yields each unit's workload, the fraction of dispatches from each unit to each atom, mean
travel and the share of inter-district dispatches, which a pure M/M/c model
(:mod:`experiments.theory_queues`) cannot.

All public names are re-exported by :mod:`experiments.theory`.

References:
    R. C. Larson (1974), "A hypercube queuing model for facility location and redistricting
    in urban emergency services", Computers & Operations Research 1(1), 67-95.

    R. C. Larson and A. R. Odoni (1981), Urban Operations Research, Prentice-Hall,
    §5.3-5.4 (the hypercube queueing model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.linalg import spsolve

__all__ = [
    "MAX_HYPERCUBE_UNITS",
    "QUEUE_MODES",
    "HypercubeModel",
    "HypercubeResult",
    "solve_hypercube",
]

QUEUE_MODES = ("loss", "infinite")
"""Accepted values of the hypercube ``queue`` argument."""

MAX_HYPERCUBE_UNITS = 12
"""Largest number of units the exact solver accepts (``2**12`` states; LU fill-in grows fast)."""


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
