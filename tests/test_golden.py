"""Every preset's results stay as they were (golden fingerprints, see ``tests/golden.py``)."""

from __future__ import annotations

import copy

import golden
import pytest


@pytest.mark.parametrize("name", golden.presets())
def test_preset_results_match_their_golden_fingerprint(name):
    stored = golden.load()
    assert name in stored, f"{name}: no golden fingerprint (tests/golden.py --update)"
    diff = golden.differences(golden.fingerprint(name), stored[name])
    assert not diff, f"{name} changed ({len(diff)}):\n" + "\n".join(diff[:20])


def test_the_comparison_catches_a_changed_time_and_a_changed_decision():
    """The check can fail: a time moved by a millionth, a flipped flag, a lost row."""
    stored = golden.load()["default"]
    assert golden.differences(copy.deepcopy(stored), stored) == []
    times = copy.deepcopy(stored)
    col = times["tables"]["incidents"]["columns"]["t_arrive"]
    col[1] *= 1 + 1e-6
    assert any("t_arrive" in d for d in golden.differences(times, stored))
    flag = copy.deepcopy(stored)
    flag["tables"]["incidents"]["columns"]["cleared"] = "0" * 20
    assert any("cleared" in d for d in golden.differences(flag, stored))
    rows = copy.deepcopy(stored)
    rows["tables"]["daily"]["rows"] -= 1
    assert any("rows" in d for d in golden.differences(rows, stored))
