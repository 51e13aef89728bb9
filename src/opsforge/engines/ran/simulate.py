"""Seeded synthetic LTE network with injected faults and ground truth.

Sites sit on a jittered hexagonal layout with three (or more) sectors. Each link's RSRP is

``RSRP = P_RE + G(az, el) - L_Hata(d, h_eff) + S``

with the 3GPP sector pattern ``G`` (:mod:`.antenna`), COST-231 Hata path loss
(:mod:`.propagation`) and log-normal shadowing ``S`` from spatially correlated Gaussian fields:
a field shared by all sites (inter-site correlation ``shadowing_site_correlation``) plus a
site-specific part, each a white Gaussian field smoothed to the decorrelation distance and
rescaled to unit variance (an approximation of Gudmundson's exponential correlation). Bins are
geohash-7 cells; a bin reports up to ``max_cells_per_bin`` cells whose RSRP is above
``noise_floor_dbm``, like drive-test / MDT bins. A row's SINR is the one a UE in the bin sees
when served by that cell: ``S / (load x sum of every other simulated cell's RSRP, reported or
not + N_RE)`` with thermal noise ``N_RE`` per resource element, clipped to the reportable
-20..40 dB.

Injected faults (ground truth in :class:`SimulationTruth`):

- overshooters: the antenna sits on a hill (effective height + ``overshoot_extra_height_m``,
  not in the GIS) with zero tilt, and clears the clutter (+``overshoot_clearance_db``);
- undershooters: ``undershoot_extra_tilt_deg`` of extra electrical downtilt (in the GIS);
- crossed feeders: within a site, the signals of 2 or 3 cells leave through each other's
  antennas (the GIS keeps the planned bearings);
- azimuth errors: one antenna physically rotated (not a swap);
- interference clusters: disks where an elevated, open area compresses the level differences
  between cells (``interference_compression``), so many cells arrive within a few dB.

References
----------
M. Gudmundson, "Correlation model for shadow fading in mobile radio systems", Electronics
Letters 27(23), 1991, doi:10.1049/el:19911328.
3GPP TR 36.942 V17.0.0, sec. 4.5 (log-normal shadowing, 0.5 inter-site correlation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, ConfigDict, Field
from scipy.ndimage import gaussian_filter
from scipy.spatial import cKDTree

from opsforge.core.units import EARTH_RADIUS_M
from opsforge.engines.ran import geohash as gh
from opsforge.engines.ran.antenna import depression_deg, sector_gain_db
from opsforge.engines.ran.propagation import Environment, cost231_hata_db

__all__ = ["SimulatedNetwork", "SimulationConfig", "SimulationTruth", "simulate_network"]

FloatArray = npt.NDArray[np.float64]
_PRECISION = 7
_SINR_MIN_DB, _SINR_MAX_DB = -20.0, 40.0  # reportable SINR range of the grid files


class SimulationConfig(BaseModel):
    """Knobs of the synthetic network (fractions are shares of cells or sites)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_sites: int = Field(60, ge=1)
    sectors_per_site: int = Field(3, ge=1, le=6)
    isd_m: float = Field(1500.0, gt=100.0)
    jitter_frac: float = Field(0.15, ge=0.0, le=0.5)
    center_lat_deg: float = 39.74
    center_lon_deg: float = -104.99
    environment: Environment = "suburban"
    frequency_mhz: float = 1800.0
    #: Reference-signal power per resource element plus peak antenna gain minus losses. [dBm]
    p_re_dbm: float = 33.0
    height_range_m: tuple[float, float] = (25.0, 40.0)
    tilt_e_range_deg: tuple[float, float] = (3.0, 7.0)
    tilt_m_range_deg: tuple[float, float] = (0.0, 2.0)
    hbw_deg: float = 65.0
    vbw_deg: float = 10.0
    noise_floor_dbm: float = -120.0
    #: Share of the interfering cells' resource elements carrying data (PDSCH load). [1]
    load: float = Field(0.5, ge=0.0, le=1.0)
    #: Thermal noise per 15 kHz resource element: -174 dBm/Hz + 10 log10(15e3) + 7 dB NF. [dBm]
    noise_re_dbm: float = -125.2
    max_cells_per_bin: int = Field(8, ge=1)
    measurement_noise_db: float = Field(1.0, ge=0.0)
    shadowing_sigma_db: float = Field(8.0, ge=0.0)
    shadowing_corr_m: float = Field(100.0, gt=0.0)
    shadowing_site_correlation: float = Field(0.5, ge=0.0, le=1.0)
    overshoot_fraction: float = Field(0.03, ge=0.0, le=1.0)
    overshoot_extra_height_m: float = 100.0
    #: Extra gain of a hilltop overshooter that clears the surrounding clutter. [dB]
    overshoot_clearance_db: float = 10.0
    undershoot_fraction: float = Field(0.03, ge=0.0, le=1.0)
    undershoot_extra_tilt_deg: float = 9.0
    crossed_pair_site_fraction: float = Field(0.05, ge=0.0, le=1.0)
    crossed_three_way_site_fraction: float = Field(0.03, ge=0.0, le=1.0)
    azimuth_error_fraction: float = Field(0.0, ge=0.0, le=1.0)
    num_interference_clusters: int = Field(2, ge=0)
    interference_radius_isd: float = Field(0.5, gt=0.0)
    interference_compression: float = Field(0.2, ge=0.0, le=1.0)
    #: Mean events per bin. [1]
    mean_events_per_bin: float = Field(40.0, gt=0.0)

    def faultless(self) -> SimulationConfig:
        """The same network without any injected fault."""
        return self.model_copy(
            update={
                "overshoot_fraction": 0.0,
                "undershoot_fraction": 0.0,
                "crossed_pair_site_fraction": 0.0,
                "crossed_three_way_site_fraction": 0.0,
                "azimuth_error_fraction": 0.0,
                "num_interference_clusters": 0,
            }
        )


@dataclass(frozen=True)
class SimulationTruth:
    """Injected faults. ``crossed_feeders`` tuples list cells in the order cell i carries cell
    i+1's feeder (its antenna radiates cell i+1's signal; the last carries the first's)."""

    overshooters: set[int] = field(default_factory=set)
    undershooters: set[int] = field(default_factory=set)
    crossed_feeders: list[tuple[int, ...]] = field(default_factory=list)
    interference_grids: set[str] = field(default_factory=set)
    azimuth_errors: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class SimulatedNetwork:
    """Canonical ``grid`` and ``gis`` frames plus the ground truth."""

    grid: pl.DataFrame
    gis: pl.DataFrame
    truth: SimulationTruth


def _hex_layout(cfg: SimulationConfig, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    cols = int(np.ceil(np.sqrt(cfg.num_sites)))
    idx = np.arange(cfg.num_sites)
    r, c = idx // cols, idx % cols
    x = (c + 0.5 * (r % 2)) * cfg.isd_m
    y = r * cfg.isd_m * np.sqrt(3.0) / 2.0
    x = x - x.mean() + rng.normal(0.0, cfg.jitter_frac * cfg.isd_m, cfg.num_sites)
    y = y - y.mean() + rng.normal(0.0, cfg.jitter_frac * cfg.isd_m, cfg.num_sites)
    return x, y


def _shadow_fields(
    shape: tuple[int, int], cfg: SimulationConfig, bin_m: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Two unit-variance correlated fields: one shared, one indexed with per-site offsets."""
    sigma_bins = max(cfg.shadowing_corr_m / bin_m, 0.3)
    out = []
    for _ in range(2):
        f = gaussian_filter(rng.standard_normal(shape), sigma=sigma_bins, mode="wrap")
        out.append((f - f.mean()) / max(float(f.std()), 1e-9))
    return out[0], out[1]


def simulate_network(cfg: SimulationConfig, seed: int) -> SimulatedNetwork:
    """Generate a network, its measured bins and the injected faults.

    Parameters
    ----------
    cfg
        Network and fault knobs.
    seed
        Seed of the NumPy generator; the same seed gives the same network.
    """
    rng = np.random.default_rng(seed)
    n_sec = cfg.sectors_per_site
    sx, sy = _hex_layout(cfg, rng)
    n_sites = cfg.num_sites
    n_cells = n_sites * n_sec
    cell_site = np.repeat(np.arange(n_sites), n_sec)
    rotation = rng.uniform(0.0, 360.0 / n_sec, n_sites)
    bearing = np.mod(
        np.repeat(rotation, n_sec) + np.tile(np.arange(n_sec) * 360.0 / n_sec, n_sites), 360.0
    )
    height = np.repeat(rng.uniform(*cfg.height_range_m, n_sites), n_sec)
    tilt_e = np.round(rng.uniform(*cfg.tilt_e_range_deg, n_cells))
    tilt_m = np.round(rng.uniform(*cfg.tilt_m_range_deg, n_cells))
    cell_ids = (
        np.repeat(np.arange(n_sites) + 1, n_sec) * 10 + np.tile(np.arange(n_sec) + 1, n_sites)
    ).astype(np.int64)

    # --- faults -------------------------------------------------------------------------
    site_order = rng.permutation(n_sites)
    n_pair = round(cfg.crossed_pair_site_fraction * n_sites) if n_sec >= 2 else 0
    n_three = round(cfg.crossed_three_way_site_fraction * n_sites) if n_sec >= 3 else 0
    pair_sites, three_sites = site_order[:n_pair], site_order[n_pair : n_pair + n_three]
    busy_sites = set(site_order[: n_pair + n_three].tolist())
    phys_bearing = bearing.copy()
    crossed: list[tuple[int, ...]] = []
    for s, size in [(int(s), 2) for s in pair_sites] + [(int(s), 3) for s in three_sites]:
        members = s * n_sec + np.sort(rng.choice(n_sec, size, replace=False))
        # cell i carries cell i+1's feeder: cell i+1's signal leaves at cell i's bearing.
        for i in range(size):
            phys_bearing[members[(i + 1) % size]] = bearing[members[i]]
        crossed.append(tuple(int(cell_ids[m]) for m in members))
    # over/undershooters are interior cells facing the network (the border has no neighbours)
    r_site = np.hypot(sx, sy)
    to_center = np.rad2deg(np.arctan2(-sx, -sy))
    facing = np.abs(np.mod(to_center[cell_site] - bearing + 180.0, 360.0) - 180.0) <= 90.0
    interior = (r_site[cell_site] <= 0.6 * max(float(r_site.max()), 1.0)) & facing
    free = np.array(
        [
            c
            for c in rng.permutation(n_cells)
            if int(cell_site[c]) not in busy_sites and interior[c]
        ],
        dtype=np.int64,
    )
    n_over = round(cfg.overshoot_fraction * n_cells)
    n_under = round(cfg.undershoot_fraction * n_cells)
    n_az = round(cfg.azimuth_error_fraction * n_cells)
    over = free[:n_over]
    # one fault per site keeps the truth unambiguous
    over_sites = set(cell_site[over].tolist())
    rest = np.array(
        [c for c in free[n_over:] if int(cell_site[c]) not in over_sites], dtype=np.int64
    )
    under, az_err = rest[:n_under], rest[n_under : n_under + n_az]
    eff_height = height.copy()
    eff_height[over] += cfg.overshoot_extra_height_m
    tilt_e[over] = 0.0
    extra_db = np.zeros(n_cells)
    extra_db[over] = cfg.overshoot_clearance_db
    tilt_m[over] = 0.0
    tilt_e[under] += cfg.undershoot_extra_tilt_deg
    phys_bearing[az_err] = np.mod(
        phys_bearing[az_err]
        + rng.choice([-1.0, 1.0], az_err.size) * rng.uniform(100, 150, az_err.size),
        360.0,
    )

    # --- bins ---------------------------------------------------------------------------
    lat0, lon0 = cfg.center_lat_deg, cfg.center_lon_deg
    m_per_deg_lat = np.pi * EARTH_RADIUS_M / 180.0
    m_per_deg_lon = m_per_deg_lat * np.cos(np.deg2rad(lat0))
    margin = 0.8 * cfg.isd_m
    lat_lo, lat_hi = (
        lat0 + (sy.min() - margin) / m_per_deg_lat,
        lat0 + (sy.max() + margin) / m_per_deg_lat,
    )
    lon_lo, lon_hi = (
        lon0 + (sx.min() - margin) / m_per_deg_lon,
        lon0 + (sx.max() + margin) / m_per_deg_lon,
    )
    dlat, dlon = gh.cell_size_deg(_PRECISION)
    ix0, iy0 = int((lon_lo + 180.0) / dlon), int((lat_lo + 90.0) / dlat)
    nx, ny = int((lon_hi + 180.0) / dlon) - ix0 + 1, int((lat_hi + 90.0) / dlat) - iy0 + 1
    mesh_x, mesh_y = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    blat, blon = gh.xy_to_lat_lon(gx + ix0, gy + iy0, _PRECISION)
    bx, by = (blon - lon0) * m_per_deg_lon, (blat - lat0) * m_per_deg_lat
    f_shared, f_site = _shadow_fields((nx, ny), cfg, dlat * m_per_deg_lat, rng)
    site_off = rng.integers(0, [nx, ny], size=(n_sites, 2))

    # cluster centres keep 1.5 ISD away from over/undershooting sites (unambiguous truth)
    def inner(v: FloatArray) -> tuple[float, float]:
        # the area inside the margin; a one-site network leaves none: its middle
        lo, hi = float(v.min()) + margin, float(v.max()) - margin
        return (lo, hi) if hi >= lo else ((lo + hi) / 2.0, (lo + hi) / 2.0)

    cand = np.column_stack(
        [
            rng.uniform(*inner(bx), 20 * cfg.num_interference_clusters + 1),
            rng.uniform(*inner(by), 20 * cfg.num_interference_clusters + 1),
        ]
    )
    fault_sites = cell_site[np.concatenate([over, under])]
    if fault_sites.size:
        d_fault = np.min(
            np.hypot(cand[:, None, 0] - sx[fault_sites], cand[:, None, 1] - sy[fault_sites]), axis=1
        )
        cand = np.concatenate([cand[d_fault >= 1.5 * cfg.isd_m], cand[d_fault < 1.5 * cfg.isd_m]])
    centers = cand[: cfg.num_interference_clusters]
    radius = cfg.interference_radius_isd * cfg.isd_m
    bin_events = rng.gamma(0.8, cfg.mean_events_per_bin / 0.8, gx.size)

    tree = cKDTree(np.column_stack([sx, sy]))
    k_sites = min(n_sites, 9)
    rho = cfg.shadowing_site_correlation
    parts: list[pl.DataFrame] = []
    in_cluster_all = np.zeros(gx.size, dtype=bool)
    chunk = 100_000
    for start in range(0, gx.size, chunk):
        sl = slice(start, min(start + chunk, gx.size))
        _, near = tree.query(np.column_stack([bx[sl], by[sl]]), k=k_sites, workers=-1)
        near = near.reshape(-1, k_sites)
        cells = (near[:, :, None] * n_sec + np.arange(n_sec)).reshape(near.shape[0], -1)
        dx = bx[sl, None] - sx[cell_site[cells]]
        dy = by[sl, None] - sy[cell_site[cells]]
        dist = np.hypot(dx, dy)
        az = np.rad2deg(np.arctan2(dx, dy))
        gain = sector_gain_db(
            az - phys_bearing[cells],
            depression_deg(dist, eff_height[cells] - 1.5),
            tilt_e[cells],
            tilt_m[cells],
            cfg.hbw_deg,
            cfg.vbw_deg,
        )
        loss = cost231_hata_db(
            dist, eff_height[cells], cfg.frequency_mhz, environment=cfg.environment
        )
        off = site_off[cell_site[cells]]
        shadow = (
            np.sqrt(rho) * f_shared[gx[sl], gy[sl]][:, None]
            + np.sqrt(1.0 - rho)
            * f_site[(gx[sl, None] + off[..., 0]) % nx, (gy[sl, None] + off[..., 1]) % ny]
        )
        rsrp = cfg.p_re_dbm + extra_db[cells] + gain - loss + cfg.shadowing_sigma_db * shadow
        if cfg.num_interference_clusters:
            d_c = np.min(
                np.hypot(bx[sl, None] - centers[:, 0], by[sl, None] - centers[:, 1]), axis=1
            )
            inside = d_c <= radius
            in_cluster_all[sl] = inside
            best = rsrp.max(axis=1, keepdims=True)
            rsrp = np.where(
                inside[:, None], best - cfg.interference_compression * (best - rsrp), rsrp
            )
        rsrp = rsrp + rng.normal(0.0, cfg.measurement_noise_db, rsrp.shape)
        # every simulated cell interferes, reported or not
        lin_all = np.power(10.0, rsrp / 10.0).sum(axis=1, keepdims=True)
        if rsrp.shape[1] > cfg.max_cells_per_bin:
            order = np.argpartition(-rsrp, cfg.max_cells_per_bin - 1, axis=1)[
                :, : cfg.max_cells_per_bin
            ]
        else:
            order = np.broadcast_to(np.arange(rsrp.shape[1]), rsrp.shape)
        rsrp = np.take_along_axis(rsrp, order, axis=1)
        cells = np.take_along_axis(cells, order, axis=1)
        lin = np.power(10.0, rsrp / 10.0)
        noise = 10.0 ** (cfg.noise_re_dbm / 10.0)
        total = lin.sum(axis=1, keepdims=True) + 10.0 ** (cfg.noise_floor_dbm / 10.0 - 0.5)
        # SINR a UE in the bin sees when served by the row's cell: load-weighted interference
        # of all other cells plus thermal noise, clipped to the UE reporting range
        sinr = np.clip(
            10.0 * np.log10(lin / (cfg.load * np.maximum(lin_all - lin, 0.0) + noise)),
            _SINR_MIN_DB,
            _SINR_MAX_DB,
        )
        rsrq = np.clip(10.0 * np.log10(lin / (2.0 * total)), -24.0, -3.0)
        share = lin / total
        events = np.maximum(1, np.round(bin_events[sl, None] * share)).astype(np.int64)
        keep = rsrp >= cfg.noise_floor_dbm
        rows_bin = np.broadcast_to(np.arange(sl.start, sl.stop)[:, None], rsrp.shape)[keep]
        parts.append(
            pl.DataFrame(
                {
                    "bin_idx": rows_bin.astype(np.int64),
                    "cell_id": cell_ids[cells[keep]],
                    "rsrp_dbm": rsrp[keep],
                    "rsrq_db": rsrq[keep],
                    "sinr_db": sinr[keep],
                    "event_count": events[keep],
                }
            )
        )
    rows = pl.concat(parts)
    codes = gh.from_xy(gx + ix0, gy + iy0, _PRECISION)
    names = pl.Series("grid", gh.int_to_str(codes, _PRECISION))
    grid = rows.with_columns(names.gather(rows["bin_idx"])).select(
        "grid", "cell_id", "rsrp_dbm", "rsrq_db", "sinr_db", "event_count"
    )
    counts = rows.group_by("bin_idx").len()
    truth_bins = counts.filter(pl.col("len") >= 4)["bin_idx"].to_numpy()
    truth_bins = truth_bins[in_cluster_all[truth_bins]]
    gis = pl.DataFrame(
        {
            "cell_id": cell_ids,
            "cell_name": [
                f"S{int(s) + 1:04d}_{k + 1}"
                for s, k in zip(cell_site, np.tile(np.arange(n_sec), n_sites), strict=True)
            ],
            "site_id": [f"S{int(s) + 1:04d}" for s in cell_site],
            "lat_deg": lat0 + sy[cell_site] / m_per_deg_lat,
            "lon_deg": lon0 + sx[cell_site] / m_per_deg_lon,
            "bearing_deg": bearing,
            "tilt_e_deg": tilt_e,
            "tilt_m_deg": tilt_m,
            "height_m": height,
            "hbw_deg": np.full(n_cells, cfg.hbw_deg),
            "vbw_deg": np.full(n_cells, cfg.vbw_deg),
            "environment": [cfg.environment] * n_cells,
        }
    )
    truth = SimulationTruth(
        overshooters={int(c) for c in cell_ids[over]},
        undershooters={int(c) for c in cell_ids[under]},
        crossed_feeders=crossed,
        interference_grids=set(names.to_numpy()[truth_bins].tolist()),
        azimuth_errors={int(c) for c in cell_ids[az_err]},
    )
    return SimulatedNetwork(grid=grid, gis=gis, truth=truth)
