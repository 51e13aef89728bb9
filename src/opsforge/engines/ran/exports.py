"""Write (and read back) the RAN engine's outputs in the formats RF engineers use.

Tabular outputs: ``recommendations.csv|.parquet|.json``, ``conflicts.csv`` (actions the conflict
rules dropped or clipped, with the reason), ``interference_grids.csv``, the Atoll
transmitter change table (``atoll_transmitters.txt``) and the TEMS cell files
(``tems_cells.cel``, ``tems_cells.xml``). Geographic outputs (GeoJSON, KML, KMZ) live in
:mod:`opsforge.engines.ran.geo_exports`. Every writer has a reader so tests prove round trips.

Format notes (what could and could not be verified is in ``docs/engines/ran.md``):

- Atoll: tab-separated text, one header line, the column captions of Atoll's Transmitters
  table (``Site``, ``Transmitter``, ``Azimut`` ...), decimal point, tilts in degrees.
- TEMS CEL: first line ``<rev> TEMS_-_Cell_names``, second line tab-separated column headers,
  then one tab-separated line per cell, CR LF line ends, decimal degrees.
- TEMS XML: ``TEMS_CELL_EXPORT`` (v1.2) > ``LTE`` > ``CELL_LIST`` > ``LTE_CELL``.
"""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO
from pathlib import Path

import polars as pl
from lxml import etree

from opsforge.core.errors import DataQualityError
from opsforge.engines.ran.columns import GIS_FIELDS
from opsforge.engines.ran.model import (
    CELL_STATS_SCHEMA,
    CHANGE_SCHEMA,
    CONFLICT_SCHEMA,
    INTERFERENCE_GRID_SCHEMA,
    RECOMMENDATION_SCHEMA,
    RanResult,
)

__all__ = [
    "ATOLL_COLUMNS",
    "TEMS_CEL_COLUMNS",
    "TEMS_CEL_HEADER",
    "cells_after",
    "read_atoll_changes",
    "read_cell_stats_csv",
    "read_changes_csv",
    "read_conflicts_csv",
    "read_interference_grids",
    "read_recommendations_csv",
    "read_recommendations_json",
    "read_recommendations_parquet",
    "read_tems_cel",
    "read_tems_xml",
    "write_atoll_changes",
    "write_cell_stats",
    "write_changes",
    "write_conflicts",
    "write_interference_grids",
    "write_recommendations",
    "write_tems_cel",
    "write_tems_xml",
]

#: First line of a TEMS CEL file: revision number and identification string.
TEMS_CEL_HEADER = "55 TEMS_-_Cell_names"
#: TEMS CEL columns written (LTE cells), canonical source in brackets in the docs.
TEMS_CEL_COLUMNS = (
    "Cell", "CI", "NODE_B", "Lat", "Lon", "EARFCN", "ANT_DIRECTION", "ANT_BEAM_WIDTH",
    "ANT_HEIGHT", "ANT_TILT",
)  # fmt: skip
#: Atoll transmitter change table columns.
ATOLL_COLUMNS = (
    "Site", "Transmitter", "Azimut", "Height", "Mechanical Downtilt", "Electrical Downtilt",
    "Proposed Mechanical Downtilt", "Proposed Electrical Downtilt", "Downtilt Change", "Action",
    "Issue", "Confidence", "Comments",
)  # fmt: skip
_TEMS_XML_COMMENT = " TEMS XML Cell Export File Format v. 1.2, written by opsforge "


def write_recommendations(result: RanResult, out_dir: Path) -> dict[str, Path]:
    """Write ``recommendations.csv``, ``.parquet`` and ``.json`` (same rows, same columns)."""
    recs = _recommendations(result)
    paths = {
        "recommendations_csv": out_dir / "recommendations.csv",
        "recommendations_parquet": out_dir / "recommendations.parquet",
        "recommendations_json": out_dir / "recommendations.json",
    }
    recs.write_csv(paths["recommendations_csv"])
    recs.write_parquet(paths["recommendations_parquet"])
    doc = {
        "columns": {name: str(dtype) for name, dtype in recs.schema.items()},
        "num_recommendations": recs.height,
        "recommendations": recs.to_dicts(),
    }
    paths["recommendations_json"].write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return paths


def read_recommendations_csv(path: Path) -> pl.DataFrame:
    """Read ``recommendations.csv`` back with the contract's dtypes.

    Raises
    ------
    DataQualityError
        When a column is missing or a value does not parse (file, row and column named).
    """
    return _read_typed_csv(path, RECOMMENDATION_SCHEMA)


def _read_typed_csv(
    path: Path, schema: dict[str, pl.DataType], content: bytes | None = None
) -> pl.DataFrame:
    """A CSV written by this module (the file ``path``, or ``content`` named ``path`` in
    messages), read back with ``schema``; a hand-edited or foreign file fails with the first
    row (1 = the first data row) and column that do not parse."""
    try:
        raw = pl.read_csv(path if content is None else BytesIO(content), infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataQualityError(f"{path}: not a readable CSV file ({exc})", file=str(path)) from exc
    _require(raw.columns, tuple(schema), path)
    columns: list[pl.Series] = []
    for name, dtype in schema.items():
        text = raw[name]
        if dtype == pl.Boolean():
            low = text.str.to_lowercase()
            value = pl.Series(name, [None] * raw.height, dtype=pl.Boolean).set(low == "true", True)
            value = value.set(low == "false", False)
        else:
            value = text.cast(dtype, strict=False) if dtype != pl.Utf8() else text
        bad = text.is_not_null() & (text != "") & value.is_null()
        if bad.any():
            row = int(bad.arg_true()[0])
            raise DataQualityError(
                f"{path}: row {row + 1}, column {name!r}: {text[row]!r} is not {dtype}",
                file=str(path),
                column=name,
                row=row + 1,
            )
        columns.append(value.alias(name))
    return pl.DataFrame(columns)


def read_recommendations_parquet(path: Path) -> pl.DataFrame:
    """Read ``recommendations.parquet``."""
    return pl.read_parquet(path)


def read_recommendations_json(path: Path) -> pl.DataFrame:
    """Read ``recommendations.json`` back into a frame."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return pl.DataFrame(doc["recommendations"], schema=RECOMMENDATION_SCHEMA)


def write_conflicts(result: RanResult, path: Path) -> Path:
    """Write ``conflicts.csv``: every action the conflict rules dropped or clipped, one row per
    (cell, rule), with the change the detector asked for and the reason (columns in
    ``docs/engines/ran.md``); a file with the header only when nothing was dropped."""
    frame = result.conflicts
    if frame.height == 0:
        frame = pl.DataFrame(schema=CONFLICT_SCHEMA)
    frame.select(list(CONFLICT_SCHEMA)).write_csv(path)
    return path


def read_conflicts_csv(path: Path) -> pl.DataFrame:
    """Read ``conflicts.csv`` back with the contract's dtypes."""
    return pl.read_csv(path, schema=CONFLICT_SCHEMA)


def write_cell_stats(result: RanResult, path: Path) -> Path:
    """Write ``cell_stats.csv``: every GIS cell's state and measured footprint in this run
    (columns in ``docs/engines/ran.md``); what ``opsforge ran compare`` compares."""
    result.cell_stats.select(list(CELL_STATS_SCHEMA)).sort("cell_id").write_csv(path)
    return path


def read_cell_stats_csv(path: Path, content: bytes | None = None) -> pl.DataFrame:
    """Read ``cell_stats.csv`` back with the contract's dtypes (from ``content`` when given,
    e.g. a stored run artifact; ``path`` then only names it in messages).

    Raises
    ------
    DataQualityError
        When the file lacks a column (e.g. written by a release before the column existed) or
        a value does not parse (file, row and column named).
    """
    return _read_typed_csv(path, CELL_STATS_SCHEMA, content)


def write_changes(changes: pl.DataFrame, path: Path) -> Path:
    """Write ``changes.csv`` (:func:`.changes.compare_runs`); the header alone when empty."""
    changes.select(list(CHANGE_SCHEMA)).write_csv(path)
    return path


def read_changes_csv(path: Path) -> pl.DataFrame:
    """Read ``changes.csv`` back with the contract's dtypes."""
    return _read_typed_csv(path, CHANGE_SCHEMA)


def write_interference_grids(result: RanResult, path: Path) -> Path:
    """Write ``interference_grids.csv``: ``zone_id, grid, num_cells, cells``."""
    frame = result.interference_grids
    if frame.height == 0:
        frame = pl.DataFrame(schema=INTERFERENCE_GRID_SCHEMA)
    frame.sort("zone_id", "grid").write_csv(path)
    return path


def read_interference_grids(path: Path) -> pl.DataFrame:
    """Read ``interference_grids.csv``."""
    return pl.read_csv(path, schema=INTERFERENCE_GRID_SCHEMA)


def cells_after(result: RanResult, gis: pl.DataFrame) -> pl.DataFrame:
    """GIS joined with the recommendations: one row per cell with current and proposed tilt.

    Optional GIS columns the frame lacks are added as nulls. Adds ``issue``, ``action``,
    ``tilt_change_deg``, ``proposed_tilt_e_deg`` and ``proposed_tilt_m_deg`` (the current tilts
    where nothing is proposed), ``confidence``, ``swap_with``, ``reason``. When a cell has
    several recommendations (a tilt and a feeder action) the tilt one is joined; the other is
    kept in ``other_issue``.
    """
    recs = _recommendations(result)
    ordered = recs.with_columns(
        pl.col("action").is_in(["downtilt", "uptilt"]).alias("_is_tilt")
    ).sort(["cell_id", "_is_tilt", "confidence"], descending=[False, True, True])
    first = ordered.group_by("cell_id", maintain_order=True).first()
    second = (
        ordered.group_by("cell_id", maintain_order=True)
        .agg(pl.col("issue").slice(1).str.join(",").alias("other_issue"))
        .with_columns(
            pl.when(pl.col("other_issue") == "")
            .then(None)
            .otherwise(pl.col("other_issue"))
            .alias("other_issue")
        )
    )
    cols = ["cell_id", "issue", "action", "tilt_change_deg", "proposed_tilt_e_deg",
            "proposed_tilt_m_deg", "confidence", "swap_with", "reason"]  # fmt: skip
    missing = [pl.lit(None, dtype=f.dtype).alias(f.name) for f in GIS_FIELDS
               if f.name not in gis.columns]  # fmt: skip
    gis = gis.with_columns(missing) if missing else gis
    out = gis.join(first.select(cols), on="cell_id", how="left").join(
        second, on="cell_id", how="left"
    )
    return out.with_columns(
        pl.coalesce(pl.col("proposed_tilt_e_deg"), pl.col("tilt_e_deg")).alias(
            "proposed_tilt_e_deg"
        ),
        pl.coalesce(pl.col("proposed_tilt_m_deg"), pl.col("tilt_m_deg")).alias(
            "proposed_tilt_m_deg"
        ),
        pl.col("tilt_change_deg").fill_null(0.0),
    )


def write_atoll_changes(result: RanResult, gis: pl.DataFrame, path: Path) -> Path:
    """Write the Atoll transmitter change table for every recommended cell (tab-separated).

    Tilts in degrees; ``Downtilt Change`` is positive for more downtilt. Feeder actions keep
    the tilts and say what to check in ``Comments``.
    """
    cells = cells_after(result, gis).filter(pl.col("issue").is_not_null())
    table = cells.select(
        pl.col("site_id").alias("Site"),
        pl.col("cell_name").alias("Transmitter"),
        pl.col("bearing_deg").alias("Azimut"),
        pl.col("height_m").alias("Height"),
        pl.col("tilt_m_deg").alias("Mechanical Downtilt"),
        pl.col("tilt_e_deg").alias("Electrical Downtilt"),
        pl.col("proposed_tilt_m_deg").alias("Proposed Mechanical Downtilt"),
        pl.col("proposed_tilt_e_deg").alias("Proposed Electrical Downtilt"),
        pl.col("tilt_change_deg").alias("Downtilt Change"),
        pl.col("action").alias("Action"),
        pl.col("issue").alias("Issue"),
        pl.col("confidence").round(3).alias("Confidence"),
        pl.col("reason").str.replace_all(r"[\t\r\n]", " ").alias("Comments"),
    ).sort("Site", "Transmitter")
    table.write_csv(path, separator="\t", quote_style="never")
    return path


def read_atoll_changes(path: Path) -> pl.DataFrame:
    """Read an Atoll change table written by :func:`write_atoll_changes`."""
    frame = pl.read_csv(path, separator="\t", quote_char=None, infer_schema_length=0)
    _require(frame.columns, ATOLL_COLUMNS, path)
    floats = ["Azimut", "Height", "Mechanical Downtilt", "Electrical Downtilt",
              "Proposed Mechanical Downtilt", "Proposed Electrical Downtilt", "Downtilt Change",
              "Confidence"]  # fmt: skip
    return frame.with_columns([pl.col(c).cast(pl.Float64) for c in floats])


def write_tems_cel(result: RanResult, gis: pl.DataFrame, path: Path) -> Path:
    """Write the *proposed* network as a TEMS CEL cell file (``ANT_TILT`` = total downtilt).

    ``ANT_TILT`` is proposed mechanical + proposed electrical downtilt [deg];
    ``ANT_BEAM_WIDTH`` the horizontal beamwidth (65 deg where the GIS has none).
    """
    cells = _tems_cells(result, gis)
    lines = [TEMS_CEL_HEADER, "\t".join(TEMS_CEL_COLUMNS)]
    for row in cells.iter_rows():
        lines.append("\t".join("" if v is None else _fmt(v) for v in row))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def read_tems_cel(path: Path) -> pl.DataFrame:
    """Read a TEMS CEL file into a frame with the TEMS column names (numbers as Float64)."""
    text = path.read_text(encoding="utf-8").splitlines()
    if len(text) < 2 or "TEMS_-_Cell_names" not in text[0]:
        raise DataQualityError(
            f"{path} is not a TEMS CEL file: line 1 must be '<rev> TEMS_-_Cell_names', "
            f"got {text[0] if text else ''!r}",
            file=str(path),
            row=1,
        )
    header = text[1].split("\t")
    rows = [line.split("\t") for line in text[2:] if line.strip()]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String), orient="row")
    numeric = [c for c in header if c not in ("Cell", "NODE_B")]
    return frame.with_columns([pl.col(c).cast(pl.Float64, strict=False) for c in numeric])


def write_tems_xml(
    result: RanResult, gis: pl.DataFrame, path: Path, generated: date | None = None
) -> Path:
    """Write the proposed network as a TEMS XML cell file (``TEMS_CELL_EXPORT`` v1.2, LTE).

    ``GENERATED_DATE`` is written only when ``generated`` is given, so that the same inputs
    give byte-identical files.
    """
    cells = _tems_cells(result, gis)
    root = etree.Element("TEMS_CELL_EXPORT", VERSION="1.2")
    root.append(etree.Comment(_TEMS_XML_COMMENT))
    if generated is not None:
        etree.SubElement(root, "GENERATED_DATE").text = generated.isoformat()
    lte = etree.SubElement(root, "LTE", VERSION="1.0")
    cell_list = etree.SubElement(lte, "CELL_LIST")
    for rec in cells.iter_rows(named=True):
        cell = etree.SubElement(cell_list, "LTE_CELL")
        etree.SubElement(cell, "CELLNAME").text = str(rec["Cell"])
        etree.SubElement(cell, "ENODE_B").text = str(rec["NODE_B"])
        if rec["EARFCN"] is not None:
            etree.SubElement(cell, "EARFCN_DL").text = _fmt(rec["EARFCN"])
        pos = etree.SubElement(cell, "POSITION")
        etree.SubElement(pos, "GEODETIC_DATUM").text = "WGS84"
        etree.SubElement(pos, "LATITUDE").text = _fmt(rec["Lat"])
        etree.SubElement(pos, "LONGITUDE").text = _fmt(rec["Lon"])
        cgi = etree.SubElement(cell, "LTE_CGI")
        etree.SubElement(cgi, "CI").text = _fmt(rec["CI"])
        ant = etree.SubElement(cell, "ANTENNA")
        etree.SubElement(ant, "DIRECTION").text = _fmt(rec["ANT_DIRECTION"])
        etree.SubElement(ant, "BEAM_WIDTH").text = _fmt(rec["ANT_BEAM_WIDTH"])
        etree.SubElement(ant, "HEIGHT").text = _fmt(rec["ANT_HEIGHT"])
        etree.SubElement(ant, "TILT").text = _fmt(rec["ANT_TILT"])
    path.write_bytes(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    )
    return path


def read_tems_xml(path: Path) -> pl.DataFrame:
    """Read a TEMS XML cell file (LTE cells) into the same columns as :func:`read_tems_cel`."""
    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise DataQualityError(f"{path} is not readable XML: {exc}", file=str(path)) from exc
    rows: list[dict[str, str | float | None]] = []
    for cell in root.iterfind("LTE/CELL_LIST/LTE_CELL"):

        def num(xpath: str, node: etree._Element = cell) -> float | None:
            text = node.findtext(xpath)
            return float(text) if text not in (None, "") else None

        rows.append(
            {
                "Cell": cell.findtext("CELLNAME"),
                "CI": num("LTE_CGI/CI"),
                "NODE_B": cell.findtext("ENODE_B"),
                "Lat": num("POSITION/LATITUDE"),
                "Lon": num("POSITION/LONGITUDE"),
                "EARFCN": num("EARFCN_DL"),
                "ANT_DIRECTION": num("ANTENNA/DIRECTION"),
                "ANT_BEAM_WIDTH": num("ANTENNA/BEAM_WIDTH"),
                "ANT_HEIGHT": num("ANTENNA/HEIGHT"),
                "ANT_TILT": num("ANTENNA/TILT"),
            }
        )
    schema = {c: (pl.String if c in ("Cell", "NODE_B") else pl.Float64) for c in TEMS_CEL_COLUMNS}
    return pl.DataFrame(rows, schema=schema)


# --------------------------------------------------------------------------- internals


def _recommendations(result: RanResult) -> pl.DataFrame:
    recs = result.recommendations
    if recs.height == 0:
        return pl.DataFrame(schema=RECOMMENDATION_SCHEMA)
    return recs.select([pl.col(c).cast(t) for c, t in RECOMMENDATION_SCHEMA.items()]).sort(
        "cell_id", "issue"
    )


def _tems_cells(result: RanResult, gis: pl.DataFrame) -> pl.DataFrame:
    cells = cells_after(result, gis)
    return cells.select(
        pl.col("cell_name").alias("Cell"),
        pl.col("cell_id").alias("CI"),
        pl.col("site_id").alias("NODE_B"),
        pl.col("lat_deg").alias("Lat"),
        pl.col("lon_deg").alias("Lon"),
        pl.col("earfcn").alias("EARFCN"),
        pl.col("bearing_deg").alias("ANT_DIRECTION"),
        pl.col("hbw_deg").fill_null(65.0).alias("ANT_BEAM_WIDTH"),
        pl.col("height_m").alias("ANT_HEIGHT"),
        (pl.col("proposed_tilt_m_deg") + pl.col("proposed_tilt_e_deg")).alias("ANT_TILT"),
    ).sort("CI")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def _require(columns: list[str], expected: tuple[str, ...], path: Path) -> None:
    missing = [c for c in expected if c not in columns]
    if missing:
        raise DataQualityError(
            f"{path} lacks columns {missing}; expected {list(expected)}, found {columns}",
            file=str(path),
            column=missing[0],
            row=0,
        )
