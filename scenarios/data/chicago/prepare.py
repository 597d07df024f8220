"""Build the Chicago example city from the City of Chicago's published files (local copies).

Reads only local files (see ``scenarios/data/README.md`` for where each came from) and writes
the shipped files of this folder:

* ``precincts.geojson``: the 22 police districts (EPSG:4326, id ``district``);
* ``beats.geojson``: their 274 beats (id ``beat``, parent ``district``);
* ``posts.csv`` and ``posts.geojson``: police headquarters and the 22 district stations;
* ``calls.csv``: the crimes reported in two whole weeks (Monday 15 to Sunday 28 September
  2014), one row per crime, with the service's own offence type as ``priority``.

Usage::

    python scenarios/data/chicago/prepare.py --raw /path/to/raw --out scenarios/data/chicago

where ``--raw`` holds ``police_districts.zip``, ``police_beats.zip`` (the portal's shapefile
exports), ``Police_Stations.csv`` and ``Crimes_September_2014.csv``. ``--check`` (no ``--raw``)
only verifies that the shipped files agree with each other.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

PROJECTED = "EPSG:32616"
"""WGS 84 / UTM zone 16N: metres, for simplifying and measuring."""
TOLERANCE_M = 5.0
"""Douglas-Peucker tolerance of the boundary simplification (metres)."""
DROPPED_DISTRICTS = ("31",)
"""District 31 is a sliver with no station and no crime in the sample (see README)."""
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
"""The portal's format, kept by the rows of 13-30 September in the copy used."""
MANGLED_FORMATS = ("%Y/%d/%m %H:%M:%S", "%Y/%d/%m")
"""Rows of 1-12 September in that copy were rewritten year/day/month by a spreadsheet
(midnight without its time)."""


@dataclass(frozen=True)
class Window:
    """The sampled period: ``weeks`` whole weeks from midnight of ``start`` (a Monday)."""

    start: pd.Timestamp
    weeks: int

    @property
    def end(self) -> pd.Timestamp:
        """First minute after the window."""
        return self.start + pd.Timedelta(days=7 * self.weeks)


def simplify(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Simplify a polygon coverage in metres, keeping shared edges shared, back to EPSG:4326."""
    projected = gdf.to_crs(PROJECTED)
    geoms = shapely.coverage_simplify(projected.geometry.values, TOLERANCE_M)
    out = projected.set_geometry(gpd.GeoSeries(geoms, crs=PROJECTED, index=projected.index))
    return out.to_crs("EPSG:4326")


def districts(path: Path) -> gpd.GeoDataFrame:
    """The police districts: one (multi)polygon per district number, id as text."""
    raw = gpd.read_file(f"zip://{path}")
    raw["district"] = raw["DIST_NUM"].astype(int).astype(str)
    raw = raw[~raw["district"].isin(DROPPED_DISTRICTS)]
    out = raw.dissolve(by="district", as_index=False)[["district", "DIST_LABEL", "geometry"]]
    out = out.rename(columns={"DIST_LABEL": "name"})
    out["order"] = out["district"].astype(int)
    return simplify(out.sort_values("order").drop(columns="order").reset_index(drop=True))


def beats(path: Path) -> gpd.GeoDataFrame:
    """The patrol beats: id ``beat`` (four digits as the CPD writes them), parent district."""
    raw = gpd.read_file(f"zip://{path}")
    raw["beat"] = raw["BEAT_NUM"].astype(str).str.zfill(4)
    raw["district"] = raw["DISTRICT"].astype(int).astype(str)
    raw = raw[~raw["district"].isin(DROPPED_DISTRICTS)]
    out = raw.dissolve(by="beat", as_index=False)[["beat", "district", "geometry"]]
    return simplify(out.sort_values("beat").reset_index(drop=True))


def posts(path: Path, district_ids: list[str]) -> pd.DataFrame:
    """Headquarters (``hq``) and one station per district, at the published coordinates."""
    raw = pd.read_csv(path, dtype=str)
    hq = raw["DISTRICT"].str.strip().str.lower() == "headquarters"
    out = pd.DataFrame({
        "kind": ["hq" if h else "station" for h in hq],
        "area": ["" if h else str(int(d)) for h, d in zip(hq, raw["DISTRICT"], strict=True)],
        "lon": raw["LONGITUDE"].astype(float).round(6),
        "lat": raw["LATITUDE"].astype(float).round(6),
        "name": [("Headquarters" if h else f"District {int(d)} station") + f", {a.strip()}"
                 for h, d, a in zip(hq, raw["DISTRICT"], raw["ADDRESS"], strict=True)],
    })
    missing = sorted(set(district_ids) - set(out.loc[out["kind"] == "station", "area"]))
    if missing:
        raise SystemExit(f"posts: no station for district(s) {', '.join(missing)}")
    return out


def parse_times(text: pd.Series) -> pd.Series:
    """The crimes' times: the portal's format, else the copy's year/day/month rewrite."""
    stamp = pd.to_datetime(text, format=TIME_FORMAT, errors="coerce")
    for fmt in MANGLED_FORMATS:
        stamp = stamp.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
    if stamp.isna().any():
        raise SystemExit(f"crimes: unreadable time {text[stamp.isna()].iloc[0]!r}")
    return stamp


def read_crimes(path: Path, window: Window) -> tuple[pd.DataFrame, dict[str, int]]:
    """The crimes of the window with coordinates, and the counts of what was left out."""
    raw = pd.read_csv(path, dtype=str)
    stamp = parse_times(raw["Date"])
    inside = (stamp >= window.start) & (stamp < window.end)
    lon = pd.to_numeric(raw["Longitude"], errors="coerce")
    lat = pd.to_numeric(raw["Latitude"], errors="coerce")
    located = lon.notna() & lat.notna()
    counts = {"rows_in_file": len(raw), "rows_in_window": int(inside.sum()),
              "dropped_no_coordinates": int((inside & ~located).sum())}
    keep = inside & located
    out = pd.DataFrame({
        "id": raw.loc[keep, "ID"],
        "timestamp": stamp[keep].dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "lon": lon[keep].round(6), "lat": lat[keep].round(6),
        "priority": raw.loc[keep, "Primary Type"].str.strip(),
        "description": raw.loc[keep, "Description"].str.strip(),
        "location": raw.loc[keep, "Location Description"].fillna("").str.strip(),
        "arrest": raw.loc[keep, "Arrest"].str.upper() == "TRUE",
        "domestic": raw.loc[keep, "Domestic"].str.upper() == "TRUE",
        "district": pd.to_numeric(raw.loc[keep, "District"]).astype("Int64").astype(str),
    })
    return out.sort_values(["timestamp", "id"]).reset_index(drop=True), counts


def add_beats(calls: pd.DataFrame, beat_gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The beat (and its district) containing each crime; ``""`` outside every beat."""
    pts = gpd.GeoDataFrame(calls, geometry=gpd.points_from_xy(calls["lon"], calls["lat"]),
                           crs="EPSG:4326")
    joined = gpd.sjoin(pts, beat_gdf[["beat", "district", "geometry"]].rename(
        columns={"district": "beat_district"}), how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    out = calls.copy()
    out["beat"] = joined["beat"].fillna("").to_numpy()
    out["beat_district"] = joined["beat_district"].fillna("").to_numpy()
    return out


def write(out: Path, window: Window, raw: Path) -> dict[str, int]:
    """Write every shipped file and return the numbers quoted in the README."""
    d = districts(raw / "police_districts.zip")
    b = beats(raw / "police_beats.zip")
    p = posts(raw / "Police_Stations.csv", list(d["district"]))
    calls, counts = read_crimes(raw / "Crimes_September_2014.csv", window)
    calls = add_beats(calls, b)
    outside = calls["beat"] == ""
    counts["dropped_outside_beats"] = int(outside.sum())
    counts["district_differs_from_beat"] = int((calls["district"] != calls["beat_district"])
                                               [~outside].sum())
    calls = calls[~outside].drop(columns="beat_district")
    d.to_file(out / "precincts.geojson", driver="GeoJSON", COORDINATE_PRECISION=6)
    b.to_file(out / "beats.geojson", driver="GeoJSON", COORDINATE_PRECISION=6)
    p.to_csv(out / "posts.csv", index=False)
    gpd.GeoDataFrame(p, geometry=gpd.points_from_xy(p["lon"], p["lat"]), crs="EPSG:4326").to_file(
        out / "posts.geojson", driver="GeoJSON")
    calls.to_csv(out / "calls.csv", index=False)
    counts["rows_written"] = len(calls)
    return counts


def check(folder: Path) -> list[str]:
    """What is wrong with the shipped files of ``folder`` (empty = they agree)."""
    d = gpd.read_file(folder / "precincts.geojson")
    b = gpd.read_file(folder / "beats.geojson")
    p = pd.read_csv(folder / "posts.csv", dtype=str, keep_default_na=False)
    c = pd.read_csv(folder / "calls.csv", dtype=str, keep_default_na=False)
    ids = set(d["district"])
    problems = [f"{name}: not EPSG:4326" for name, g in (("precincts", d), ("beats", b))
                if g.crs is None or g.crs.to_epsg() != 4326]
    problems += [f"beats: district {x} is no precinct" for x in sorted(set(b["district"]) - ids)]
    stations = set(p.loc[p["kind"] == "station", "area"])
    problems += [f"posts: no station for district {x}" for x in sorted(ids - stations)]
    problems += ["posts: not exactly one hq"] * int((p["kind"] == "hq").sum() != 1)
    problems += [f"calls: beat {x} unknown" for x in sorted(set(c["beat"]) - set(b["beat"]))]
    stamps = pd.to_datetime(c["timestamp"], format="%Y-%m-%dT%H:%M:%S")
    problems += ["calls: not in whole weeks"] * int((stamps.max() - stamps.min()).days % 7 != 6)
    return problems


def main() -> None:
    """Command line: ``--raw`` folder of the downloaded files, ``--out`` folder to write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--check", action="store_true", help="only check the shipped files")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--start", default="2014-09-15", help="first day (a Monday)")
    parser.add_argument("--weeks", type=int, default=2)
    args = parser.parse_args()
    if args.check or args.raw is None:
        problems = check(args.out)
        print("\n".join(problems) or "the shipped files agree")
        raise SystemExit(1 if problems else 0)
    window = Window(pd.Timestamp(args.start), args.weeks)
    if window.start.day_of_week != 0:
        raise SystemExit("--start: must be a Monday (whole weeks are kept)")
    print(json.dumps(write(args.out, window, args.raw), indent=1))


if __name__ == "__main__":
    main()
