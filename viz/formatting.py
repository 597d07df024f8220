"""How the page writes values: user input in messages, error lines, numbers and clock times.

Times: ``model.time`` counts hours; the log and every indicator are in minutes; charts use
days. Shares are stored as fractions and shown as percentages.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def shown_value(value: Any, limit: int = 60) -> str:
    """A user-supplied value for a message: quoted, escaped, shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def error_message(exc: BaseException, limit: int = 500) -> str:
    """One line for the page about ``exc`` (the message alone for invalid input).

    Args:
        exc: The exception.
        limit: Most characters shown.

    Returns:
        The text.
    """
    text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clock_text(hours: float) -> str:
    """``day 3, 14:00`` for a time in hours (day 0 is the first day)."""
    h = round(hours)
    return f"day {h // 24}, {h % 24:02d}:00"


def format_value(value: float, digits: int = 1, signed: bool = False) -> str:
    """A number for the panel; ``n/a`` for NaN, never ``-0.0``.

    Args:
        value: The number.
        digits: Decimals shown.
        signed: Show ``+`` on positive numbers (differences).
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if abs(value) < 0.5 * 10.0**-digits:
        value = 0.0
    return f"{value:{'+' if signed and value else ''},.{digits}f}"
