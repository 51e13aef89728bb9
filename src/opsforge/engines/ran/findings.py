"""The internal findings frame every detector returns, and the tilt-step search they share."""

from __future__ import annotations

import numpy as np
import polars as pl

from opsforge.engines.ran.tilt import distance_after_tilt_m

__all__ = ["FINDING_COLUMNS", "SERVING_MARGIN_DB", "empty_findings", "tilt_step_for_reach"]

#: Internal findings frame shared by the detectors.
FINDING_COLUMNS = [
    "cell_idx",
    "issue",
    "action",
    "tilt_change_deg",
    "swap_with",
    "permutation",
    "confidence",
    "reason",
    "evidence_json",
]
_STEPS_DEG = np.arange(0.5, 4.01, 0.5)
#: Lead over the second cell that makes an overshooting bin "strong". [dB]
SERVING_MARGIN_DB = 3.0


def tilt_step_for_reach(
    reach_m: np.ndarray,
    target_m: np.ndarray,
    tilt_deg: np.ndarray,
    h_m: np.ndarray,
    vbw_deg: np.ndarray,
    direction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest tilt step (0.5 deg grid up to 4 deg) reaching a target reach.

    ``direction`` is +1 for downtilt (reach must fall to ``target_m``) and -1 for uptilt (reach
    must grow to ``target_m``). Returns (signed step [deg], predicted reach [m]); the largest
    step when no step reaches the target.
    """
    n = reach_m.size
    steps = np.full(n, _STEPS_DEG[-1])
    pred = np.full(n, np.nan)
    done = np.zeros(n, dtype=bool)
    for step in _STEPS_DEG:
        new = distance_after_tilt_m(reach_m, tilt_deg, h_m, direction * step, vbw_deg)
        ok = (new <= target_m) if direction > 0 else (new >= target_m)
        take = ok & ~done
        steps[take] = step
        pred[take] = new[take]
        done |= ok
        last = new
    pred[~done] = last[~done]
    return direction * steps, pred


def _schema() -> dict[str, pl.DataType]:
    return {
        "cell_idx": pl.Int64(),
        "issue": pl.Utf8(),
        "action": pl.Utf8(),
        "tilt_change_deg": pl.Float64(),
        "swap_with": pl.Utf8(),
        "permutation": pl.Utf8(),
        "confidence": pl.Float64(),
        "reason": pl.Utf8(),
        "evidence_json": pl.Utf8(),
    }


def empty_findings() -> pl.DataFrame:
    """An empty findings frame with the shared schema."""
    return pl.DataFrame(schema=_schema())
