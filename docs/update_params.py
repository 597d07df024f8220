"""Regenerate the parameter table of docs/ODD.md from the scenario schema.

Run ``python docs/update_params.py``; ``tests/test_docs.py`` fails when the table is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- params:begin -->", "<!-- params:end -->"


def render() -> str:
    """Return the current table."""
    sys.path.insert(0, str(ROOT))
    from sim.params import markdown_table
    from sim.scenario import Scenario

    return markdown_table(Scenario())


def main() -> None:
    """Rewrite the block between the markers in docs/ODD.md."""
    path = ROOT / "docs" / "ODD.md"
    text = path.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{render()}{END}{tail}")


if __name__ == "__main__":
    main()
