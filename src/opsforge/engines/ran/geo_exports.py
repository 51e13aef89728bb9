"""Geographic outputs: sector wedges and interference zones as GeoJSON, KML and KMZ.

Coordinates are always (longitude, latitude) in WGS 84 decimal degrees: GeoJSON positions
are ``[lon, lat]`` (RFC 7946 §3.1.1) and KML ``<coordinates>`` are ``lon,lat[,alt]``
(OGC KML 2.2 §16.9.1). Polygon exterior rings are closed and counter-clockwise (RFC 7946
§3.1.6 right-hand rule).

A sector wedge is drawn from the site along the bearing: apex at the antenna, an arc of the
horizontal beamwidth (65 deg where the GIS has none) at ``radius_m``, 360 deg beamwidth
giving a circle. Geometry is spherical (mean Earth radius).

References
----------
.. [1] H. Butler et al., "The GeoJSON Format", RFC 7946, IETF, 2016. doi:10.17487/RFC7946
.. [2] OGC KML 2.2, OGC 07-147r2, Open Geospatial Consortium, 2008.
"""

from __future__ import annotations

import html
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from lxml import etree

from opsforge.core.errors import DataQualityError
from opsforge.core.units import EARTH_RADIUS_M
from opsforge.engines.ran.exports import cells_after
from opsforge.engines.ran.model import RanResult

__all__ = [
    "ISSUE_COLORS",
    "destination_lonlat",
    "read_geojson",
    "read_kml",
    "read_kmz",
    "sector_wedge",
    "write_cells_geojson",
    "write_kml",
    "write_kml_and_kmz",
    "write_kmz",
    "write_zones_geojson",
]

KML_NS = "http://www.opengis.net/kml/2.2"
#: Colour per issue as ``#rrggbb`` (web); KML gets ``aabbggrr``.
ISSUE_COLORS: dict[str, str] = {
    "overshooting": "#d62728",
    "undershooting": "#1f77b4",
    "crossed_feeder": "#9467bd",
    "none": "#7f7f7f",
}
_DEFAULT_HBW_DEG = 65.0
_ARC_POINTS = 12
FloatArray = npt.NDArray[np.float64]
#: Placemark ExtendedData keys (the balloon shows the rest).
_KML_DATA_KEYS = ("cell_id", "site_id", "bearing_deg", "tilt_e_deg", "tilt_m_deg", "issue",
                  "action", "tilt_change_deg", "proposed_tilt_e_deg", "proposed_tilt_m_deg",
                  "confidence", "swap_with")  # fmt: skip


def destination_lonlat(
    lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike, bearing_deg: npt.ArrayLike, distance_m: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Point reached from (lon, lat) along a great circle. [deg], [deg], [deg], [m] -> [deg]"""
    lat1 = np.deg2rad(np.asarray(lat_deg, dtype=np.float64))
    lon1 = np.deg2rad(np.asarray(lon_deg, dtype=np.float64))
    brg = np.deg2rad(np.asarray(bearing_deg, dtype=np.float64))
    ang = distance_m / EARTH_RADIUS_M
    lat2 = np.arcsin(np.sin(lat1) * np.cos(ang) + np.cos(lat1) * np.sin(ang) * np.cos(brg))
    lon2 = lon1 + np.arctan2(
        np.sin(brg) * np.sin(ang) * np.cos(lat1), np.cos(ang) - np.sin(lat1) * np.sin(lat2)
    )
    return (np.rad2deg(lon2) + 540.0) % 360.0 - 180.0, np.rad2deg(lat2)


def sector_wedge(
    lon_deg: float, lat_deg: float, bearing_deg: float, hbw_deg: float, radius_m: float
) -> list[tuple[float, float]]:
    """Closed counter-clockwise ring ``[(lon, lat), ...]`` of one sector. [deg], [m]"""
    if hbw_deg >= 360.0:
        angles = np.linspace(0.0, 360.0, 4 * _ARC_POINTS, endpoint=False)
        lons, lats = destination_lonlat(lon_deg, lat_deg, angles, radius_m)
        ring = list(zip(lons.tolist(), lats.tolist(), strict=True))
    else:
        angles = np.linspace(bearing_deg - hbw_deg / 2, bearing_deg + hbw_deg / 2, _ARC_POINTS)
        lons, lats = destination_lonlat(lon_deg, lat_deg, angles, radius_m)
        ring = [(lon_deg, lat_deg), *zip(lons.tolist(), lats.tolist(), strict=True)]
    return _ccw_closed(ring)


def write_cells_geojson(
    result: RanResult, gis: pl.DataFrame, path: Path, radius_m: float = 400.0
) -> Path:
    """Every cell as a wedge Feature with its GIS values and recommendation (if any)."""
    features = [
        {
            "type": "Feature",
            "id": int(props["cell_id"]),
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
            "properties": props,
        }
        for ring, props in _wedges(result, gis, radius_m)
    ]
    return _write_fc(path, features)


def write_zones_geojson(result: RanResult, path: Path) -> Path:
    """Interference zones as Polygon Features (``zone_id``, cells, bins, traffic, centroid)."""
    features = []
    for zone in result.interference_zones:
        ring = _ccw_closed([(float(x), float(y)) for x, y in zone.polygon_lonlat])
        features.append(
            {
                "type": "Feature",
                "id": zone.zone_id,
                "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
                "properties": {
                    "zone_id": zone.zone_id,
                    "cell_ids": zone.cell_ids,
                    "num_grids": zone.num_grids,
                    "traffic": zone.traffic,
                    "centroid_lon_deg": zone.centroid_lon_deg,
                    "centroid_lat_deg": zone.centroid_lat_deg,
                },
            }
        )
    return _write_fc(path, features)


def read_geojson(path: Path) -> list[dict[str, Any]]:
    """Features of a FeatureCollection (checks the type; positions stay ``[lon, lat]``)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("type") != "FeatureCollection":
        raise DataQualityError(
            f"{path}: expected a GeoJSON FeatureCollection, got type {doc.get('type')!r}",
            file=str(path),
        )
    features: list[dict[str, Any]] = doc["features"]
    return features


def write_kml(result: RanResult, gis: pl.DataFrame, path: Path, radius_m: float = 400.0) -> Path:
    """Sector wedges as KML placemarks, one folder per issue, coloured, with balloons."""
    path.write_bytes(_kml_bytes(result, gis, radius_m))
    return path


def write_kmz(result: RanResult, gis: pl.DataFrame, path: Path, radius_m: float = 400.0) -> Path:
    """The KML of :func:`write_kml` zipped as ``doc.kml`` (KMZ)."""
    return _zip_kml(_kml_bytes(result, gis, radius_m), path)


def write_kml_and_kmz(
    result: RanResult, gis: pl.DataFrame, kml_path: Path, kmz_path: Path, radius_m: float = 400.0
) -> tuple[Path, Path]:
    """Both files from one rendering of the KML document."""
    data = _kml_bytes(result, gis, radius_m)
    kml_path.write_bytes(data)
    return kml_path, _zip_kml(data, kmz_path)


def _zip_kml(data: bytes, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", data)
    return path


def read_kml(path: Path) -> list[dict[str, Any]]:
    """Placemarks of a KML file: ``name``, ``issue`` (folder), ``data`` and ``ring`` (lon, lat)."""
    return _parse_kml(path.read_bytes(), path)


def read_kmz(path: Path) -> list[dict[str, Any]]:
    """Placemarks of a KMZ file's first ``.kml`` entry (see :func:`read_kml`)."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.lower().endswith(".kml"))
            return _parse_kml(zf.read(name), path)
    except (zipfile.BadZipFile, StopIteration) as exc:
        raise DataQualityError(f"{path} is not a KMZ with a .kml entry", file=str(path)) from exc


# --------------------------------------------------------------------------- internals


def _ccw_closed(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if ring[0] != ring[-1]:
        ring = [*ring, ring[0]]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    return ring if area2 >= 0 else ring[::-1]


def _wedge_rings(
    lon: FloatArray, lat: FloatArray, brg: FloatArray, hbw: FloatArray, radius_m: float
) -> list[list[tuple[float, float]]]:
    """All sector rings at once (vectorised arcs); omni cells go through sector_wedge."""
    frac = np.linspace(-0.5, 0.5, _ARC_POINTS)
    angles = brg[:, None] + hbw[:, None] * frac[None, :]
    arc_lon, arc_lat = destination_lonlat(lon[:, None], lat[:, None], angles, radius_m)
    arc_lon, arc_lat = np.round(arc_lon, 7), np.round(arc_lat, 7)
    rings: list[list[tuple[float, float]]] = []
    for i in range(lon.size):
        if hbw[i] >= 360.0:
            rings.append(sector_wedge(lon[i], lat[i], brg[i], 360.0, radius_m))
            continue
        apex = (float(lon[i]), float(lat[i]))
        # Bearings grow clockwise, so apex -> arc -> apex is clockwise: reverse it.
        arc = list(zip(arc_lon[i, ::-1].tolist(), arc_lat[i, ::-1].tolist(), strict=True))
        rings.append([apex, *arc, apex])
    return rings


def _wedges(
    result: RanResult, gis: pl.DataFrame, radius_m: float
) -> list[tuple[list[tuple[float, float]], dict[str, Any]]]:
    cells = cells_after(result, gis).with_columns(pl.col("hbw_deg").fill_null(_DEFAULT_HBW_DEG))
    rings = _wedge_rings(
        cells.get_column("lon_deg").to_numpy(),
        cells.get_column("lat_deg").to_numpy(),
        cells.get_column("bearing_deg").to_numpy(),
        cells.get_column("hbw_deg").to_numpy(),
        radius_m,
    )
    keys = ("cell_id", "cell_name", "site_id", "bearing_deg", "hbw_deg", "height_m",
            "tilt_m_deg", "tilt_e_deg", "issue", "action", "tilt_change_deg",
            "proposed_tilt_e_deg", "proposed_tilt_m_deg", "confidence", "swap_with",
            "reason")  # fmt: skip
    props = cells.select(keys).with_columns(pl.col("issue").fill_null("none"))
    return list(zip(rings, props.iter_rows(named=True), strict=True))


def _write_fc(path: Path, features: list[dict[str, Any]]) -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return path


def _kml_color(web: str, alpha: str = "b0") -> str:
    rr, gg, bb = web[1:3], web[3:5], web[5:7]
    return f"{alpha}{bb}{gg}{rr}"


def _kml_bytes(result: RanResult, gis: pl.DataFrame, radius_m: float) -> bytes:
    k = f"{{{KML_NS}}}"
    root = etree.Element(f"{k}kml", nsmap={None: KML_NS})
    doc = etree.SubElement(root, f"{k}Document")
    etree.SubElement(doc, f"{k}name").text = "opsforge RAN recommendations"
    for issue, web in ISSUE_COLORS.items():
        style = etree.SubElement(doc, f"{k}Style", id=f"issue-{issue}")
        line = etree.SubElement(style, f"{k}LineStyle")
        etree.SubElement(line, f"{k}color").text = _kml_color(web, "ff")
        etree.SubElement(line, f"{k}width").text = "1.5"
        poly = etree.SubElement(style, f"{k}PolyStyle")
        etree.SubElement(poly, f"{k}color").text = _kml_color(
            web, "90" if issue != "none" else "40"
        )
    folders: dict[str, etree._Element] = {}
    for ring, props in _wedges(result, gis, radius_m):
        issue = str(props["issue"])
        if issue not in folders:
            folders[issue] = etree.SubElement(doc, f"{k}Folder")
            etree.SubElement(folders[issue], f"{k}name").text = issue
        pm = etree.SubElement(folders[issue], f"{k}Placemark", id=f"cell-{props['cell_id']}")
        etree.SubElement(pm, f"{k}name").text = str(props["cell_name"])
        etree.SubElement(pm, f"{k}description").text = etree.CDATA(_balloon(props))
        etree.SubElement(
            pm, f"{k}styleUrl"
        ).text = f"#issue-{issue if issue in ISSUE_COLORS else 'none'}"
        data = etree.SubElement(pm, f"{k}ExtendedData")
        for key in _KML_DATA_KEYS:
            value = props[key]
            if value is None:
                continue
            d = etree.SubElement(data, f"{k}Data", name=key)
            etree.SubElement(d, f"{k}value").text = str(value)
        polygon = etree.SubElement(pm, f"{k}Polygon")
        outer = etree.SubElement(etree.SubElement(polygon, f"{k}outerBoundaryIs"), f"{k}LinearRing")
        etree.SubElement(outer, f"{k}coordinates").text = " ".join(
            f"{lon:.7f},{lat:.7f},0" for lon, lat in ring
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _balloon(props: dict[str, Any]) -> str:
    rows = [
        ("Cell", f"{props['cell_name']} ({props['cell_id']})"),
        ("Site", props["site_id"]),
        ("Issue", props["issue"]),
        ("Action", props["action"] or "-"),
        ("Bearing [deg]", props["bearing_deg"]),
        ("Tilt E / M [deg]", f"{props['tilt_e_deg']} / {props['tilt_m_deg']}"),
        (
            "Proposed tilt E / M [deg]",
            f"{props['proposed_tilt_e_deg']} / {props['proposed_tilt_m_deg']}",
        ),
        ("Confidence", props["confidence"] if props["confidence"] is not None else "-"),
        ("Swap with", props["swap_with"] or "-"),
        ("Reason", props["reason"] or "-"),
    ]
    cells = "".join(
        f"<tr><th align='left'>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>"
        for a, b in rows
    )
    return f"<table>{cells}</table>"


def _parse_kml(data: bytes, path: Path) -> list[dict[str, Any]]:
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise DataQualityError(f"{path} is not readable KML: {exc}", file=str(path)) from exc
    ns = {"k": KML_NS}
    out: list[dict[str, Any]] = []
    for folder in root.iterfind(".//k:Folder", ns):
        issue = folder.findtext("k:name", namespaces=ns)
        for pm in folder.iterfind("k:Placemark", ns):
            coords = pm.findtext(".//k:outerBoundaryIs/k:LinearRing/k:coordinates", namespaces=ns)
            ring = [
                (float(p.split(",")[0]), float(p.split(",")[1])) for p in (coords or "").split()
            ]
            values = {
                d.get("name"): d.findtext("k:value", namespaces=ns)
                for d in pm.iterfind("k:ExtendedData/k:Data", ns)
            }
            out.append(
                {
                    "name": pm.findtext("k:name", namespaces=ns),
                    "issue": issue,
                    "data": values,
                    "ring": ring,
                }
            )
    return out
