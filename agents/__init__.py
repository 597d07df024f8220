"""The actors of the model: officers, incidents, posts and residents (Mesa agents).

The agent sets (:mod:`agents.officers`, :mod:`agents.residents`) hold state and behaviour;
the Mesa agents are views on them. Names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "OfficerState": "agents.enums", "PostKind": "agents.enums", "Priority": "agents.enums",
    "Tier": "agents.enums", "Incident": "agents.incident", "Officer": "agents.officer",
    "Post": "agents.post", "Resident": "agents.resident", "ResidentViews": "agents.resident",
    "Officers": "agents.officers", "Residents": "agents.residents",
}


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Incident", "Officer", "OfficerState", "Officers", "Post", "PostKind", "Priority",
    "Resident", "ResidentViews", "Residents", "Tier",
]
