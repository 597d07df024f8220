"""Built-in sinking strategies (registered on import)."""

from __future__ import annotations

from sim.strategies.base import Strategy
from sim.strategies.registry import register_strategy


@register_strategy
class Centralized(Strategy):
    """Baseline: capacity held at HQ, every call relayed down the chain from the HQ centre."""

    name = "centralized"
    description = "Most capacity at HQ; all dispatch through the HQ command centre."
