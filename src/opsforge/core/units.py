"""Unit conversions, one place for all of them.

Names carry units as suffixes (``distance_m``, ``tilt_deg``, ``rsrp_dbm``); radians exist only
as locals named ``*_rad``. Every function here is vectorised: it takes a float or a NumPy array
and returns the same shape.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_M",
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

FloatLike = TypeVar("FloatLike", float, npt.NDArray[np.float64])


def deg_to_rad(angle_deg: FloatLike) -> FloatLike:
    """Degrees to radians. [deg] -> [rad]"""
    return np.deg2rad(angle_deg)  # type: ignore[no-any-return]


def rad_to_deg(angle_rad: FloatLike) -> FloatLike:
    """Radians to degrees. [rad] -> [deg]"""
    return np.rad2deg(angle_rad)  # type: ignore[no-any-return]


def wrap_deg_360(angle_deg: FloatLike) -> FloatLike:
    """Wrap an angle into [0, 360). [deg]"""
    return np.mod(angle_deg, 360.0)  # type: ignore[no-any-return]


def wrap_deg_180(angle_deg: FloatLike) -> FloatLike:
    """Wrap an angle into [-180, 180). [deg]"""
    return np.mod(np.asarray(angle_deg) + 180.0, 360.0) - 180.0  # type: ignore[no-any-return]


def db_to_linear(value_db: FloatLike) -> FloatLike:
    """Decibels to a linear power ratio. [dB] -> [1]"""
    return np.power(10.0, np.asarray(value_db) / 10.0)  # type: ignore[no-any-return]


def linear_to_db(ratio: FloatLike) -> FloatLike:
    """Linear power ratio to decibels. [1] -> [dB]"""
    return 10.0 * np.log10(ratio)  # type: ignore[no-any-return]


def dbm_to_mw(power_dbm: FloatLike) -> FloatLike:
    """Power in dBm to milliwatts. [dBm] -> [mW]"""
    return db_to_linear(power_dbm)


def mw_to_dbm(power_mw: FloatLike) -> FloatLike:
    """Power in milliwatts to dBm. [mW] -> [dBm]"""
    return linear_to_db(power_mw)


def km_to_m(distance_km: FloatLike) -> FloatLike:
    """Kilometres to metres. [km] -> [m]"""
    return distance_km * 1000.0  # type: ignore[return-value]


def m_to_km(distance_m: FloatLike) -> FloatLike:
    """Metres to kilometres. [m] -> [km]"""
    return distance_m / 1000.0  # type: ignore[return-value]
