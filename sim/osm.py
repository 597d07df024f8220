"""Reading a street network file: GraphML (plain or saved by osmnx) or OpenStreetMap XML.

:func:`read_network` returns a networkx graph and the CRS of its coordinates (when the file
says). OpenStreetMap XML (``.osm``/``.xml``, or content starting with ``<osm``) is read with
``osmnx.graph_from_xml`` from the local file only (never the network): one-way streets are
one-way; ways without a ``highway`` tag and roads not for cars (``streets.not_drivable``) are
removed; the graph is not simplified (every OSM node stays a node, so cells snap close to
their street); coordinates are longitude/latitude (EPSG:4326). A GraphML file written by
osmnx (it declares a ``created_with`` graph attribute) is read with ``osmnx.load_graphml``,
which restores its types (lists of road classes, edge geometries) and its ``crs``; any other
GraphML with networkx, directed when its ``edgedefault`` says so.

Every problem is a one-line :class:`~sim.datafile.DataError` starting with
``data.streets_graphml:``. Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.datafile import DataError, DataWarning, reason, shorten

if TYPE_CHECKING:
    import networkx as nx

FIELD = "data.streets_graphml"
SNIFF_BYTES = 4096
OSM_SUFFIXES = (".osm", ".xml")


def read_network(path: Path, not_drivable: tuple[str, ...] = ()) -> tuple[nx.Graph, str]:
    """Read a street network file.

    Args:
        path: A checked, non-empty regular file.
        not_drivable: Road classes to remove from OpenStreetMap XML.

    Returns:
        The graph and the CRS of its node coordinates ("" when the file does not say).

    Raises:
        DataError: One line starting with ``data.streets_graphml``.
    """
    head = _head(path)
    if (path.suffix.lower() in OSM_SUFFIXES and b"<graphml" not in head) or b"<osm" in head:
        return _read_osm(path, not_drivable), "EPSG:4326"
    if b'attr.name="created_with"' in head:  # osmnx declares its graph attributes first
        g = _guarded(path, "GraphML", _load_osmnx_graphml)
        return g, str(g.graph.get("crs", "") or "")
    return _guarded(path, "GraphML", _read_plain_graphml), ""


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"{FIELD}: cannot read {shorten(str(path))} "
                        f"({exc.strerror or reason(exc)})") from None


def _read_plain_graphml(path: Path) -> nx.Graph:
    import networkx as nx

    return nx.read_graphml(path)


def _load_osmnx_graphml(path: Path) -> nx.Graph:
    import osmnx as ox

    return ox.load_graphml(path)


def _read_osm(path: Path, not_drivable: tuple[str, ...]) -> nx.Graph:
    def read(p: Path) -> nx.Graph:
        import osmnx as ox

        g = ox.graph_from_xml(p, simplify=False, retain_all=True)
        _drop_edges(g, lambda d: not road_class(d.get("highway")) or d.get("area") == "yes")
        drop_classes(g, not_drivable)
        return g

    g = _guarded(path, "OpenStreetMap XML", read)
    if g.number_of_edges() == 0:
        raise DataError(f"{FIELD}: {shorten(str(path))} has no streets for cars (ways with a "
                        "highway tag not in streets.not_drivable)")
    return g


def drop_classes(g: nx.Graph, classes: tuple[str, ...]) -> int:
    """Remove edges whose road class is in ``classes`` and the nodes they leave alone.

    Args:
        g: The graph (changed in place).
        classes: Road classes (OSM ``highway`` values) to remove.

    Returns:
        How many edges were removed.
    """
    banned = set(classes)
    if not banned:
        return 0
    n_edges = g.number_of_edges()
    dropped = _drop_edges(g, lambda d: road_class(d.get("highway")) in banned)
    if dropped:
        warnings.warn(f"{FIELD}: dropped {dropped:,} of {n_edges:,} edges whose road class is "
                      "not for cars (streets.not_drivable)", DataWarning, stacklevel=2)
    return dropped


def _drop_edges(g: nx.Graph, doomed_if: Callable[[dict], bool]) -> int:
    """Remove the edges whose attributes satisfy ``doomed_if``, and the nodes they isolate."""
    multi = g.is_multigraph()
    doomed = [(u, v, k) if multi else (u, v) for u, v, k, d in _edges(g) if doomed_if(d)]
    g.remove_edges_from(doomed)
    ends = {n for e in doomed for n in e[:2]}
    g.remove_nodes_from([n for n in ends if g.degree(n) == 0])
    return len(doomed)


def _edges(g: nx.Graph) -> list[tuple[Any, Any, Any, dict]]:
    if g.is_multigraph():
        return list(g.edges(keys=True, data=True))
    return [(u, v, None, d) for u, v, d in g.edges(data=True)]


def road_class(value: Any) -> str:
    """An edge's road class: the first of a list (osmnx), the text of a string, or ""."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    text = "" if value is None else str(value).strip()
    if text.startswith("[") and text.endswith("]"):  # a list saved as text
        text = text[1:-1].split(",")[0].strip().strip("'\"")
    return text


def _guarded(path: Path, kind: str, read: Any) -> nx.Graph:
    """Run ``read(path)``, turning every failure into one DataError line."""
    import networkx as nx

    name = shorten(str(path))
    try:
        return read(path)
    except ET.ParseError as exc:
        raise DataError(f"{FIELD}: {name} is not XML ({reason(exc)})") from None
    except MemoryError:
        raise DataError(f"{FIELD}: {name} is too large to read into memory") from None
    except OSError as exc:
        raise DataError(f"{FIELD}: cannot read {name} ({exc.strerror or reason(exc)})") \
            from None
    except (nx.NetworkXException, KeyError, ValueError, TypeError, OverflowError,
            IndexError, AttributeError, SyntaxError) as exc:
        raise DataError(f"{FIELD}: {name} is not valid {kind} "
                        f"({type(exc).__name__}: {reason(exc)})") from None
