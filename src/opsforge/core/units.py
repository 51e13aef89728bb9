"""Unit conversions, one place for all of them.

Names carry units as suffixes (``distance_m``, ``tilt_deg``, ``rsrp_dbm``); radians exist only
as locals named ``*_rad``. Every function here is vectorised: it takes a float or a NumPy array
and returns a float64 NumPy array of the same shape
(0-d for a scalar; ``float(x)`` gives the number).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_M",
    "FloatArray",
    "db_to_linear",
    "dbm_to_mw",
    "deg_to_rad",
    "km_to_m",
    "linear_to_db",
    "m_to_km",
    "mw_to_dbm",
    "rad_to_deg",
    "wrap_deg_180",
    "wrap_deg_360",
]

#: Mean Earth radius (IUGG). [m]
EARTH_RADIUS_M = 6_371_008.8

FloatArray = npt.NDArray[np.float64]


def _f64(value: npt.ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def deg_to_rad(angle_deg: npt.ArrayLike) -> FloatArray:
    """Degrees to radians. [deg] -> [rad]"""
    return _f64(np.deg2rad(_f64(angle_deg)))


def rad_to_deg(angle_rad: npt.ArrayLike) -> FloatArray:
    """Radians to degrees. [rad] -> [deg]"""
    return _f64(np.rad2deg(_f64(angle_rad)))


def wrap_deg_360(angle_deg: npt.ArrayLike) -> FloatArray:
    """Wrap an angle into [0, 360). [deg]"""
    wrapped = np.mod(_f64(angle_deg), 360.0)
    # fmod of a tiny negative number rounds up to exactly 360.0
    return _f64(np.where(wrapped >= 360.0, 0.0, wrapped))


def wrap_deg_180(angle_deg: npt.ArrayLike) -> FloatArray:
    """Wrap an angle into [-180, 180). [deg]"""
    return wrap_deg_360(_f64(angle_deg) + 180.0) - 180.0


def db_to_linear(value_db: npt.ArrayLike) -> FloatArray:
    """Decibels to a linear power ratio. [dB] -> [1]"""
    return _f64(np.power(10.0, _f64(value_db) / 10.0))


def linear_to_db(ratio: npt.ArrayLike) -> FloatArray:
    """Linear power ratio to decibels. [1] -> [dB]"""
    return _f64(10.0 * np.log10(_f64(ratio)))


def dbm_to_mw(power_dbm: npt.ArrayLike) -> FloatArray:
    """Power in dBm to milliwatts. [dBm] -> [mW]"""
    return db_to_linear(power_dbm)


def mw_to_dbm(power_mw: npt.ArrayLike) -> FloatArray:
    """Power in milliwatts to dBm. [mW] -> [dBm]"""
    return linear_to_db(power_mw)


def km_to_m(distance_km: npt.ArrayLike) -> FloatArray:
    """Kilometres to metres. [km] -> [m]"""
    return _f64(distance_km) * 1000.0


def m_to_km(distance_m: npt.ArrayLike) -> FloatArray:
    """Metres to kilometres. [m] -> [km]"""
    return _f64(distance_m) / 1000.0
