"""Regenerate the parameter and indicator tables of docs/ODD.md from the code.

Run ``python docs/update_params.py``; ``tests/test_docs.py`` fails when a table is stale. The
parameter table comes from the scenario schema (:mod:`sim.scenario`), the indicator table from
the indicator registry (:mod:`sim.indicators`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- params:begin -->", "<!-- params:end -->"
IND_BEGIN, IND_END = "<!-- indicators:begin -->", "<!-- indicators:end -->"


def render() -> str:
    """Return the current parameter table."""
    sys.path.insert(0, str(ROOT))
    from sim.params import markdown_table
    from sim.scenario import Scenario

    return markdown_table(Scenario())


def render_indicators() -> str:
    """Return the current indicator table."""
    sys.path.insert(0, str(ROOT))
    from sim.indicators import markdown_table

    return markdown_table()


def replace_block(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with what lies between the markers ``begin`` and ``end`` replaced by ``body``."""
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def main() -> None:
    """Rewrite the blocks between the markers in docs/ODD.md."""
    path = ROOT / "docs" / "ODD.md"
    text = replace_block(path.read_text(), BEGIN, END, render())
    path.write_text(replace_block(text, IND_BEGIN, IND_END, render_indicators()))


if __name__ == "__main__":
    main()
