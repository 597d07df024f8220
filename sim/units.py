"""Units of time, defined once: the model counts minutes, Mesa's clock counts hours.

Every module converts with these names rather than with literals (``1440``, ``60``, ``90``).
"""

from __future__ import annotations

MIN_PER_HOUR = 60.0
"""Minutes in an hour: Mesa's clock (``model.time``) counts hours, recorded times minutes."""

MIN_PER_DAY = 1440.0
"""Minutes in a day: day ``d`` covers minutes ``[d * MIN_PER_DAY, (d + 1) * MIN_PER_DAY)``."""

QUARTER_DAYS = 90
"""Days in a quarter, for every quarterly schedule: gradual sinking steps at days 0, 90, 180,
... (``strategy.sink_per_quarter``), and the adaptive evaluation's default period
(``strategy.eval_period_days`` = 90, "every quarter"). A year is about four quarters and five
days; nothing assumes 4 x 90 = 365."""
