"""Independent random streams spawned from one SeedSequence, and named streams derived from them.

Each concern draws only from its own stream, so a change in how the police are organised
cannot change which incidents occur (common random numbers across strategies): the incident
stream is consumed identically whatever the strategy, as long as nothing police-dependent
feeds back into the incident process (deterrence, near-repeat, trust-dependent reporting use
pre-drawn uniforms, see :mod:`sim.incidents`).

**Named streams.** A mechanism that needs its own draws takes a generator derived from a
concern's seed and a key of names and integers (:func:`derived`, :meth:`Streams.named`): the
key is hashed into the spawn key, so the generator depends only on the root seed and the key,
never on what else has been drawn. Adding a draw to one mechanism (a new pre-drawn uniform, an
officer who may refuse a call) therefore changes no other draw of any run.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where streams are made: the CLI's start-up needs none
    import numpy as np

NAMED = 2**32
"""Offset of hashed names in spawn keys (so a name never equals a spawn index)."""

DEFAULT_SEED = 20261128
"""The root seed used when none is given: ``run.seed``'s default, sweep specs' ``seed``, the
validation runs' ``--seed`` (defined here once; every default seed refers to it)."""

STREAM_NAMES = ("city", "incidents", "officers", "residents", "dispatch", "strategy")


@dataclass(frozen=True)
class Streams:
    """The model's random generators, one per concern.

    Attributes:
        city: Layout: density, risk surface, blocked streets.
        incidents: Incident times, places, priorities and their pre-drawn outcomes.
        officers: Officer attributes, rosters and patrol positions.
        residents: Resident homes, network and contacts.
        dispatch: Reserved for dispatch tie-breaks and chain noise not tied to an incident.
        strategy: Draws made by strategies (e.g. whom to rotate).
        entropy: Root entropy, recorded so any run can be replayed.
        spawn_key: Spawn key of the root sequence (non-empty for sweep replications).
    """

    city: np.random.Generator
    incidents: np.random.Generator
    officers: np.random.Generator
    residents: np.random.Generator
    dispatch: np.random.Generator
    strategy: np.random.Generator
    entropy: int
    spawn_key: tuple[int, ...]

    def named(self, concern: str, *key: int | str) -> np.random.Generator:
        """A named stream of one concern, e.g. ``streams.named("officers", "refusal")``.

        Args:
            concern: One of :data:`STREAM_NAMES`.
            key: Names and integers identifying the draws.
        """
        if concern not in STREAM_NAMES:
            raise ValueError(f"unknown random stream {concern!r} (known: "
                             f"{', '.join(STREAM_NAMES)})")
        return derived(getattr(self, concern), *key)


def name_key(name: str) -> int:
    """The spawn-key entry of a name (a stable 32-bit hash, offset by :data:`NAMED`)."""
    return NAMED + zlib.crc32(name.encode("utf-8"))


def derived(stream: np.random.Generator, *key: int | str) -> np.random.Generator:
    """A generator derived from ``stream``'s seed and ``key``, independent of its state.

    Args:
        stream: One of the model's streams (made by :func:`make_streams`).
        key: Integers (e.g. a day) and names (e.g. ``"u_clear"``), in order.

    Returns:
        A fresh generator; the same stream seed and key always give the same draws.
    """
    import numpy as np

    seq = stream.bit_generator.seed_seq
    assert isinstance(seq, np.random.SeedSequence)  # streams come from make_streams
    parts = tuple(name_key(k) if isinstance(k, str) else int(k) for k in key)
    return np.random.default_rng(np.random.SeedSequence(
        entropy=seq.entropy, spawn_key=(*seq.spawn_key, *parts)))


def make_streams(seed: int | np.random.SeedSequence) -> Streams:
    """Spawn one generator per concern from a root seed.

    Args:
        seed: An integer seed or a SeedSequence (e.g. one replication of a sweep).

    Returns:
        The streams, in a fixed order so that each name always gets the same child.
    """
    import numpy as np

    if isinstance(seed, np.random.SeedSequence):
        # A fresh copy: spawning mutates a SeedSequence, and replays must not depend on history.
        root = np.random.SeedSequence(entropy=seed.entropy, spawn_key=seed.spawn_key)
    else:
        root = np.random.SeedSequence(seed)
    children = root.spawn(len(STREAM_NAMES))
    gens = {name: np.random.default_rng(child) for name, child in zip(STREAM_NAMES, children,
                                                                       strict=True)}
    raw = root.entropy
    entropy = raw if isinstance(raw, int) else int(raw[0]) if raw is not None else 0
    return Streams(**gens, entropy=entropy, spawn_key=tuple(root.spawn_key))
