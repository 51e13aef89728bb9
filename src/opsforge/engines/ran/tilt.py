"""How far a cell reaches after a tilt change: gain/path-loss model plus -3 dB geometry.

The cell edge is where the received level falls to the level it has today at ``d_max_m``.
After a tilt change by ``delta`` the vertical pattern gain at every distance changes, and the
new edge ``d'`` solves

``G_V(theta(d'), alpha + delta) - L(d') = G_V(theta(d_max), alpha) - L(d_max)``

with ``L`` the COST-231 Hata path loss (its distance slope depends on the antenna height) and
``G_V`` the 3GPP vertical pattern. The purely geometric -3 dB beam edges are returned by
:func:`tilt_geometry` as diagnostics.

References
----------
3GPP TR 36.814 V9.2.0, Table A.2.1.1-2 (vertical pattern).
COST Action 231 final report, 1999, ch. 4.4 (Hata distance slope ``44.9 - 6.55 log h_b``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from opsforge.core.errors import InvalidInputError
from opsforge.engines.ran.antenna import depression_deg, vertical_attenuation_db
from opsforge.engines.ran.propagation import hata_slope_db_per_decade

__all__ = [
    "TiltGeometry",
    "distance_after_tilt_m",
    "estimate_distance_after_tilt",
    "tilt_geometry",
]

FloatArray = npt.NDArray[np.float64]
TiltDirection = Literal["downtilt", "uptilt"]
_UE_HEIGHT_M = 1.5


def _edge_level_db(
    d_m: FloatArray, tilt_deg: FloatArray, h_m: FloatArray, vbw: FloatArray
) -> FloatArray:
    theta = depression_deg(d_m, h_m - _UE_HEIGHT_M)
    slope = hata_slope_db_per_decade(h_m)
    return vertical_attenuation_db(theta, tilt_deg, vbw) - slope * np.log10(d_m)


def distance_after_tilt_m(
    d_max_m: npt.ArrayLike,
    tilt_deg: npt.ArrayLike,
    h_m: npt.ArrayLike,
    delta_tilt_deg: npt.ArrayLike,
    vbw_deg: npt.ArrayLike = 10.0,
    num_iter: int = 30,
) -> FloatArray:
    """Vectorised new cell reach after a tilt change (positive ``delta_tilt_deg`` = downtilt).

    Parameters
    ----------
    d_max_m
        Today's reach (e.g. p95 best-server distance). [m]
    tilt_deg
        Today's effective downtilt toward the edge (electrical + mechanical). [deg]
    h_m
        Antenna height above the measured points. [m]
    delta_tilt_deg
        Tilt change, positive for more downtilt. [deg]
    vbw_deg
        Vertical half-power beamwidth. [deg]

    Returns
    -------
    New reach: the farthest distance in [d_max/20, 20 d_max] whose level reaches today's
    level at ``d_max_m`` (log grid scan, then bisection). [m]
    """
    d0, t0, h, dt, vbw = np.broadcast_arrays(
        np.asarray(d_max_m, dtype=np.float64),
        np.asarray(tilt_deg, dtype=np.float64),
        np.asarray(h_m, dtype=np.float64),
        np.asarray(delta_tilt_deg, dtype=np.float64),
        np.asarray(vbw_deg, dtype=np.float64),
    )
    target = _edge_level_db(d0, t0, h, vbw)
    base = np.log10(np.maximum(d0, 1.0))
    # the new reach is the farthest distance whose level still reaches the target: scan a
    # log-distance grid (the level need not fall monotonically near the site), then bisect.
    grid = np.linspace(-np.log10(20.0), np.log10(20.0), 81)
    levels = _edge_level_db(
        np.power(10.0, base[..., None] + grid), (t0 + dt)[..., None], h[..., None], vbw[..., None]
    )
    ok = levels >= target[..., None]
    last = np.where(ok.any(axis=-1), grid.size - 1 - np.argmax(ok[..., ::-1], axis=-1), 0)
    lo = base + grid[last]
    hi = base + grid[np.minimum(last + 1, grid.size - 1)]
    for _ in range(num_iter):
        mid = 0.5 * (lo + hi)
        above = _edge_level_db(np.power(10.0, mid), t0 + dt, h, vbw) >= target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.power(10.0, 0.5 * (lo + hi))  # type: ignore[no-any-return]


def estimate_distance_after_tilt(
    d_max_m: float,
    alpha_deg: float,
    h_m: float,
    delta_tilt_deg: float,
    tilt_direction: TiltDirection = "downtilt",
    vbw_deg: float = 10.0,
) -> tuple[float, float]:
    """Seed 000's reach estimate after a tilt step.

    Parameters
    ----------
    d_max_m
        Today's reach. [m]
    alpha_deg
        Today's downtilt. [deg]
    h_m
        Antenna height. [m]
    delta_tilt_deg
        Size of the step, >= 0 (the direction comes from ``tilt_direction``). [deg]
    tilt_direction
        ``downtilt`` or ``uptilt``.
    vbw_deg
        Vertical half-power beamwidth. [deg]

    Returns
    -------
    (new reach [m], reduction [%]); the reduction is negative for an uptilt.
    """
    if d_max_m <= 0 or h_m <= 0 or delta_tilt_deg < 0:
        raise InvalidInputError(
            "expected d_max_m > 0, h_m > 0 and delta_tilt_deg >= 0, "
            f"got {d_max_m}, {h_m}, {delta_tilt_deg}"
        )
    if tilt_direction not in ("downtilt", "uptilt"):
        raise InvalidInputError(f"expected tilt_direction downtilt|uptilt, got {tilt_direction!r}")
    signed = delta_tilt_deg if tilt_direction == "downtilt" else -delta_tilt_deg
    new_d = float(distance_after_tilt_m(d_max_m, alpha_deg, h_m, signed, vbw_deg))
    return new_d, 100.0 * (d_max_m - new_d) / d_max_m


@dataclass(frozen=True)
class TiltGeometry:
    """Where the -3 dB edges of the main beam meet the ground (``inf`` when they do not)."""

    #: Distance where the beam centre hits the ground. [m]
    boresight_m: float
    #: Distance where the upper -3 dB edge hits the ground (the geometric reach). [m]
    upper_edge_m: float
    #: Distance where the lower -3 dB edge hits the ground. [m]
    lower_edge_m: float


def tilt_geometry(h_m: float, tilt_deg: float, vbw_deg: float = 10.0) -> TiltGeometry:
    """Ground intersections of the main beam for an antenna ``h_m`` high tilted ``tilt_deg``."""

    def _hit(angle_deg: float) -> float:
        return float(h_m / np.tan(np.deg2rad(angle_deg))) if angle_deg > 0 else float("inf")

    return TiltGeometry(
        boresight_m=_hit(tilt_deg),
        upper_edge_m=_hit(tilt_deg - vbw_deg / 2.0),
        lower_edge_m=_hit(tilt_deg + vbw_deg / 2.0),
    )
