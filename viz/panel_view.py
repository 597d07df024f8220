"""The parameter panel (Solara): every scenario parameter as a control, generated from the schema.

The fields come from :func:`viz.panel.panel_fields` (``Scenario.params()``), grouped by part in
collapsible groups (a group's controls are built only while it is open), with a search box that
filters by name or justification. Each control is labelled with its dotted name; its unit,
bounds and justification are its ``title`` (shown on hover) and a text read by screen readers
(``aria-describedby``). Entries are kept as the browser sent them and applied by **Apply** (the
page's Reset), where :mod:`viz.panel` parses them and the schema checks them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reacton.ipyvuetify as rv
import solara

from viz.panel import (
    ParamField,
    edits_after,
    grouped,
    matches,
    relevant,
    shown_text,
)
from viz.widgets import SR_ONLY_CSS, Check, Choice, TextInput


@solara.component
def ParamControl(  # noqa: N802
    field: ParamField, raw: Any, on_raw: Callable[[Any], None], quick_value: Any = None,
) -> None:
    """One parameter: its control (or, for a quick control's parameter, its value)."""
    f = field
    described = {"aria-describedby": f.dom_id}
    changed = f.quick is None and raw != shown_text(f)
    classes = "grassroots-param" + (" grassroots-param-changed" if changed else "")
    style = {"border-left": "3px solid #1976d2", "padding-left": "4px"} if changed else {}
    with rv.Html(tag="div", class_=classes, style_=";".join(f"{k}:{v}" for k, v in style.items()),
                 attributes={"title": f.hint, "data-param": f.name}):
        if f.quick is not None:
            shown = shown_text(f, quick_value) if quick_value is not None else shown_text(f)
            rv.Html(tag="div", style_="font-size:12px;color:#555",
                    children=[f"{f.name} = {shown} (set with the {f.quick} control above)"])
        elif f.kind == "bool":
            Check(f.name, bool(raw), on_raw, attributes=described)
        elif f.kind == "choice":
            Choice(f.name, list(f.choices or ()), raw, on_raw, attributes=described)
        elif f.kind in ("int", "float"):
            bounds = {"min": f.lo, "max": f.hi, "step": f.step}
            TextInput(f.name, str(raw), on_raw, kind="number",
                      attributes={**described, **bounds},
                      suffix="" if f.unit in ("", "-") else f.unit)
        else:
            TextInput(f.name, str(raw), on_raw, attributes=described,
                      hint="comma-separated" if f.kind == "list" else "")
        rv.Html(tag="span", class_="grassroots-sr-only", attributes={"id": f.dom_id},
                children=[f.hint])


@solara.component
def ParamPanel(  # noqa: N802
    fields: Sequence[ParamField], edits: solara.Reactive, strategies: Sequence[str],
    data: bool, quick_values: dict[str, Any], on_apply: Callable[[], None],
) -> None:
    """All parameters of the base scenario, for the chosen strategies.

    Args:
        fields: The base scenario's fields (:func:`viz.panel.panel_fields`).
        edits: ``{dotted_name: raw}`` entries (shared with the page's controls).
        strategies: The strategies in use (A, and B in compare mode).
        data: Whether the scenario names a calls file or a street file.
        quick_values: Current values of the quick controls' parameters by dotted name.
        on_apply: Rebuild the run(s) with the entries (the page's Reset).
    """
    query, set_query = solara.use_state("")
    open_parts, set_open_parts = solara.use_state(())
    chosen = tuple(strategies)
    useful = [f for f in fields if relevant(f, chosen, data)]
    shown = [f for f in useful if matches(f, query)]
    groups = grouped(shown)
    entries = dict(edits.value)

    def control(f: ParamField) -> None:
        def set_raw(x: Any) -> None:
            edits.value = edits_after(edits.value, f, x)

        ParamControl(f, entries.get(f.name, shown_text(f)), set_raw, quick_values.get(f.name))

    solara.Style(SR_ONLY_CSS)
    # Every child keeps its place whatever is shown (reacton matches children by position),
    # so a control is not rebuilt, losing focus, when a message comes or goes.
    with solara.Column(gap="4px", classes=["grassroots-panel"]):
        solara.Markdown(f"**All parameters** ({len(useful)} of {len(fields)} apply here)")
        TextInput("Search parameters", query, set_query, continuous=True,
                  hint=f"{len(shown)} shown: filters by name or justification",
                  classes=["grassroots-param-search"])
        with solara.Row(gap="6px"):
            solara.Button("Apply", color="primary", on_click=on_apply)
            solara.Button("Clear changes", outlined=True, disabled=not entries,
                          on_click=lambda: edits.set({}))
        solara.Text(f"Changed ({len(entries)}): {', '.join(sorted(entries))}. Apply (or Reset) "
                    "to use them." if entries else "", classes=["grassroots-param-changes"],
                    style={"font-size": "12px", "color": "#1976d2"})
        if query.strip():
            with solara.Column(gap="2px", classes=["grassroots-param-results"]):
                for part, members in groups.items():
                    rv.Html(tag="div", class_="grassroots-param-group",
                            style_="font-weight:bold;margin-top:6px", children=[part])
                    for f in members:
                        control(f)
                if not shown:
                    solara.Info(f"No parameter matches {query.strip()!r}.", dense=True)
        else:
            parts = list(groups)

            def on_open(indices: Any) -> None:
                picked = indices if isinstance(indices, list) else []
                set_open_parts(tuple(parts[i] for i in picked
                                     if isinstance(i, int) and 0 <= i < len(parts)))

            with rv.ExpansionPanels(multiple=True, accordion=True, flat=True,
                                    v_model=[i for i, p in enumerate(parts) if p in open_parts],
                                    on_v_model=on_open, class_="grassroots-param-groups"):
                for part in parts:
                    with rv.ExpansionPanel():
                        rv.ExpansionPanelHeader(
                            class_="grassroots-param-group",
                            children=[f"{part} ({len(groups[part])})"])
                        with rv.ExpansionPanelContent():
                            if part in open_parts:
                                for f in groups[part]:
                                    control(f)
        hidden = [f for f in fields if f.users is not None and not relevant(f, chosen, data)]
        if hidden:
            solara.Text(f"{len(hidden)} strategy parameters not used by {', '.join(chosen)} are "
                        "hidden.", style={"font-size": "11px", "color": "#777"})
        if not data:
            solara.Text("data.* parameters are shown when the scenario names a calls file or "
                        "a street file.", style={"font-size": "11px", "color": "#777"})
