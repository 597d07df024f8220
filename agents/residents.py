"""Residents: satisfaction, trust and familiarity, held as arrays and updated in bulk.

Each resident has a home cell and community and three states in 0..1: **satisfaction** with the
police, **trust** (legitimacy/confidence) and **familiarity** with their community officer.
Residents are linked by a small-world network built mostly inside communities (Watts &
Strogatz 1998 construction: a ring lattice per community, a share of ties rewired to random
residents anywhere), over which experiences spread by word of mouth, attenuated.

What moves them (each a switchable mechanism of ``[residents]``):

* **Response experience** — a victim whose incident is attended updates satisfaction and trust
  from the response time against the expectation for its priority, whether it was cleared and
  the officer's conduct; bad experiences weigh ``negativity`` times more than good ones
  (Skogan 2006: 4-14 times).
* **Presence and contact** — visible patrol in a resident's cell lifts satisfaction a little;
  community officers on foot make household contacts that raise familiarity and trust
  (Tuffin et al. 2006; Gill et al. 2014); familiarity decays without contact.
* **Drift** — satisfaction and trust relax towards their baselines, so a strategy's effect is
  not an artefact of the starting values.

Trust drives reporting and, with familiarity, cooperation (see :mod:`sim.outcomes`).

The set owns its verbs: :meth:`Residents.see_patrol` and :meth:`Residents.meet` accumulate the
hour's visible patrol and household contacts, :meth:`Residents.judge` scores a response,
:meth:`Residents.experience` applies it, :meth:`Residents.daily` lives one day, and
:meth:`Residents.forget` lets a community lose an officer it knew. Residents are stored grouped
by community and then by home cell (the ordering invariant that :meth:`victims` and the contact
draws rely on); their Mesa agents are views created lazily (:mod:`agents.resident`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.params import param

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    from scipy.sparse import csr_matrix

    from sim.city import CityLayout


AGENTS_DEFAULT = 10_000
CHANNELS = ("experience", "word_of_mouth", "presence", "contact", "drift")
"""What moves satisfaction and trust; each change of a city mean is attributed to one."""
CHANGE_KEYS = tuple(f"{view}_change_{ch}" for view in ("satisfaction", "trust")
                    for ch in CHANNELS if not (view == "trust" and ch == "presence"))


@dataclass(frozen=True)
class ResidentsConfig:
    """Resident agents and the public side: satisfaction, trust, familiarity, cooperation.

    Each agent stands for ``population / agents`` persons (at least one person); every
    mechanism acts per person (see :class:`Residents`), so the indicators do not depend on
    the number of agents, only their sampling noise does.
    """

    agents: int = param(
        AGENTS_DEFAULT, "agents", "Resident agents, each the mean of population/agents persons; "
        "the smallest number at which every city indicator agrees with 100,000 agents "
        "(tests/test_representation.py).", lo=0, hi=5_000_000,
    )
    household_size: float = param(2.8, "persons", "Persons per household (census); a "
                                  "household contact reaches them all.", lo=0.1, hi=20)
    satisfaction_init: float = param(
        0.6, "-", "Baseline satisfaction (share satisfied in surveys ~0.6; assumption).", lo=0,
        hi=1, plausible=(0.5, 0.7),
    )
    trust_init: float = param(
        0.5, "-", "Baseline trust; reporting_trust_ref is anchored here.", lo=0, hi=1
    )
    init_sd: float = param(0.1, "-", "Spread of initial satisfaction and trust.", lo=0, hi=1)
    network_k: int = param(
        6, "ties", "Ties per resident in the small-world network (Watts & Strogatz 1998).",
        lo=0, hi=100,
    )
    network_rewire: float = param(
        0.1, "-", "Share of ties rewired to anyone in the city (mostly local ties).", lo=0, hi=1
    )
    experience: bool = param(True, "-", "Response experiences change victims' views.")
    experience_rate: float = param(
        0.3, "-", "Step towards 1 (or 0) of a fully good (bad) experience (assumption).", lo=0,
        hi=1, plausible=(0.15, 0.5),
    )
    negativity: float = param(
        5.0, "-", "Weight of a bad experience relative to a good one (Skogan 2006: 4-14).", lo=1,
        hi=20,
    )
    trust_rate_ratio: float = param(
        0.5, "-", "Trust moves at this fraction of the satisfaction rate (assumption).", lo=0,
        hi=1, plausible=(0.25, 0.75),
    )
    word_of_mouth: float = param(
        0.2, "-", "Attenuation of an experience passed to network neighbours (assumption).",
        lo=0, hi=1, plausible=(0.05, 0.4),
    )
    response_weight: float = param(
        0.6, "-", "Weight of response time vs expectation in the experience score "
        "(Percy 1980; KC RTA).", lo=0, hi=1,
    )
    clearance_weight: float = param(
        0.2, "-", "Weight of the case being cleared in the experience score.", lo=0, hi=1
    )
    conduct_weight: float = param(
        0.2, "-", "Weight of officer conduct (skill, familiarity): procedural justice "
        "(Tyler & Fagan 2008).", lo=0, hi=1,
    )
    presence: bool = param(True, "-", "Visible patrol lifts satisfaction of those who see it.")
    presence_gain: float = param(
        0.004, "1/d", "Daily satisfaction gain at saturating presence (assumption; small, "
        "Gill et al. 2014).", lo=0, hi=1, plausible=(0.001, 0.01),
    )
    presence_half_hours: float = param(
        2.0, "officer-h/d", "Presence scale: 1-e^-1 of the effect at this many hours a day.",
        lo=1e-6, hi=10_000,
    )
    vehicle_visibility: float = param(
        0.3, "-", "Visibility of a patrol car relative to an officer on foot (assumption).",
        lo=0, hi=1, plausible=(0.1, 0.6),
    )
    contact: bool = param(True, "-", "Community officers make household contacts.")
    contacts_per_hour: float = param(
        3.0, "1/h", "Household contacts per foot-patrol hour of a community officer "
        "(assumption; household visits).", lo=0, hi=60, plausible=(1.0, 6.0),
    )
    contact_familiarity_gain: float = param(
        0.3, "-", "Familiarity step towards 1 per contact (assumption).", lo=0, hi=1,
        plausible=(0.1, 0.5),
    )
    contact_trust_gain: float = param(
        0.02, "-", "Trust and satisfaction step per contact (procedural justice; assumption).",
        lo=0, hi=1, plausible=(0.005, 0.05),
    )
    familiarity_decay_per_day: float = param(
        1 / 180, "1/d", "Familiarity fades over ~6 months without contact (assumption).", lo=0,
        hi=1, plausible=(1 / 365, 1 / 90),
    )
    drift_per_day: float = param(
        1 / 365, "1/d", "Relaxation of satisfaction and trust towards baseline (assumption).",
        lo=0, hi=1, plausible=(1 / 730, 1 / 180),
    )
    cooperation_familiarity_weight: float = param(
        0.5, "-", "Weight of familiarity (vs trust) in cooperation.", lo=0, hi=1
    )


class Residents:
    """All residents of a city as numpy arrays.

    Args:
        cfg: The ``[residents]`` section.
        layout: The city.
        rng: The residents' random stream (homes, initial views, the network).
        contacts_rng: Stream of the household contacts (default: ``rng``).
    """

    def __init__(self, cfg: ResidentsConfig, layout: CityLayout, rng: np.random.Generator,
                 contacts_rng: np.random.Generator | None = None) -> None:
        self.cfg = cfg
        self.rng = rng
        self.contacts_rng = contacts_rng if contacts_rng is not None else rng
        self.n_communities = layout.n_communities
        self.home = _place(cfg.agents, layout.population, layout.community, rng)
        self.community = layout.community[self.home]
        self.n = self.home.size
        population = float(layout.population.sum())
        self.persons = max(population / self.n, 1.0) if self.n else 1.0
        """Persons each agent stands for (every mechanism acts on one person's share)."""
        self.satisfaction = np.clip(rng.normal(cfg.satisfaction_init, cfg.init_sd, self.n), 0, 1)
        self.trust = np.clip(rng.normal(cfg.trust_init, cfg.init_sd, self.n), 0, 1)
        self.familiarity = np.zeros(self.n)
        self.victimised = np.zeros(self.n, dtype=np.int64)
        self.contacts = np.zeros(self.n, dtype=np.int64)
        self.network = small_world(self.community, cfg.network_k, cfg.network_rewire, rng)
        self._cell_start, self._cell_count = _first_and_count(self.home, layout.n_cells)
        self._comm_start, self._comm_count = _first_and_count(self.community,
                                                              self.n_communities)
        self.presence = np.zeros(layout.n_cells)
        self.contacts_due = np.zeros(self.n_communities)
        self.start = {"satisfaction": float(self.satisfaction.mean()) if self.n else np.nan,
                      "trust": float(self.trust.mean()) if self.n else np.nan}
        """City means at the start (the decomposition's origin)."""
        self.change: dict[str, float] = dict.fromkeys(CHANGE_KEYS, 0.0)
        """City-mean change of satisfaction and trust by channel (``CHANNELS``)."""
        self._change_keys = {ch: (_change_key("satisfaction", ch), _change_key("trust", ch))
                             for ch in CHANNELS}

    # -- look-ups ---------------------------------------------------------------------------
    def victims(self, cells: np.ndarray, communities: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Pick a victim for each incident from pre-drawn uniforms (-1 if nobody lives there).

        The victim is a resident of the incident's cell, or of its community when the cell is
        empty.
        """
        start, count = self._cell_start[cells], self._cell_count[cells]
        empty = count == 0
        start = np.where(empty, self._comm_start[communities], start)
        count = np.where(empty, self._comm_count[communities], count)
        pick = start + np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
        return np.where(count > 0, pick, -1)

    def by_community(self, attr: str) -> np.ndarray:
        """Mean of ``attr`` (e.g. ``"trust"``) per community (NaN where nobody lives)."""
        values = getattr(self, attr).astype(float)
        total = np.bincount(self.community, weights=values, minlength=self.n_communities)
        count = np.bincount(self.community, minlength=self.n_communities)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def cooperation(self) -> np.ndarray:
        """Willingness to give information, per community: mean of trust and familiarity."""
        w = self.cfg.cooperation_familiarity_weight
        return (1 - w) * self.by_community("trust") + w * self.by_community("familiarity")

    # -- mechanisms -------------------------------------------------------------------------
    def see_patrol(self, cells: np.ndarray, on_foot: np.ndarray) -> None:
        """An hour of patrol on ``cells``: foot patrol counts 1, a car ``vehicle_visibility``."""
        weight = np.where(on_foot, 1.0, self.cfg.vehicle_visibility)
        np.add.at(self.presence, cells, weight)

    def meet(self, communities: np.ndarray) -> None:
        """An hour of community officers in ``communities``: household contacts fall due."""
        np.add.at(self.contacts_due, communities, self.cfg.contacts_per_hour)

    def judge(self, rt: float, expected: float, cleared: bool, conduct: float) -> float:
        """How a victim judges a response, in -1..1.

        A weighted sum of response time against expectation (``tanh(ln(E / RT))``), whether
        the case was cleared (+1 / -1), and the officer's conduct (skill plus familiarity with
        the community, 0..2, mapped to -1..1).

        Args:
            rt: Response time (minutes).
            expected: What residents expect for the incident's class (minutes).
            cleared: Whether the case was cleared.
            conduct: The officer's skill plus familiarity with the community.
        """
        cfg = self.cfg
        timely = float(np.tanh(math.log(expected / max(rt, 1e-3))))
        total = cfg.response_weight + cfg.clearance_weight + cfg.conduct_weight
        if total <= 0:
            return 0.0
        score = (cfg.response_weight * timely + cfg.clearance_weight * (1.0 if cleared else -1.0)
                 + cfg.conduct_weight * (conduct - 1.0))
        return min(max(float(score / total), -1.0), 1.0)

    def forget(self, community: int, stay: int) -> None:
        """A community officer leaves ``community``; ``stay`` others remain.

        Residents keep the share ``stay / (stay + 1)`` of their familiarity.
        """
        mask = self.community == community
        self.familiarity[mask] *= stay / (stay + 1)

    def experience(self, victim: int, score: float) -> None:
        """Apply a response experience (score in -1..1) of one person of agent ``victim``.

        The victim is one of the agent's ``persons``, so the agent's (mean) views move by that
        person's share; the victim tells one person of each network neighbour, attenuated by
        ``word_of_mouth``. A person's experience thus moves the city's mean views by the same
        amount whatever the number of agents.
        """
        cfg = self.cfg
        if victim < 0:
            return
        self.victimised[victim] += 1
        if not cfg.experience:
            return
        share = 1.0 / self.persons
        self._nudge(victim, score, share)
        if cfg.word_of_mouth > 0:
            nb = self.network.indices[self.network.indptr[victim]:self.network.indptr[victim + 1]]
            self._nudge(nb, score, cfg.word_of_mouth * share, "word_of_mouth")

    def _nudge(self, idx: np.ndarray | int, score: float, weight: float,
               channel: str = "experience") -> None:
        """Move satisfaction and trust of ``idx`` a share of the way to 1 (or 0).

        A person's step is ``rate * |score|`` (times ``negativity`` for bad experiences),
        capped at 1 so that a large step stops exactly at the bound; the agent's mean moves by
        that step times ``weight``, the share of its persons who had the experience. One agent
        (an int) takes a scalar path with the same arithmetic as the vectorised one.
        """
        cfg = self.cfg
        good = score >= 0
        rate = cfg.experience_rate * (1.0 if good else cfg.negativity)
        one: int | None = int(idx) if isinstance(idx, int | np.integer) else None
        few: list[int] | None = (idx.tolist() if not isinstance(idx, int | np.integer)
                                 and idx.size < _SEQUENTIAL_SUM else None)
        keys = self._change_keys[channel]
        for key, arr, k in ((keys[0], self.satisfaction, 1.0),
                            (keys[1], self.trust, cfg.trust_rate_ratio)):
            share = min(rate * k * abs(score), 1.0) * weight
            if one is not None:
                old = float(arr[one])
                total = share * (1 - old) if good else -share * old
                arr[one] = old + total
            elif few is not None:
                total = _nudge_each(arr, few, share, good)
            else:
                steps = share * (1 - arr[idx]) if good else -share * arr[idx]
                arr[idx] += steps
                total = float(steps.sum())
            if self.n:
                self.change[key] = self.change.get(key, 0.0) + total / self.n

    def daily(self) -> None:
        """One day of presence, contact, decay and drift (all vectorised).

        Uses the day's visible patrol (:attr:`presence`, officer-hours per cell) and household
        contacts due (:attr:`contacts_due`, per community); :meth:`new_day` clears them.
        """
        cfg = self.cfg
        presence, contacts_by_community = self.presence, self.contacts_due
        if cfg.presence:
            seen = 1 - np.exp(-presence[self.home] / cfg.presence_half_hours)
            step = cfg.presence_gain * seen * (1 - self.satisfaction)
            self.satisfaction += step
            self._account("satisfaction", "presence", step)
        if cfg.contact:
            self._contacts(contacts_by_community)
        self.familiarity *= np.exp(-cfg.familiarity_decay_per_day)
        for view, arr, base in (("satisfaction", self.satisfaction, cfg.satisfaction_init),
                                ("trust", self.trust, cfg.trust_init)):
            step = cfg.drift_per_day * (base - arr)
            arr += step
            self._account(view, "drift", step)
        # Every step is convex (towards 0, 1 or the baseline): clipping only removes rounding.
        np.clip(self.satisfaction, 0, 1, out=self.satisfaction)
        np.clip(self.trust, 0, 1, out=self.trust)

    def _account(self, view: str, channel: str, step: np.ndarray | float) -> None:
        """Add a change of ``view`` by ``channel`` (one total or per agent) to the city mean."""
        if self.n:
            key = _change_key(view, channel)
            total = step if isinstance(step, float) else float(np.sum(step))
            self.change[key] = self.change.get(key, 0.0) + total / self.n

    def new_day(self) -> None:
        """Start a new day's presence and contact counters."""
        self.presence[:] = 0.0
        self.contacts_due[:] = 0.0

    def _contacts(self, contacts_by_community: np.ndarray) -> None:
        """Household contacts: each reaches the ``household_size`` persons of one household.

        In agents, a household is ``r = household_size / persons`` agents' worth: a random
        agent of the community and, when ``r > 1``, the next agents of that community (its
        neighbours in the cell ordering), ``ceil(r)`` agents each reached for the share
        ``r / ceil(r)`` of their persons. An agent's means move by the share reached.
        """
        k = self.contacts_rng.poisson(np.maximum(contacts_by_community, 0))
        k = np.where(self._comm_count > 0, k, 0)
        total = int(k.sum())
        if total == 0:
            return
        cfg = self.cfg
        r = cfg.household_size / self.persons
        span = max(int(np.ceil(r - 1e-9)), 1)
        comm = np.repeat(np.arange(self.n_communities), k)
        u = self.contacts_rng.random(total)
        start, count = self._comm_start[comm], self._comm_count[comm]
        first = (u * count).astype(np.int64)
        offsets = (first[:, None] + np.arange(span)[None, :]) % count[:, None]
        members = (start[:, None] + offsets).ravel()
        # A household larger than its community's agents reaches each of them once.
        members = members[(np.arange(span)[None, :] < count[:, None]).ravel()]
        who, visits = np.unique(members, return_counts=True)
        reached = np.minimum(visits * (r / span), 1.0)
        self.contacts[who] += visits
        fam_step = reached * cfg.contact_familiarity_gain
        self.familiarity[who] += fam_step * (1 - self.familiarity[who])
        for view, arr in (("trust", self.trust), ("satisfaction", self.satisfaction)):
            step = reached * cfg.contact_trust_gain * (1 - arr[who])
            arr[who] += step
            self._account(view, "contact", step)

    # -- outputs ----------------------------------------------------------------------------
    def means(self) -> dict[str, float]:
        """City means of satisfaction, trust and familiarity (empty without residents)."""
        if self.n == 0:
            return {}
        return {"satisfaction_mean": float(self.satisfaction.mean()),
                "trust_mean": float(self.trust.mean()),
                "familiarity_mean": float(self.familiarity.mean())}

    def community_columns(self) -> dict[str, np.ndarray]:
        """Residents' means per community, for the ``communities`` table."""
        return {"residents": np.bincount(self.community, minlength=self.n_communities),
                "satisfaction": self.by_community("satisfaction"),
                "trust": self.by_community("trust"),
                "familiarity": self.by_community("familiarity"),
                "cooperation": self.cooperation()}

    def summary(self) -> dict[str, float]:
        """End-of-run means and the share of residents ever victimised (NaN without residents)."""
        out = dict.fromkeys(("satisfaction_mean", "trust_mean", "familiarity_mean"),
                            float("nan"))
        if self.n:
            out.update(self.means())
            out["satisfaction_start_mean"] = self.start["satisfaction"]
            out["trust_start_mean"] = self.start["trust"]
            out.update(self.change)
        return out

    def frame(self, layout: CityLayout) -> pd.DataFrame:
        """One row per resident (the end-of-run snapshot)."""
        import pandas as pd

        x, y = layout.xy(self.home)
        return pd.DataFrame({
            "resident_id": np.arange(self.n, dtype=np.int64), "community": self.community,
            "cell": self.home, "x": x, "y": y, "satisfaction": self.satisfaction,
            "trust": self.trust, "familiarity": self.familiarity,
            "victimised": self.victimised, "contacts": self.contacts,
        })

    def to_networkx(self) -> nx.Graph:
        """The social network as a networkx graph (nodes are resident ids)."""
        import networkx as nx

        g = nx.from_scipy_sparse_array(self.network)
        return g


#: numpy sums fewer than 8 doubles left to right (pairwise from 8 on), as a Python loop does.
_SEQUENTIAL_SUM = 8


def _nudge_each(arr: np.ndarray, idx: list[int], share: float, good: bool) -> float:
    """Step ``arr`` at the distinct agents ``idx`` (a few network neighbours) one by one.

    The same arithmetic as the vectorised step, element by element; returns the steps' sum,
    added in order (as numpy adds fewer than :data:`_SEQUENTIAL_SUM` values).
    """
    total = 0.0
    for j in idx:
        old = float(arr[j])
        step = share * (1 - old) if good else -share * old
        arr[j] = old + step
        total += step
    return total


def _change_key(view: str, channel: str) -> str:
    """Column name of a view's change by a channel (the hot path keeps them precomputed)."""
    return f"{view}_change_{channel}"


def _place(n: int, population: np.ndarray, community: np.ndarray,
           rng: np.random.Generator) -> np.ndarray:
    """Home cells of ``n`` residents, proportional to population.

    Residents are grouped by community and then by cell, so that both a cell's and a
    community's residents are contiguous.
    """
    if n == 0 or population.sum() <= 0:
        return np.zeros(0, dtype=np.int64)
    counts = rng.multinomial(n, population / population.sum())
    order = np.lexsort((np.arange(population.size), community))
    return np.repeat(order, counts[order]).astype(np.int64)


def _first_and_count(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """First position and count of each key in ``keys`` (each key's items contiguous)."""
    count = np.bincount(keys, minlength=n_keys)
    first = np.zeros(n_keys, dtype=np.int64)
    first[keys[::-1]] = np.arange(keys.size - 1, -1, -1)
    return first, count


def small_world(community: np.ndarray, k: int, rewire: float,
                rng: np.random.Generator) -> csr_matrix:
    """Watts-Strogatz ties: a ring lattice inside each community, some rewired anywhere.

    Args:
        community: Community of each resident (residents grouped by community).
        k: Ties per resident (even; each links to k/2 on each side of the ring).
        rewire: Probability that a tie is redirected to a random resident.
        rng: Random stream.

    Returns:
        Symmetric adjacency matrix (CSR, 0/1).
    """
    from scipy.sparse import csr_matrix

    n = community.size
    if n < 2 or k < 2:
        return csr_matrix((n, n))
    start, count = _first_and_count(community, int(community.max()) + 1)
    src, dst = [], []
    offset = start[community]
    size = count[community]
    local = np.arange(n) - offset
    for j in range(1, k // 2 + 1):
        ok = size > j
        src.append(np.flatnonzero(ok))
        dst.append((offset + (local + j) % np.maximum(size, 1))[ok])
    s, d = np.concatenate(src), np.concatenate(dst)
    move = rng.random(s.size) < rewire
    d[move] = rng.integers(0, n, int(move.sum()))
    keep = s != d
    s, d = s[keep], d[keep]
    m = csr_matrix((np.ones(2 * s.size), (np.concatenate([s, d]), np.concatenate([d, s]))),
                   shape=(n, n))
    m.data[:] = 1.0
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
