"""Golden fingerprints: every preset's tables after a short run, to catch any change of results.

A speed-up must leave results as they are. ``tests/test_golden.py`` runs every preset in
``scenarios/`` for :data:`DAYS` days at its own seed and compares each output table with the
fingerprint stored in ``tests/golden/fingerprints.json``:

* integer, boolean and text columns: a hash of the values (must be equal);
* float columns: the count of NaN, the sum, a position-weighted sum, the minimum and the
  maximum of the rest (equal within a relative 1e-9, so that a different CPU's last bit in a
  logarithm does not fail the test, while any change of a decision or a time does);
* the summary's numbers likewise, its other entries exactly.

A change that is meant to change results regenerates the file, and the commit says why::

    .venv/bin/python tests/golden.py --update
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FILE = Path(__file__).with_name("golden") / "fingerprints.json"
DAYS = 3
RTOL = 1e-9


def presets() -> list[str]:
    """Names of the presets in ``scenarios/`` (sorted)."""
    return sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))


def _column(values: pd.Series) -> Any:
    if pd.api.types.is_float_dtype(values.dtype):
        x = values.to_numpy(np.float64)
        finite = x[np.isfinite(x)]
        weights = (np.arange(x.size) % 97 + 1.0)[np.isfinite(x)]
        if finite.size == 0:
            return [int(x.size - finite.size), 0.0, 0.0, None, None]
        return [int(x.size - finite.size), float(finite.sum()), float(finite @ weights),
                float(finite.min()), float(finite.max())]
    hashed = pd.util.hash_pandas_object(values.astype(str) if values.dtype == object
                                        else values, index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:20]


def _table(frame: pd.DataFrame) -> dict[str, Any]:
    return {"rows": len(frame), "columns": {c: _column(frame[c]) for c in frame.columns}}


def fingerprint(name: str) -> dict[str, Any]:
    """Run preset ``name`` for :data:`DAYS` days; the fingerprints of its tables."""
    sys.path.insert(0, str(ROOT))
    from sim.api import run
    from sim.scenario import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(load_scenario(name), days=DAYS)
    tables = {"incidents": result.incidents, "daily": result.daily,
              "communities": result.communities, **result.extra}
    summary = {k: (float(v) if isinstance(v, int | float | np.number) and not isinstance(v, bool)
                   else str(v)) for k, v in sorted(result.summary.items())}
    return {"days": DAYS, "tables": {k: _table(tables[k]) for k in sorted(tables)},
            "summary": summary}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=RTOL)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Where two fingerprints differ, one line each (empty: they agree)."""
    out: list[str] = []
    if got["days"] != want["days"]:
        return [f"days {got['days']} != {want['days']}"]
    for name in sorted(set(got["tables"]) | set(want["tables"])):
        g, w = got["tables"].get(name), want["tables"].get(name)
        if g is None or w is None:
            out.append(f"table {name}: {'missing' if g is None else 'new'}")
            continue
        if g["rows"] != w["rows"]:
            out.append(f"{name}: {g['rows']} rows, golden {w['rows']}")
        for col in sorted(set(g["columns"]) | set(w["columns"])):
            a, b = g["columns"].get(col), w["columns"].get(col)
            if not _close(a, b):
                out.append(f"{name}.{col}: {a} != golden {b}")
    for key in sorted(set(got["summary"]) | set(want["summary"])):
        a, b = got["summary"].get(key), want["summary"].get(key)
        if not _close(a, b):
            out.append(f"summary {key}: {a} != golden {b}")
    return out


def load() -> dict[str, Any]:
    """The stored fingerprints, by preset."""
    return json.loads(FILE.read_text(encoding="utf-8"))


def main() -> None:
    """``--update``: recompute and store every preset's fingerprint."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="rewrite tests/golden/fingerprints.json")
    args = ap.parse_args()
    data = {name: fingerprint(name) for name in presets()}
    if args.update:
        FILE.parent.mkdir(exist_ok=True)
        FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {FILE.relative_to(ROOT)} ({len(data)} presets)")
        return
    stored = load()
    for name, fp in data.items():
        diff = differences(fp, stored[name]) if name in stored else ["not stored"]
        print(f"{name}: {'same' if not diff else '; '.join(diff[:3])}")


if __name__ == "__main__":
    main()
