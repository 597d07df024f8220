"""Erlang formulas and the M/M/c queue: exact results for the simulated dispatch queue.

Calls arrive as a Poisson process of rate ``lam``, each of ``c`` identical units serves a call
for an exponential time of rate ``mu``; the offered load is ``a = lam / mu`` Erlangs. Erlang B
is the blocking probability when calls that find every unit busy are lost (M/M/c/c); Erlang C
is the probability that a call has to wait when they queue instead (M/M/c). Erlang B is
computed with the numerically stable recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a
B(k-1))`` and Erlang C from it via ``C = B / (1 - (a/c)(1 - B))``. The FCFS waiting time is
zero with probability ``1 - C`` and otherwise exponential with rate ``c mu - lam``, so
``Wq = C / (c mu - lam)`` and ``P(W > t) = C exp(-(c mu - lam) t)``.

All names are re-exported by :mod:`experiments.theory`.

References:
    A. K. Erlang (1917), "Solution of some problems in the theory of probabilities of
    significance in automatic telephone exchanges", Elektroteknikeren 13.

    L. Kleinrock (1975), Queueing Systems, Volume 1: Theory, Wiley, §3.5-3.6.

    D. Gross, J. F. Shortle, J. M. Thompson, C. M. Harris (2008), Fundamentals of Queueing
    Theory, 4th ed., Wiley, §2.3-2.5.

    R. C. Larson and A. R. Odoni (1981), Urban Operations Research, Prentice-Hall, ch. 4.
"""

from __future__ import annotations

import math

__all__ = [
    "erlang_b",
    "erlang_c",
    "mmc_queue_length_mean",
    "mmc_utilisation",
    "mmc_wait_mean",
    "mmc_wait_quantile",
    "mmc_wait_survival",
]


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
