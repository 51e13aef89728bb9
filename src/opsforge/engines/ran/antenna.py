"""3GPP sector antenna pattern with electrical and mechanical tilt.

Angles: azimuth offsets are measured from the antenna bearing; elevation is a *depression*
angle, positive below the horizon, like downtilt. Gains are relative to boresight. [dB]

References
----------
3GPP TR 36.814 V9.2.0, Table A.2.1.1-2 (3-sector antenna pattern: A_m = 25 dB, SLA_v = 20 dB).
3GPP TR 38.901 V17.0.0, Table 7.3-1 (A_max = 30 dB, SLA_v = 30 dB, 65 deg beamwidths).
F. Gunnarsson et al., "Downtilted base station antennas - a simulation model proposal and
impact on HSPA and LTE performance", IEEE VTC 2008-Fall, doi:10.1109/VETECF.2008.76
(mechanical tilt acts as ``m_tilt * cos(azimuth offset)``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "A_MAX_DB",
    "SLA_V_DB",
    "depression_deg",
    "effective_downtilt_deg",
    "horizontal_attenuation_db",
    "sector_gain_db",
    "vertical_attenuation_db",
]

FloatArray = npt.NDArray[np.float64]

#: Front-to-back ratio of the 3D pattern (TR 36.814 A.2.1.1). [dB]
A_MAX_DB = 25.0
#: Side-lobe level of the vertical pattern (TR 36.814 A.2.1.1). [dB]
SLA_V_DB = 20.0


def horizontal_attenuation_db(
    azimuth_offset_deg: npt.ArrayLike, hbw_deg: npt.ArrayLike = 65.0, a_max_db: float = A_MAX_DB
) -> FloatArray:
    """Horizontal pattern ``A_H = -min(12 (phi / phi_3dB)^2, A_m)``.

    Parameters
    ----------
    azimuth_offset_deg
        Angle between the antenna bearing and the direction to the point, any range. [deg]
    hbw_deg
        Horizontal half-power beamwidth. [deg]
    a_max_db
        Front-to-back ratio. [dB]

    Returns
    -------
    Attenuation, 0 at boresight and negative elsewhere. [dB]
    """
    phi = np.mod(np.asarray(azimuth_offset_deg, dtype=np.float64) + 180.0, 360.0) - 180.0
    return -np.minimum(12.0 * (phi / np.asarray(hbw_deg)) ** 2, a_max_db)  # type: ignore[no-any-return]


def vertical_attenuation_db(
    depression_deg_: npt.ArrayLike,
    downtilt_deg: npt.ArrayLike,
    vbw_deg: npt.ArrayLike = 10.0,
    sla_v_db: float = SLA_V_DB,
) -> FloatArray:
    """Vertical pattern ``A_V = -min(12 ((theta - theta_tilt) / theta_3dB)^2, SLA_v)``.

    Parameters
    ----------
    depression_deg_
        Depression angle from the antenna to the point (positive below horizon). [deg]
    downtilt_deg
        Effective downtilt of the beam (positive below horizon). [deg]
    vbw_deg
        Vertical half-power beamwidth. [deg]
    sla_v_db
        Side-lobe level. [dB]
    """
    delta = np.asarray(depression_deg_, dtype=np.float64) - np.asarray(downtilt_deg)
    return -np.minimum(12.0 * (delta / np.asarray(vbw_deg)) ** 2, sla_v_db)  # type: ignore[no-any-return]


def effective_downtilt_deg(
    tilt_e_deg: npt.ArrayLike, tilt_m_deg: npt.ArrayLike, azimuth_offset_deg: npt.ArrayLike
) -> FloatArray:
    """Downtilt seen in one azimuth: ``e_tilt + m_tilt * cos(azimuth offset)``. [deg]

    Electrical tilt lowers the beam equally in every azimuth; mechanical tilt tips the whole
    antenna, so it lowers the beam in front, does nothing at +/-90 deg and raises it behind.
    """
    off_rad = np.deg2rad(np.asarray(azimuth_offset_deg, dtype=np.float64))
    return np.asarray(tilt_e_deg) + np.asarray(tilt_m_deg) * np.cos(off_rad)  # type: ignore[no-any-return]


def depression_deg(distance_m: npt.ArrayLike, height_diff_m: npt.ArrayLike) -> FloatArray:
    """Depression angle from an antenna ``height_diff_m`` above a point ``distance_m`` away. [deg]"""
    d = np.maximum(np.asarray(distance_m, dtype=np.float64), 1.0)
    return np.rad2deg(np.arctan2(np.asarray(height_diff_m, dtype=np.float64), d))


def sector_gain_db(
    azimuth_offset_deg: npt.ArrayLike,
    depression_deg_: npt.ArrayLike,
    tilt_e_deg: npt.ArrayLike,
    tilt_m_deg: npt.ArrayLike = 0.0,
    hbw_deg: npt.ArrayLike = 65.0,
    vbw_deg: npt.ArrayLike = 10.0,
    a_max_db: float = A_MAX_DB,
    sla_v_db: float = SLA_V_DB,
) -> FloatArray:
    """Combined 3D pattern ``-min(-(A_H + A_V), A_m)`` relative to boresight gain.

    Parameters
    ----------
    azimuth_offset_deg
        Direction to the point minus antenna bearing. [deg]
    depression_deg_
        Depression angle to the point. [deg]
    tilt_e_deg, tilt_m_deg
        Electrical and mechanical downtilt. [deg]
    hbw_deg, vbw_deg
        Horizontal and vertical half-power beamwidths. [deg]

    Returns
    -------
    Gain relative to boresight, in [-a_max_db, 0]. [dB]
    """
    tilt = effective_downtilt_deg(tilt_e_deg, tilt_m_deg, azimuth_offset_deg)
    a_h = horizontal_attenuation_db(azimuth_offset_deg, hbw_deg, a_max_db)
    a_v = vertical_attenuation_db(depression_deg_, tilt, vbw_deg, sla_v_db)
    return -np.minimum(-(a_h + a_v), a_max_db)
