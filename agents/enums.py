"""Enumerations for tiers, states, priorities and post kinds: no magic strings."""

from __future__ import annotations

from enum import IntEnum


class Tier(IntEnum):
    """Organisational level an officer belongs to."""

    HQ = 0
    STATION = 1
    COMMUNITY = 2

    @property
    def label(self) -> str:
        """Lower-case name used in tables and scenario keys."""
        return self.name.lower()


class PostKind(IntEnum):
    """Kind of a fixed police post."""

    HQ = 0
    STATION = 1
    COMMUNITY = 2


class Priority(IntEnum):
    """Incident priority; lower value is served first."""

    EMERGENCY = 0
    URGENT = 1
    ROUTINE = 2

    @property
    def label(self) -> str:
        """Lower-case name used in tables and scenario keys."""
        return self.name.lower()


class OfficerState(IntEnum):
    """What an officer is doing; the state machine of the dispatch model.

    ``IDLE``, ``PATROL`` and ``RETURNING`` officers are available for dispatch; ``ADMIN``
    officers are at their desk, ``TRAVELLING`` and ``ON_SCENE`` are committed to an incident
    and ``OFF_DUTY`` officers are not working.
    """

    IDLE = 0
    PATROL = 1
    ADMIN = 2
    TRAVELLING = 3
    ON_SCENE = 4
    RETURNING = 5
    OFF_DUTY = 6

    @property
    def label(self) -> str:
        """Lower-case name used in tables."""
        return self.name.lower()

    @property
    def available(self) -> bool:
        """Whether an officer in this state may be dispatched."""
        return self in AVAILABLE_STATES

    @property
    def committed(self) -> bool:
        """Whether this state is committed to an incident."""
        return self in (OfficerState.TRAVELLING, OfficerState.ON_SCENE)


AVAILABLE_STATES = frozenset({OfficerState.IDLE, OfficerState.PATROL, OfficerState.RETURNING})
