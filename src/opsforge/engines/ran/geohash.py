"""Geohash on integers: vectorised encode/decode, k-rings, distance and bearing.

A geohash of precision ``p`` holds ``5 p`` bits that interleave a longitude index (the first,
most significant bit) and a latitude index. Here a geohash is an unsigned 64-bit integer and,
for grid work, a pair of integer column/row indices ``(ix, iy)``: neighbours and k-rings are
integer offsets on ``(ix, iy)``, so no string work happens on hot paths. Strings are converted
once, vectorised, at the boundary (:func:`str_to_int`, :func:`int_to_str`).

References
----------
G. Niemeyer, "geohash.org", 2008 (public domain algorithm description).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from opsforge.core.errors import DataQualityError
from opsforge.core.units import EARTH_RADIUS_M

__all__ = [
    "BASE32",
    "bearing_deg",
    "bits_lat_lon",
    "cell_size_deg",
    "decode_int",
    "encode_int",
    "from_xy",
    "haversine_m",
    "int_to_str",
    "k_ring_offsets",
    "local_offsets_m",
    "series_to_int",
    "str_to_int",
    "to_xy",
    "xy_to_lat_lon",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]

#: The geohash base-32 alphabet.
BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
_DECODE_TABLE = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate(BASE32):
    _DECODE_TABLE[ord(_ch)] = _i
    _DECODE_TABLE[ord(_ch.upper())] = _i
_ENCODE_TABLE = np.frombuffer(BASE32.encode("ascii"), dtype=np.uint8)


def _pair_table() -> npt.NDArray[np.uint16]:
    """Little-endian uint16 of two ASCII characters -> their 10 bits, 0xFFFF when invalid."""
    lo = np.arange(65536, dtype=np.uint32) & 0xFF
    hi = np.arange(65536, dtype=np.uint32) >> 8
    d_first, d_second = _DECODE_TABLE[lo].astype(np.uint32), _DECODE_TABLE[hi].astype(np.uint32)
    # on little-endian machines the first character is the low byte
    if np.little_endian:
        first, second = d_first, d_second
    else:  # pragma: no cover - big-endian hosts
        first, second = d_second, d_first
    bad = (first == 255) | (second == 255)
    return np.where(bad, 0xFFFF, (first << 5) | second).astype(np.uint16)


_PAIR_TABLE = _pair_table()


def bits_lat_lon(precision: int) -> tuple[int, int]:
    """Number of latitude and longitude bits of a geohash of ``precision`` characters."""
    if not 1 <= precision <= 12:
        raise DataQualityError(f"geohash precision must be 1..12, got {precision}")
    total = 5 * precision
    return total // 2, total - total // 2


def cell_size_deg(precision: int = 7) -> tuple[float, float]:
    """Size of one geohash cell as (lat, lon) extent. [deg]"""
    lat_bits, lon_bits = bits_lat_lon(precision)
    return 180.0 / 2**lat_bits, 360.0 / 2**lon_bits


def _spread(v: UIntArray) -> UIntArray:
    """Insert a zero bit between the low 32 bits of ``v`` (Morton "part 1 by 1")."""
    x = v & np.uint64(0x00000000FFFFFFFF)
    x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x | (x << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x | (x << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    x = (x | (x << np.uint64(2))) & np.uint64(0x3333333333333333)
    x = (x | (x << np.uint64(1))) & np.uint64(0x5555555555555555)
    return x


def _compact(v: UIntArray) -> UIntArray:
    """Inverse of :func:`_spread`: keep every other bit."""
    x = v & np.uint64(0x5555555555555555)
    x = (x | (x >> np.uint64(1))) & np.uint64(0x3333333333333333)
    x = (x | (x >> np.uint64(2))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    x = (x | (x >> np.uint64(4))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x | (x >> np.uint64(8))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x | (x >> np.uint64(16))) & np.uint64(0x00000000FFFFFFFF)
    return x


def from_xy(ix: npt.ArrayLike, iy: npt.ArrayLike, precision: int = 7) -> UIntArray:
    """Geohash integers from longitude column ``ix`` and latitude row ``iy`` indices."""
    lat_bits, lon_bits = bits_lat_lon(precision)
    x = np.asarray(ix).astype(np.uint64)
    y = np.asarray(iy).astype(np.uint64)
    lon_shift = np.uint64(1 if (lat_bits + lon_bits) % 2 == 0 else 0)
    lat_shift = np.uint64(0 if lon_shift else 1)
    return (_spread(x) << lon_shift) | (_spread(y) << lat_shift)


def to_xy(code: npt.ArrayLike, precision: int = 7) -> tuple[IntArray, IntArray]:
    """Longitude column and latitude row indices of geohash integers."""
    lat_bits, lon_bits = bits_lat_lon(precision)
    c = np.asarray(code).astype(np.uint64)
    lon_shift = np.uint64(1 if (lat_bits + lon_bits) % 2 == 0 else 0)
    lat_shift = np.uint64(0 if lon_shift else 1)
    return _compact(c >> lon_shift).astype(np.int64), _compact(c >> lat_shift).astype(np.int64)


def encode_int(lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, precision: int = 7) -> UIntArray:
    """Geohash integers of points.

    Parameters
    ----------
    lat_deg, lon_deg
        Latitude in [-90, 90] and longitude in [-180, 180]. [deg]
    precision
        Number of geohash characters (7 gives cells of about 153 m x 153 m at the equator).
    """
    lat_bits, lon_bits = bits_lat_lon(precision)
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    iy = np.clip(np.floor((lat + 90.0) / 180.0 * 2**lat_bits), 0, 2**lat_bits - 1)
    ix = np.clip(np.floor((lon + 180.0) / 360.0 * 2**lon_bits), 0, 2**lon_bits - 1)
    return from_xy(ix.astype(np.int64), iy.astype(np.int64), precision)


def xy_to_lat_lon(
    ix: npt.ArrayLike, iy: npt.ArrayLike, precision: int = 7
) -> tuple[FloatArray, FloatArray]:
    """Centre (lat, lon) of the cells at column ``ix`` and row ``iy``. [deg]"""
    dlat, dlon = cell_size_deg(precision)
    lat = -90.0 + (np.asarray(iy, dtype=np.float64) + 0.5) * dlat
    lon = -180.0 + (np.asarray(ix, dtype=np.float64) + 0.5) * dlon
    return lat, lon


def decode_int(code: npt.ArrayLike, precision: int = 7) -> tuple[FloatArray, FloatArray]:
    """Centre (lat, lon) of geohash integers. [deg]"""
    ix, iy = to_xy(code, precision)
    return xy_to_lat_lon(ix, iy, precision)


def str_to_int(geohashes: npt.ArrayLike, precision: int = 7) -> UIntArray:
    """Geohash strings of one precision to integers, vectorised.

    Raises
    ------
    DataQualityError
        When a string has another length or a character outside the base-32 alphabet; the
        message names the first bad row.
    """
    arr = np.asarray(geohashes)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    raw = arr.astype(f"S{precision + 1}")
    lengths = np.char.str_len(raw)
    bad_len = np.flatnonzero(lengths != precision)
    if bad_len.size:
        row = int(bad_len[0])
        raise DataQualityError(
            f"expected geohash strings of {precision} characters, row {row} has {arr[row]!r}",
            field="grid",
            row=row,
        )
    chars = raw.view(np.uint8).reshape(-1, precision + 1)[:, :precision]
    digits = _DECODE_TABLE[chars]
    bad = np.flatnonzero((digits == 255).any(axis=1))
    if bad.size:
        row = int(bad[0])
        raise DataQualityError(
            f"expected base-32 geohash characters ({BASE32}), row {row} has {arr[row]!r}",
            field="grid",
            row=row,
        )
    out = np.zeros(digits.shape[0], dtype=np.uint64)
    for col in range(precision):
        out = (out << np.uint64(5)) | digits[:, col].astype(np.uint64)
    return out


def series_to_int(geohashes: pl.Series, precision: int = 7) -> UIntArray:
    """Geohash strings of a polars Series to integers without per-row Python work.

    Reads the Arrow buffers directly when every string has ``precision`` characters; otherwise
    falls back to :func:`str_to_int`, which names the first bad row.
    """
    arr = geohashes.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    if arr.null_count or len(arr) == 0 or bufs[2] is None:
        return str_to_int(geohashes.to_numpy(), precision)
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    if not np.all(np.diff(offsets) == precision):
        return str_to_int(geohashes.to_numpy(), precision)
    data = np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, precision)
    # two characters at a time: a 65,536-entry table maps a byte pair to 10 bits (or 0xFFFF)
    width = precision + (precision % 2)
    padded = np.zeros((data.shape[0], width), dtype=np.uint8)
    padded[:, :precision] = data
    if precision % 2:
        padded[:, precision] = ord("0")
    pairs = _PAIR_TABLE[padded.view(np.uint16)]
    if (pairs == 0xFFFF).any():
        return str_to_int(geohashes.to_numpy(), precision)
    out = np.zeros(data.shape[0], dtype=np.uint64)
    for col in range(width // 2):
        out = (out << np.uint64(10)) | pairs[:, col].astype(np.uint64)
    if precision % 2:
        out >>= np.uint64(5)
    return out


def int_to_str(code: npt.ArrayLike, precision: int = 7) -> npt.NDArray[np.str_]:
    """Geohash integers to strings of ``precision`` characters, vectorised."""
    c = np.asarray(code).astype(np.uint64)
    chars = np.empty((c.size, precision), dtype=np.uint8)
    for col in range(precision):
        shift = np.uint64(5 * (precision - 1 - col))
        chars[:, col] = _ENCODE_TABLE[((c >> shift) & np.uint64(31)).astype(np.intp)]
    return chars.view(f"S{precision}").ravel().astype(f"U{precision}")


def k_ring_offsets(k: int) -> tuple[IntArray, IntArray]:
    """Column and row offsets of the ``(2k+1)^2`` cells within Chebyshev distance ``k``."""
    r = np.arange(-k, k + 1, dtype=np.int64)
    dx, dy = np.meshgrid(r, r, indexing="ij")
    return dx.ravel(), dy.ravel()


def haversine_m(
    lat1_deg: npt.ArrayLike,
    lon1_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
) -> FloatArray:
    """Great-circle distance on a sphere of radius ``EARTH_RADIUS_M``. [m]"""
    lat1 = np.deg2rad(np.asarray(lat1_deg, dtype=np.float64))
    lat2 = np.deg2rad(np.asarray(lat2_deg, dtype=np.float64))
    dlat = lat2 - lat1
    dlon = np.deg2rad(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg))
    a = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))  # type: ignore[no-any-return]


def bearing_deg(
    lat1_deg: npt.ArrayLike,
    lon1_deg: npt.ArrayLike,
    lat2_deg: npt.ArrayLike,
    lon2_deg: npt.ArrayLike,
) -> FloatArray:
    """Initial bearing from point 1 to point 2, clockwise from north, in [0, 360). [deg]"""
    lat1 = np.deg2rad(np.asarray(lat1_deg, dtype=np.float64))
    lat2 = np.deg2rad(np.asarray(lat2_deg, dtype=np.float64))
    dlon = np.deg2rad(np.asarray(lon2_deg, dtype=np.float64) - np.asarray(lon1_deg))
    y = np.sin(dlon) * np.cos(lat2)
    x = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon)
    return np.mod(np.rad2deg(np.arctan2(y, x)), 360.0)  # type: ignore[no-any-return]


def local_offsets_m(
    lat0_deg: npt.ArrayLike, lon0_deg: npt.ArrayLike, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """East and north offsets of points from origins on a local tangent plane. [m]

    Equirectangular approximation around each origin's latitude; the error stays below 0.1 %
    for the distances of cell planning (tens of km), far faster than :func:`haversine_m`.
    """
    m_per_deg = np.pi * EARTH_RADIUS_M / 180.0
    lat0 = np.asarray(lat0_deg, dtype=np.float64)
    dy = (np.asarray(lat_deg, dtype=np.float64) - lat0) * m_per_deg
    dx = (np.asarray(lon_deg, dtype=np.float64) - np.asarray(lon0_deg)) * m_per_deg
    dx = dx * np.cos(np.deg2rad(0.5 * (lat0 + np.asarray(lat_deg))))
    return dx, dy
