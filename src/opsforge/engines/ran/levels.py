"""Uncertainty of a bin's averaged RSRP: empirical-Bayes shrinkage toward the adjacent bins.

A grid row is the mean of ``eventCount`` measurements, each off the bin's true level by a
per-event error of standard deviation ``sigma``; the row's error is ``sigma / sqrt(n)``. Rows of
few events are therefore noisy, and a rule that compares cells *within* a bin (interference:
cells within a few dB of the best) is biased by it: the strongest *measured* level is the
maximum of noisy values, biased upward (the winner's curse), so fewer cells fall within the
window than truly are.

The prior for a cell's true level in a bin is its mean level ``m`` over the adjacent bins
(8-neighbourhood) where it is also reported, with a spread ``tau`` (true level differences
between neighbouring bins plus the noise of ``m``). The model

    E[(x - m)^2] = tau^2 + sigma^2 (1/n + sum_j (1/n_j) / k^2)

(``k`` neighbour rows with event counts ``n_j``) is linear in ``sigma^2`` and ``tau^2``; both
are fitted by least squares over every row that has a neighbour, so no noise level is assumed
(a fixed ``sigma`` may be given instead); a fitted ``sigma`` below 0.5 dB or less than 3
standard errors above zero counts as no measurable noise. The posterior of the row's true level is Gaussian,
with mean ``x + w (m - x)`` and variance ``L P / (L + P)``, where ``L = sigma^2 / n`` is
the likelihood's variance, ``P`` the prior's and ``w = L / (L + P)``: rows of many events keep their value, rows of one event are pulled toward
their neighbourhood. With no measurable per-event noise (``sigma`` fitted as 0) nothing changes.

References
----------
B. Efron and C. Morris, "Data analysis using Stein's estimator and its generalizations", J. Am.
Stat. Assoc. 70(350), 1975, doi:10.1080/01621459.1975.10479864 (empirical-Bayes shrinkage).
R. H. Thaler, "The winner's curse", J. Econ. Perspect. 2(1), 1988, doi:10.1257/jep.2.1.191.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.prepare import Prepared

__all__ = ["LevelPosterior", "level_posterior"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_SHIFT = np.int64(1 << 20)
#: Rows with a neighbour needed before sigma and tau are fitted; fewer -> no shrinkage.
_MIN_FIT_ROWS = 50
#: A fitted per-event noise counts only when at least this (RSRP is reported in 1 dB steps,
#: 3GPP TS 36.133 sec. 9.1.4: quantisation alone is 0.29 dB) ... [dB]
_MIN_SIGMA_DB = 0.5
#: ... and its least-squares slope is at least this many standard errors above zero. [1]
_MIN_T = 3.0
#: Rows of the evenly spaced sample sigma and tau are fitted on. [1]
_FIT_SAMPLE_ROWS = 200_000


@dataclass(frozen=True)
class LevelPosterior:
    """Per row: posterior mean [dBm] and variance [dB^2] of the true level; fitted noise."""

    mean_dbm: FloatArray
    var_db2: FloatArray
    sigma_db: float  # per-event measurement noise (fitted or given)
    tau_db: float  # prior spread around the adjacent bins' mean (fitted)


def _neighbour_sums(
    keys_sorted: IntArray, level_sorted: FloatArray, inv_sorted: FloatArray, spos: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For the rows at sorted positions ``spos`` (ascending): sum of the same cell's levels in
    the 8 adjacent bins, their number and the sum of their 1/eventCount."""
    last = keys_sorted.size - 1
    keys = keys_sorted[spos]
    total = np.zeros(spos.size)
    count = np.zeros(spos.size)
    inv_sum = np.zeros(spos.size)
    dxs, dys = gh.k_ring_offsets(1)
    for dx, dy in zip(dxs.tolist(), dys.tolist(), strict=True):
        if dx == 0 and dy == 0:
            continue
        # ascending queries: a merge-like search, much faster than random probes
        query = keys + (dx * _SHIFT + dy)
        pos = np.minimum(np.searchsorted(keys_sorted, query), last)
        hit = keys_sorted[pos] == query
        total += np.where(hit, level_sorted[pos], 0.0)
        count += hit
        inv_sum += np.where(hit, inv_sorted[pos], 0.0)
    return total, count, inv_sum


def _fit_noise(resid2: FloatArray, q: FloatArray, sigma_db: float | None) -> tuple[float, float]:
    """(sigma^2, tau^2) of ``E[resid2] = tau^2 + sigma^2 q`` (sigma^2 given or fitted)."""
    if sigma_db is not None:
        return sigma_db**2, max(float(np.mean(resid2 - sigma_db**2 * q)), 1e-6)
    design = np.column_stack([np.ones(q.size), q])
    coef = np.linalg.lstsq(design, resid2, rcond=None)[0]
    sig2, tau2 = max(float(coef[1]), 0.0), max(float(coef[0]), 1e-6)
    fit_resid = resid2 - design @ coef
    sxx = float(np.sum((q - q.mean()) ** 2))
    se = float(np.sqrt(np.sum(fit_resid**2) / max(q.size - 2, 1) / sxx)) if sxx > 0 else np.inf
    if sig2 < _MIN_SIGMA_DB**2 or sig2 < _MIN_T * se:
        sig2 = 0.0  # not measurable: below the reporting resolution or not significant
    return sig2, tau2


def level_posterior(
    prep: Prepared,
    sigma_db: float | None = None,
    rows: npt.NDArray[np.bool_] | None = None,
) -> LevelPosterior:
    """Shrunk levels of every row (see module docstring).

    Parameters
    ----------
    prep
        Prepared arrays.
    sigma_db
        Per-event measurement noise [dB]; ``None`` fits it from the data (on at most
        200,000 rows).
    rows
        Rows to shrink (default all); the others keep their level and variance 0.

    Returns
    -------
    LevelPosterior
        Posterior mean and variance per row; the levels unchanged (variance 0) when the noise
        is zero or cannot be fitted.
    """
    n_rows = prep.r_rsrp.size
    unchanged = LevelPosterior(prep.r_rsrp, np.zeros(n_rows), 0.0, 0.0)
    if n_rows == 0 or sigma_db == 0.0:
        return unchanged
    keys = (prep.r_cell * _SHIFT + prep.b_ix[prep.r_bin]) * _SHIFT + prep.b_iy[prep.r_bin]
    order = pl.Series(keys).arg_sort().to_numpy()
    keys_sorted = keys[order]
    level_sorted = prep.r_rsrp[order]
    inv_sorted = 1.0 / np.maximum(prep.r_events[order], 1).astype(np.float64)
    wanted = np.ones(n_rows, dtype=bool) if rows is None else rows[order]
    spos = np.flatnonzero(wanted)
    if spos.size == 0:
        return unchanged
    # fit on an evenly spaced sample (ample for two parameters), then shrink every wanted row
    sample = spos[:: max(1, spos.size // _FIT_SAMPLE_ROWS)]
    total, count, inv_sum = _neighbour_sums(keys_sorted, level_sorted, inv_sorted, sample)
    has = count > 0
    if int(has.sum()) < _MIN_FIT_ROWS:
        return unchanged
    m = total[has] / count[has]
    q = inv_sorted[sample][has] + inv_sum[has] / count[has] ** 2
    sig2, tau2 = _fit_noise((level_sorted[sample][has] - m) ** 2, q, sigma_db)
    if sig2 <= 0.0:
        return LevelPosterior(prep.r_rsrp, np.zeros(n_rows), 0.0, float(np.sqrt(tau2)))
    total, count, inv_sum = _neighbour_sums(keys_sorted, level_sorted, inv_sorted, spos)
    has = count > 0
    m = np.divide(total, count, out=np.zeros(spos.size), where=has)
    q_prior = np.divide(inv_sum, count * count, out=np.zeros(spos.size), where=has)
    lik = sig2 * inv_sorted[spos]
    prior = tau2 + sig2 * q_prior
    x = level_sorted[spos]
    mean = prep.r_rsrp.copy()
    var = np.zeros(n_rows)
    target = order[spos]
    mean[target] = x + np.where(has, lik / (lik + prior), 0.0) * (m - x)
    var[target] = np.where(has, lik * prior / (lik + prior), lik)
    return LevelPosterior(mean, var, float(np.sqrt(sig2)), float(np.sqrt(tau2)))
