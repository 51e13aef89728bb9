"""Path-loss models and the SINR-to-throughput mapping.

References
----------
COST Action 231, "Digital mobile radio towards future generation systems", final report,
EUR 18957, 1999, ch. 4.4 (COST-231 Hata, 1500-2000 MHz, 1-20 km, base 30-200 m).
M. Hata, "Empirical formula for propagation loss in land mobile radio services", IEEE Trans.
Veh. Technol. 29(3), 1980, doi:10.1109/T-VT.1980.23859 (open-area correction).
3GPP TR 38.901 V17.0.0, Table 7.4.1-1 (UMa path loss).
3GPP TR 36.942 V17.0.0, Annex A.1 (truncated Shannon bound: alpha 0.6, SINR_min -10 dB,
max 4.4 bps/Hz).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "Environment",
    "cost231_hata_db",
    "hata_slope_db_per_decade",
    "spectral_efficiency_bps_hz",
    "uma_nlos_db",
]

FloatArray = npt.NDArray[np.float64]
Environment = Literal["urban", "suburban", "rural"]


def cost231_hata_db(
    distance_m: npt.ArrayLike,
    height_bs_m: npt.ArrayLike,
    frequency_mhz: float = 1800.0,
    height_ue_m: float = 1.5,
    environment: Environment = "urban",
) -> FloatArray:
    """COST-231 Hata median path loss.

    ``L = 46.3 + 33.9 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d + C``
    with ``a(h_m)`` for small/medium cities, ``C = 3`` dB in urban, 0 in suburban, and Hata's
    open-area correction in rural.

    Parameters
    ----------
    distance_m
        Horizontal distance; clipped to at least 20 m. [m]
    height_bs_m
        Effective base-station antenna height; clipped to 10..300 m. [m]
    frequency_mhz
        Carrier frequency. [MHz]
    height_ue_m
        Mobile antenna height. [m]
    environment
        ``urban``, ``suburban`` or ``rural``.

    Returns
    -------
    Path loss, increasing with distance. [dB]
    """
    d_km = np.maximum(np.asarray(distance_m, dtype=np.float64), 20.0) / 1000.0
    hb = np.clip(np.asarray(height_bs_m, dtype=np.float64), 10.0, 300.0)
    log_f = np.log10(frequency_mhz)
    a_hm = (1.1 * log_f - 0.7) * height_ue_m - (1.56 * log_f - 0.8)
    loss = 46.3 + 33.9 * log_f - 13.82 * np.log10(hb) - a_hm
    loss = loss + (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km)
    if environment == "urban":
        loss = loss + 3.0
    elif environment == "rural":
        loss = loss - (4.78 * log_f**2 - 18.33 * log_f + 40.94)
    return loss  # type: ignore[no-any-return]


def hata_slope_db_per_decade(height_bs_m: npt.ArrayLike) -> FloatArray:
    """Distance slope of COST-231 Hata, ``44.9 - 6.55 log10(h_b)``. [dB/decade]"""
    hb = np.clip(np.asarray(height_bs_m, dtype=np.float64), 10.0, 300.0)
    return 44.9 - 6.55 * np.log10(hb)


def uma_nlos_db(
    distance_m: npt.ArrayLike,
    height_bs_m: npt.ArrayLike,
    frequency_ghz: float = 1.8,
    height_ue_m: float = 1.5,
) -> FloatArray:
    """3GPP UMa NLOS path loss, ``max(PL_LOS, 13.54 + 39.08 log d3D + 20 log fc - 0.6 (h_UT - 1.5))``.

    The LOS branch uses ``PL1 = 28 + 22 log d3D + 20 log fc`` (below the breakpoint distance,
    which is beyond the distances of interest for tilt work). Distances clipped to >= 10 m. [dB]
    """
    d2 = np.maximum(np.asarray(distance_m, dtype=np.float64), 10.0)
    dh = np.asarray(height_bs_m, dtype=np.float64) - height_ue_m
    d3 = np.sqrt(d2**2 + dh**2)
    los = 28.0 + 22.0 * np.log10(d3) + 20.0 * np.log10(frequency_ghz)
    nlos = 13.54 + 39.08 * np.log10(d3) + 20.0 * np.log10(frequency_ghz) - 0.6 * (height_ue_m - 1.5)
    return np.maximum(los, nlos)  # type: ignore[no-any-return]


def spectral_efficiency_bps_hz(
    sinr_db: npt.ArrayLike,
    alpha: float = 0.6,
    sinr_min_db: float = -10.0,
    max_bps_hz: float = 4.4,
) -> FloatArray:
    """Truncated Shannon bound of 3GPP TR 36.942 Annex A.1.

    ``0`` below ``sinr_min_db``, ``alpha log2(1 + SINR)`` up to ``max_bps_hz``, then flat.

    Parameters
    ----------
    sinr_db
        Signal to interference plus noise ratio. [dB]

    Returns
    -------
    Spectral efficiency. [bps/Hz]
    """
    s = np.asarray(sinr_db, dtype=np.float64)
    eff = alpha * np.log2(1.0 + np.power(10.0, s / 10.0))
    eff = np.minimum(eff, max_bps_hz)
    return np.where(s < sinr_min_db, 0.0, eff)
