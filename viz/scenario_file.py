"""Files to and from the page (Solara): the scenario as TOML, an uploaded scenario, CSV tables.

* **Download scenario** gives the applied scenario of run A, fully resolved
  (:meth:`sim.scenario.Scenario.to_toml`), loadable with ``grassroots run FILE``.
* **Upload scenario** reads a TOML file chosen in the browser with :func:`viz.upload.read_upload`
  (size-limited, data only, data files only inside the results root); a problem is one line.
* **Export** gives the live run's ``incidents``, ``daily`` and ``communities`` tables as CSV
  or Parquet (:mod:`viz.export`), and the figures as PNG: the map as shown (layer and
  overlays) and the live charts (:mod:`viz.figures`); all computed when the button is pressed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
import traitlets
from ipyvuetify.extra import FileInput

from sim.scenario import Scenario
from viz.export import FORMATS, TABLES, file_stem, table_bytes
from viz.figures import charts_png, map_file_png
from viz.formatting import error_message
from viz.session import Session
from viz.upload import MAX_UPLOAD_BYTES, display_name, read_upload

log = logging.getLogger(__name__)

UPLOAD_LABEL = "Upload scenario (TOML)"

_TEMPLATE = """
<template>
  <div class="grassroots-upload">
    <v-file-input v-model="myfiles" :label="label" :aria-label="label" :accept="accept"
      :disabled="disabled" show-size dense hide-details @change="setFiles" />
  </div>
</template>
<script>
modules.export = {
  created() { this.chunk_size = 2 * 1024 * 1024; },
  methods: {
    setFiles(e) {
      if (!e) { this.native_file_info = []; this.file_info = []; return; }
      this.native_file_info = e instanceof File ? [e] : e;
      this.file_info = this.native_file_info.map(
        ({ name, size, lastModified, type }) => ({ name, size, lastModified, type }));
    },
    jupyter_clear() { this.myfiles = undefined; this.setFiles(false); },
    jupyter_read(chunk) {
      const { id, file_index, offset, length } = chunk;
      let to_do = length;
      let sub_offset = offset;
      (async () => {
        while (to_do > 0) {
          const sub_length = Math.min(to_do, this.chunk_size);
          const file = this.native_file_info[file_index];
          const blob = file.slice(sub_offset, sub_offset + sub_length);
          const buff = await blob.arrayBuffer();
          this.upload({ id, file_index, offset: sub_offset, length: sub_length }, [buff]);
          to_do -= sub_length;
          sub_offset += sub_length;
        }
      })();
    },
  },
};
</script>
"""


class ScenarioFileInput(FileInput):
    """A single-file ``<input type=file>`` (Vuetify) with a label; read in chunks."""

    template = traitlets.Unicode(_TEMPLATE).tag(sync=True)
    label = traitlets.Unicode(UPLOAD_LABEL).tag(sync=True)


def take_upload(info: Any, read: Callable[[], bytes], root: Path,
                limit: int = MAX_UPLOAD_BYTES) -> Scenario:
    """The scenario of an uploaded file: its declared size is checked before reading it.

    Args:
        info: The browser's description of the file (``name``, ``size``).
        read: Reads the file's bytes (called only if the size is acceptable).
        root: The results root.
        limit: Largest size accepted (bytes).

    Raises:
        sim.scenario.ScenarioError: One line (too large, not TOML, not a scenario, ...).
    """
    from sim.scenario import ScenarioError

    name = info.get("name") if isinstance(info, dict) else None
    size = info.get("size") if isinstance(info, dict) else None
    if isinstance(size, int) and not isinstance(size, bool) and size > limit:
        raise ScenarioError(f"{display_name(name)}: larger than {limit // 1000:,} kB; not a "
                            "scenario file")
    return read_upload(name, read(), root, limit)


@solara.component
def UploadInput(on_files: Callable[[list[Any]], None]) -> Any:  # noqa: N802
    """The file input; ``on_files`` gets the chosen file (name, size, a reader).

    As in :func:`solara.FileDrop`, the input is the component's root element and its widget is
    looked up in an effect (the only place :func:`solara.get_widget` works).
    """
    file_info, set_file_info = solara.use_state(None)
    el = ScenarioFileInput.element(on_file_info=set_file_info, multiple=False,
                                   accept=".toml,text/plain,application/toml")

    def wire() -> None:
        if not file_info:
            return
        widget = solara.get_widget(el)
        widget.version += 1  # as solara.FileDrop does: a fresh reader for this file
        widget.reset_stats()
        on_files(widget.get_files())

    solara.use_effect(wire, [file_info])
    return el


@solara.component
def ScenarioUpload(  # noqa: N802
    root: Path, on_scenario: Callable[[Scenario, str], None],
) -> None:
    """The upload input; ``on_scenario(scenario, file name)`` gets a valid scenario."""
    wired, set_wired = solara.use_state(None)
    message, set_message = solara.use_state(None)

    def read_file() -> None:
        if not wired:
            return
        info = wired[0]
        try:
            sc = take_upload(info, lambda: bytes(info["file_obj"].read()), root)
        except Exception as exc:  # shown in the page, in one line
            log.warning("viz: upload refused: %s", error_message(exc))
            set_message(("error", error_message(exc)))
            return
        name = display_name(info.get("name"))
        set_message(("ok", f"Loaded {name}: the scenario replaces the preset."))
        on_scenario(sc, name)

    solara.use_thread(read_file, [wired])
    with solara.Column(gap="2px"):
        UploadInput(set_wired)
        if message is not None:
            kind, text = message
            if kind == "error":
                solara.Error(text, dense=True, classes=["grassroots-upload-error"])
            else:
                solara.Success(text, dense=True, classes=["grassroots-upload-ok"])


def _safe_name(text: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60]
    return safe or "scenario"


MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


@solara.component
def ScenarioFiles(  # noqa: N802
    session: Session, version: int, root: Path,
    on_scenario: Callable[[Scenario, str], None], layer: str = "risk",
    overlays: tuple[str, ...] = (),
) -> None:
    """Download the applied scenario, upload one, export the live tables and the figures.

    Args:
        session: The runs.
        version: Bumped after every step or reset.
        root: The results root.
        on_scenario: Gets an uploaded, valid scenario and the file's name.
        layer: The map's background layer (for the map PNG).
        overlays: The map's overlays shown (for the map PNG).
    """
    sims = list(session.sims)
    with solara.Column(gap="4px", classes=["grassroots-files"]):
        solara.Markdown("**Scenario file**")
        if sims:
            sim = sims[0]

            def toml() -> str:
                with session.lock:
                    return sim.scenario.to_toml()

            solara.FileDownload(toml, filename=f"{_safe_name(sim.scenario.run.name)}.toml",
                                label="Download scenario (TOML)", mime_type="application/toml")
        ScenarioUpload(root, on_scenario).key("scenario-upload")
        if not sims:
            return
        solara.Markdown(f"**Export** (tables and figures at t = {session.hours} h)")
        # keyed, as in the controls: a run's label coming or going leaves its buttons alone
        for i, s in enumerate(sims):
            if len(sims) > 1:
                solara.Text(s.label, style={"font-size": "12px"}).key(f"label-{i}")
            for fmt in FORMATS:
                with solara.Row(gap="4px", style={"flex-wrap": "wrap"}).key(f"tables-{i}-{fmt}"):
                    for name in TABLES:
                        solara.FileDownload(_table(session, s, name, fmt),
                                            filename=f"{file_stem(s)}-{name}.{fmt}",
                                            label=f"{name}.{fmt}", mime_type=MIME[fmt])
            with solara.Row(gap="4px", style={"flex-wrap": "wrap"}).key(f"figures-{i}"):
                solara.FileDownload(_figure(session, s, "map", layer, overlays),
                                    filename=f"{file_stem(s)}-map-{layer}.png",
                                    label="map.png", mime_type="image/png")
                solara.FileDownload(_figure(session, s, "charts", layer, overlays),
                                    filename=f"{file_stem(s)}-charts.png",
                                    label="charts.png", mime_type="image/png")


def _table(session: Session, sim: Any, name: str, fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        with session.lock:
            return table_bytes(sim, name, fmt)

    return make


def _figure(session: Session, sim: Any, kind: str, layer: str,
            overlays: tuple[str, ...]) -> Callable[[], bytes]:
    def make() -> bytes:
        with session.lock:
            if kind == "map":
                return map_file_png(session, sim, layer, overlays)
            return charts_png(session, sim)

    return make
