"""Why runs A and B of compare mode do not face exactly the same incidents (no UI code).

Both runs are built from the same controls and seed, so they start from the same recorded
incident stream: the background incidents of every day, with the same times, places, classes
and pre-drawn luck (common random numbers). Two mechanisms make the true incidents depend on
the police, and so on the strategy: **deterrence** (visible patrol thins the background
incidents of the cells it covers) and **near-repeat victimisation** (an incident adds
follow-on incidents nearby over the next days). From the first day on which the strategies'
patrols or incidents differ, the streams diverge. :func:`compare_note` says so in the page with
the counts of both runs; with both mechanisms off (or replayed calls, which they do not touch)
the streams stay identical.
"""

from __future__ import annotations

from viz.session import Session


def drift_mechanisms(session: Session) -> list[str]:
    """The mechanisms switched on in run A's scenario that make the streams diverge."""
    sim = session.sims[0]
    hz = sim.scenario.hazard
    replay = bool(getattr(sim.model.demand, "replay", False))
    out = []
    if hz.deterrence and not replay:
        out.append("deterrence (visible patrol thins the incidents of the cells it covers)")
    if hz.near_repeat and not replay:
        out.append("near-repeat victimisation (an incident adds follow-on incidents nearby "
                   "over the next days)")
    return out


def compare_note(session: Session) -> str:
    """One paragraph on the incident streams of A and B, with their true counts so far.

    Returns:
        Empty outside compare mode.
    """
    if not session.compare:
        return ""
    a, b = session.sims[0], session.sims[1]
    na, nb = int(a.stats["incidents_true"]), int(b.stats["incidents_true"])
    counts = (f"True incidents so far: A {na:,}, B {nb:,} (B - A {nb - na:+,}).")
    mechanisms = drift_mechanisms(session)
    if not mechanisms:
        return ("Same incident stream: both runs draw the same incidents with the same luck "
                "(same seed, common random numbers), and no mechanism lets the police change "
                f"them. {counts}")
    return ("Same incident stream at the start: both runs draw the same background incidents "
            "with the same luck (same seed, common random numbers). The true incidents then "
            f"depend on the police through {' and '.join(mechanisms)}, so they diverge as "
            f"soon as the strategies' patrols or incidents differ. {counts}")
