"""Sinking strategies: how the force is organised, dispatched and patrols.

A strategy is an object (see :class:`sim.strategies.base.Strategy`) found by name in a
registry. Built-ins are registered on first use; researchers add their own with
:func:`register_strategy` or a ``grassroots.strategies`` entry point.
"""

from sim.strategies.base import Strategy
from sim.strategies.registry import available_strategies, make_strategy, register_strategy

__all__ = ["Strategy", "available_strategies", "make_strategy", "register_strategy"]
