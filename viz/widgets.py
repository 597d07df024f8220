"""Small Solara inputs that carry an ``aria-label`` (and other HTML attributes).

Solara's own sliders and inputs give no way to set HTML attributes, so a slider without a
visible label has an empty accessible name. These wrappers pass ``attributes`` to the Vuetify
component, which puts them on the focusable element (the slider's thumb, the ``<input>``):
``aria-label``, ``aria-describedby`` and, for number inputs, ``min``, ``max`` and ``step``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reacton.ipyvuetify as rv
import solara
from solara.components.input import use_change

SR_ONLY_CSS = """
.grassroots-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0;
  margin: -1px; overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.grassroots-param { margin: 10px 0 2px 0; }
.grassroots-param .v-input--selection-controls { margin-top: 0; }
"""
"""Styles of the panel: text shown to screen readers only, compact controls."""


def aria(label: str, described_by: str | None = None, **more: Any) -> dict[str, Any]:
    """HTML attributes: ``aria-label`` (never empty), ``aria-describedby``, and ``more``."""
    out: dict[str, Any] = {"aria-label": label or "unnamed control"}
    if described_by:
        out["aria-describedby"] = described_by
    out.update({k: v for k, v in more.items() if v is not None})
    return out


@solara.component
def Slider(  # noqa: N802
    label: str, value: solara.Reactive, min: float, max: float, step: float,
    integer: bool = False, disabled: bool = False,
) -> rv.Slider:
    """A slider bound to ``value`` whose thumb is announced as ``label`` (greyed if disabled)."""

    def set_value(x: Any) -> None:
        try:
            value.value = int(x) if integer else float(x)
        except (TypeError, ValueError, OverflowError):  # a client may send anything
            value.value = x

    return rv.Slider(v_model=value.value, on_v_model=set_value, label="", min=min, max=max,
                     step=step, thumb_label=True, hide_details=True, disabled=disabled,
                     attributes=aria(label))


@solara.component
def TextInput(  # noqa: N802
    label: str, value: str, on_value: Callable[[str], None], *, kind: str = "text",
    attributes: dict[str, Any] | None = None, suffix: str = "", hint: str = "",
    continuous: bool = False, classes: list[str] | None = None,
) -> rv.TextField:
    """A text (or number) field, applied on Enter or when it loses focus.

    Args:
        label: Visible label, also its ``aria-label``.
        value: The text shown.
        on_value: Called with the text on Enter / focus out (every change if ``continuous``).
        kind: The ``<input>`` type (``text`` or ``number``).
        attributes: More HTML attributes (``min``, ``max``, ``aria-describedby``, ...).
        suffix: Text after the value (the unit).
        hint: Text under the field.
        continuous: Report every keystroke.
        classes: CSS classes.
    """
    text, set_text = solara.use_state_or_update(value)

    def changed(x: Any) -> None:
        set_text(x)
        if continuous:
            on_value("" if x is None else x)

    el = rv.TextField(v_model=text, on_v_model=changed, label=label, type=kind, dense=True,
                      hide_details="auto", suffix=suffix, hint=hint, persistent_hint=bool(hint),
                      class_=" ".join(classes or []),
                      attributes={**aria(label), **(attributes or {})})
    use_change(el, lambda x: on_value("" if x is None else x), enabled=not continuous)
    return el


@solara.component
def Choice(  # noqa: N802
    label: str, values: list[str], value: str | None, on_value: Callable[[Any], None],
    attributes: dict[str, Any] | None = None,
) -> rv.Select:
    """A select among ``values`` with an ``aria-label``."""
    return rv.Select(label=label, items=list(values), v_model=value, on_v_model=on_value,
                     dense=True, hide_details=True,
                     attributes={**aria(label), **(attributes or {})})


@solara.component
def Check(  # noqa: N802
    label: str, value: bool, on_value: Callable[[bool], None],
    attributes: dict[str, Any] | None = None, disabled: bool = False,
) -> rv.Checkbox:
    """A checkbox with an ``aria-label`` (greyed if disabled)."""
    return rv.Checkbox(label=label, v_model=bool(value), on_v_model=on_value, dense=True,
                       hide_details=True, disabled=disabled,
                       attributes={**aria(label), **(attributes or {})})
