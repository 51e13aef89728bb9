"""Independent LTE network simulator for ``ran_crosscheck.py`` (benchmarks only).

Written without looking at ``opsforge.engines.ran.simulate`` so that the RAN detectors can be
checked against physics they were not tuned on. Everything differs on purpose:

* **Layout**: clustered sites (dense towns in a sparse rural network), a uniform random layout,
  or a real operator layout (EE LTE1800, West Sussex, from ``/work/shared/data/cells``).
* **Path loss**: dual-slope log-distance model with a two-ray breakpoint
  ``d_bp = 4 h_b h_m / lambda``; exponent ``n1`` before and ``n2`` (3.2 rural .. 3.8 urban)
  after it, plus clutter loss per environment (Rappaport, *Wireless Communications*, 2nd ed.,
  ch. 4.9-4.11; Erceg et al., IEEE JSAC 17(7), 1999).
* **Antenna**: horizontal ``cos(phi/2)^(2n)`` main lobe sized to the -3 dB beamwidth, side-lobe
  envelope down to a front-to-back ratio; vertical pattern of a uniformly illuminated aperture
  ``sinc(L sin(theta - tilt))`` with real side lobes and nulls, null fill below the horizon
  (Balanis, *Antenna Theory*, 4th ed., ch. 6). Mechanical tilt acts as ``m cos(phi)``.
* **Shadowing**: log-normal, spatially correlated by Gaussian-filtered white noise, shared
  half between sites (Gudmundson, Electronics Letters 27(23), 1991).
* **Measurements**: a bin's traffic is Poisson of a clustered population density; a bin with
  traffic reports its best ``max_reported`` cells above ``report_floor_dbm``, each averaged over
  the bin's events (4 dB per event, shrinking with ``sqrt(events)``), clipped at -44 dBm.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
EARTH_M_PER_DEG = 111_320.0
GEOHASH_LON_BITS, GEOHASH_LAT_BITS = 18, 17  # geohash-7 = 35 bits, longitude first
DLON_DEG = 360.0 / 2**GEOHASH_LON_BITS
DLAT_DEG = 180.0 / 2**GEOHASH_LAT_BITS
_B32 = np.array(list("0123456789bcdefghjkmnpqrstuvwxyz"))
FREQ_HZ = 1.8e9
UE_HEIGHT_M = 1.5
RS_EIRP_DBM = 15.0 + 17.0 - 2.0  # RS EPRE 15 dBm, 17 dBi gain, 2 dB feeder loss
NOISE_RE_DBM = -174.0 + 10 * np.log10(15e3) + 7.0  # per resource element, NF 7 dB


@dataclass(frozen=True)
class Layout:
    """Sites and planned sectors in a local east/north plane around (lat0, lon0)."""

    name: str
    lat0_deg: float
    lon0_deg: float
    site_x_m: F64
    site_y_m: F64
    cell_site: I64
    cell_bearing_deg: F64
    town_xy_m: F64  # (k, 3): x, y, radius of population clusters


@dataclass(frozen=True)
class Cells:
    """Per-cell antenna state: what radiates (``az``/``tilt``/``height``) and what the GIS says."""

    az_deg: F64
    tilt_e_deg: F64
    tilt_m_deg: F64
    height_m: F64  # effective height above the local ground level seen by the bins
    hbw_deg: F64
    vbw_deg: F64
    fbr_db: F64
    gis_bearing_deg: F64
    gis_tilt_e_deg: F64
    gis_tilt_m_deg: F64
    gis_height_m: F64


@dataclass(frozen=True)
class Bins:
    """The geohash-7 raster: centres, codes, environment and traffic."""

    x_m: F64
    y_m: F64
    lat_deg: F64
    lon_deg: F64
    code: NDArray[np.str_]
    shape: tuple[int, int]  # (rows = lat, cols = lon) of the raster, row-major
    urban: F64  # urbanisation 0..1 (drives exponent and clutter)
    events: I64


def geohash7(ilon: I64, ilat: I64) -> NDArray[np.str_]:
    """Geohash-7 strings from integer longitude/latitude cell indices (18/17 bits)."""
    code = np.zeros(ilon.shape, dtype=np.int64)
    for bit in range(35):  # bit 0 = most significant, even bits are longitude
        if bit % 2 == 0:
            b = (ilon >> (GEOHASH_LON_BITS - 1 - bit // 2)) & 1
        else:
            b = (ilat >> (GEOHASH_LAT_BITS - 1 - bit // 2)) & 1
        code = (code << 1) | b
    chars = [_B32[(code >> (5 * (6 - k))) & 31] for k in range(7)]
    out: NDArray[np.str_] = np.char.add(chars[0], chars[1])
    for c in chars[2:]:
        out = np.char.add(out, c)
    return out


def local_isd_m(x: F64, y: F64, k: int = 3) -> F64:
    """Median distance [m] of every site to its ``k`` nearest other sites."""
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    return np.asarray(np.median(np.sort(d, axis=1)[:, :k], axis=1), dtype=np.float64)


def _three_sectors(rng: np.random.Generator, n: int) -> tuple[I64, F64]:
    rot = rng.uniform(0, 120, n)
    site = np.repeat(np.arange(n, dtype=np.int64), 3)
    bearing = (np.repeat(rot, 3) + np.tile([0.0, 120.0, 240.0], n)) % 360
    bearing = (bearing + rng.normal(0, 8, bearing.size)) % 360
    return site, bearing


def _thin(xy: F64, min_d_m: float) -> F64:
    """Greedy Matern-II thinning: drop points closer than ``min_d_m`` to a kept one."""
    kept = np.empty((0, 2))
    for p in xy:
        if kept.size == 0 or np.min(np.hypot(*(kept - p).T)) >= min_d_m:
            kept = np.vstack([kept, p])
    return kept


def clustered_layout(rng: np.random.Generator, num_sites: int) -> Layout:
    """Towns with 400-900 m ISD inside a rural network of 3-6 km ISD (about 30 x 30 km)."""
    side = 30_000.0
    towns = np.column_stack(
        [rng.uniform(6e3, side - 6e3, 3), rng.uniform(6e3, side - 6e3, 3), [2500, 1800, 1200]]
    )
    n_town = int(0.6 * num_sites)
    which = rng.integers(0, 3, 4 * n_town)
    r = towns[which, 2] * np.sqrt(rng.uniform(0, 1, which.size))
    a = rng.uniform(0, 2 * np.pi, which.size)
    txy = np.column_stack([towns[which, 0] + r * np.cos(a), towns[which, 1] + r * np.sin(a)])
    rxy = rng.uniform(0, side, (4 * num_sites, 2))
    dist = np.hypot(rxy[:, None, 0] - towns[None, :, 0], rxy[:, None, 1] - towns[None, :, 1])
    rxy = rxy[np.all(dist > 1.3 * towns[None, :, 2] + 500, axis=1)]
    txy = _thin(txy, 450.0)[:n_town]
    rxy = _thin(rxy, 3000.0)[: num_sites - len(txy)]
    xy = np.vstack([txy, rxy])
    site, bearing = _three_sectors(rng, len(xy))
    return Layout("clustered", 40.2, -3.7, xy[:, 0], xy[:, 1], site, bearing, towns)


def uniform_layout(rng: np.random.Generator, num_sites: int, isd_m: float) -> Layout:
    """Poisson-disc-like random sites of mean spacing ``isd_m`` (suburban, one town blob)."""
    side = isd_m * np.sqrt(num_sites)
    xy = _thin(rng.uniform(0, side, (6 * num_sites, 2)), 0.6 * isd_m)[:num_sites]
    site, bearing = _three_sectors(rng, len(xy))
    towns = np.array([[side / 2, side / 2, side / 3]])
    return Layout("uniform", 45.5, 9.2, xy[:, 0], xy[:, 1], site, bearing, towns)


def real_layout(path: Path, earfcn: int) -> Layout | None:
    """One carrier layer of a crowdsourced cell list (``ECellID // 256`` = eNodeB = site)."""
    if not path.is_file():
        return None
    sites: dict[int, tuple[float, float]] = {}
    cells: list[tuple[int, float]] = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if int(row["EARFCN"]) != earfcn:
                continue
            enb = int(row["ECellID"]) // 256
            sites.setdefault(enb, (float(row["Latitude"]), float(row["Longitude"])))
            cells.append((enb, float(row["Azimuth"]) % 360))
    if not cells:
        return None
    ids = sorted(sites)
    lat = np.array([sites[i][0] for i in ids])
    lon = np.array([sites[i][1] for i in ids])
    lat0, lon0 = float(lat.mean()), float(lon.mean())
    x = (lon - lon0) * EARTH_M_PER_DEG * np.cos(np.radians(lat0))
    y = (lat - lat0) * EARTH_M_PER_DEG
    index = {s: k for k, s in enumerate(ids)}
    site = np.array([index[c[0]] for c in cells], dtype=np.int64)
    bearing = np.array([c[1] for c in cells])
    isd = local_isd_m(x, y)
    dense = isd < np.median(isd)
    towns = np.column_stack([x[dense], y[dense], np.full(int(dense.sum()), 1500.0)])
    return Layout(f"real_{path.stem[:5]}_{earfcn}", lat0, lon0, x, y, site, bearing, towns)


def make_bins(layout: Layout, rng: np.random.Generator, margin_m: float = 2500.0) -> Bins:
    """The geohash-7 raster over the sites plus a margin, with urbanisation and traffic."""
    coslat = np.cos(np.radians(layout.lat0_deg))
    x0, x1 = layout.site_x_m.min() - margin_m, layout.site_x_m.max() + margin_m
    y0, y1 = layout.site_y_m.min() - margin_m, layout.site_y_m.max() + margin_m
    lon_lo = layout.lon0_deg + x0 / (EARTH_M_PER_DEG * coslat)
    lon_hi = layout.lon0_deg + x1 / (EARTH_M_PER_DEG * coslat)
    lat_lo, lat_hi = layout.lat0_deg + y0 / EARTH_M_PER_DEG, layout.lat0_deg + y1 / EARTH_M_PER_DEG
    ilon = np.arange(int((lon_lo + 180) / DLON_DEG), int((lon_hi + 180) / DLON_DEG) + 1)
    ilat = np.arange(int((lat_lo + 90) / DLAT_DEG), int((lat_hi + 90) / DLAT_DEG) + 1)
    gi_lat, gi_lon = np.meshgrid(ilat, ilon, indexing="ij")
    lon = -180 + (gi_lon.ravel() + 0.5) * DLON_DEG
    lat = -90 + (gi_lat.ravel() + 0.5) * DLAT_DEG
    x = (lon - layout.lon0_deg) * EARTH_M_PER_DEG * coslat
    y = (lat - layout.lat0_deg) * EARTH_M_PER_DEG
    dens = np.zeros(x.size)
    for tx, ty, tr in layout.town_xy_m:
        dens += np.exp(-0.5 * ((x - tx) ** 2 + (y - ty) ** 2) / tr**2)
    urban = np.clip(dens, 0, 1)
    # people: towns + villages + a thin rural background; lambda in events per bin
    vill = rng.uniform([x0, y0], [x1, y1], (25, 2))
    for vx, vy in vill:
        dens += 0.4 * np.exp(-0.5 * ((x - vx) ** 2 + (y - vy) ** 2) / 400.0**2)
    lam = 0.5 + 60.0 * dens
    events = rng.poisson(lam).astype(np.int64)
    code = geohash7(gi_lon.ravel().astype(np.int64), gi_lat.ravel().astype(np.int64))
    return Bins(x, y, lat, lon, code, (ilat.size, ilon.size), urban, events)


def plan_cells(layout: Layout, rng: np.random.Generator) -> Cells:
    """Heights 15-45 m, beamwidths 60-90 / 6-12 deg, tilts aimed at ~2/3 of the local ISD."""
    ns = layout.site_x_m.size
    isd = local_isd_m(layout.site_x_m, layout.site_y_m)
    site_h = np.where(isd < 1500, rng.uniform(15, 32, ns), rng.uniform(25, 45, ns))
    c = layout.cell_site
    h = site_h[c]
    n = c.size
    vbw = rng.choice([6.5, 7.0, 8.0, 10.0, 12.0], n)
    total = np.degrees(np.arctan((h - UE_HEIGHT_M) / (0.66 * isd[c]))) + 0.5 * vbw
    total = total + rng.normal(0, 0.7, n)
    tilt_m = np.minimum(rng.choice([0.0, 0.0, 1.0, 2.0], n), np.floor(total))
    tilt_e = np.clip(np.round(total - tilt_m), 0, 12)
    bear = layout.cell_bearing_deg.copy()
    return Cells(
        az_deg=bear,
        tilt_e_deg=tilt_e,
        tilt_m_deg=tilt_m,
        height_m=h,
        hbw_deg=rng.choice([60.0, 65.0, 65.0, 70.0, 90.0], n),
        vbw_deg=vbw,
        fbr_db=rng.uniform(24, 32, n),
        gis_bearing_deg=bear.copy(),
        gis_tilt_e_deg=tilt_e.copy(),
        gis_tilt_m_deg=tilt_m.copy(),
        gis_height_m=h.copy(),
    )


def with_cells(cells: Cells, **changes: F64) -> Cells:
    """A copy of ``cells`` with whole arrays replaced."""
    return replace(cells, **changes)


def antenna_gain_db(
    phi_deg: F64, theta_deg: F64, tilt_e: float, tilt_m: float, hbw: float, vbw: float, fbr: float
) -> F64:
    """Relative gain [dB] at azimuth offset ``phi`` and depression angle ``theta`` [deg]."""
    phi = np.radians(phi_deg)
    n = -3.0 / (20 * np.log10(np.cos(np.radians(hbw / 4))))
    main_h = 20 * n * np.log10(np.maximum(np.abs(np.cos(phi / 2)), 1e-6))
    frac = np.clip((np.abs(phi_deg) - hbw) / (180 - hbw), 0, 1)
    side_h = -(19.0 + (fbr - 19.0) * frac) + 2.0 * np.cos(np.radians(3 * phi_deg)) * (frac < 1)
    a_h = np.maximum(main_h, side_h)
    tilt_eff = tilt_e + tilt_m * np.cos(phi)
    v = np.radians(theta_deg - tilt_eff)
    aperture = 0.443 / np.sin(np.radians(vbw / 2))  # -3 dB of sinc at +/- vbw/2
    u = aperture * np.sin(v)
    sinc = np.abs(np.sinc(u))
    a_v = 20 * np.log10(np.maximum(sinc, 1e-6)) - 5.0 * (np.abs(u) > 1)
    a_v = np.maximum(a_v, np.where(v > 0, -20.0, -28.0))  # null fill below, USLS above
    return np.asarray(np.maximum(a_h + a_v, -(fbr + 4)), dtype=np.float64)


def path_loss_db(d_m: F64, h_m: float, urban: F64) -> F64:
    """Dual-slope log-distance loss [dB] with two-ray breakpoint and clutter."""
    d = np.maximum(d_m, 30.0)
    lam = 3e8 / FREQ_HZ
    d_bp = 4 * h_m * UE_HEIGHT_M / lam
    fspl0 = 20 * np.log10(4 * np.pi * 100.0 / lam)
    n1 = 2.2 + 0.4 * urban
    n2 = 3.2 + 0.6 * urban
    near = fspl0 + 10 * n1 * np.log10(np.maximum(d, 100.0) / 100.0)
    at_bp = fspl0 + 10 * n1 * np.log10(max(d_bp, 100.0) / 100.0)
    far = at_bp + 10 * n2 * np.log10(d / d_bp)
    return np.asarray(np.where(d <= d_bp, near, far) + 12.0 * urban, dtype=np.float64)


def shadow_fields(
    rng: np.random.Generator, bins: Bins, num_sites: int, sigma_db: float, corr_m: float = 120.0
) -> NDArray[np.float32]:
    """(sites, bins) correlated log-normal shadowing: half shared, half per site."""
    cell_m = np.sqrt(DLAT_DEG * EARTH_M_PER_DEG * DLON_DEG * EARTH_M_PER_DEG * 0.7)
    s = corr_m / cell_m

    def field() -> F64:
        f = gaussian_filter(rng.standard_normal(bins.shape), s, mode="wrap").ravel()
        return np.asarray(f / f.std(), dtype=np.float64)

    common = field()
    out = np.empty((num_sites, bins.x_m.size), dtype=np.float32)
    for k in range(num_sites):
        out[k] = sigma_db * np.sqrt(0.5) * (common + field())
    return out


def rsrp_matrix(
    layout: Layout,
    cells: Cells,
    bins: Bins,
    shadow: NDArray[np.float32],
    only: I64 | None = None,
) -> NDArray[np.float32]:
    """True mean RSRP [dBm] of every (cell, bin) (rows ``only`` if given), before noise."""
    rows = np.arange(cells.az_deg.size) if only is None else only
    out = np.empty((rows.size, bins.x_m.size), dtype=np.float32)
    for k, i in enumerate(rows):
        s = layout.cell_site[i]
        dx, dy = bins.x_m - layout.site_x_m[s], bins.y_m - layout.site_y_m[s]
        d = np.hypot(dx, dy)
        az = np.degrees(np.arctan2(dx, dy))
        phi = (az - cells.az_deg[i] + 180) % 360 - 180
        h = float(cells.height_m[i])
        theta = np.degrees(np.arctan2(h - UE_HEIGHT_M, np.maximum(d, 1.0)))
        g = antenna_gain_db(
            phi,
            theta,
            float(cells.tilt_e_deg[i]),
            float(cells.tilt_m_deg[i]),
            float(cells.hbw_deg[i]),
            float(cells.vbw_deg[i]),
            float(cells.fbr_db[i]),
        )
        out[k] = RS_EIRP_DBM + g - path_loss_db(d, h, bins.urban) - shadow[s]
    return out


def measure(
    rsrp: NDArray[np.float32],
    bins: Bins,
    rng: np.random.Generator,
    max_reported: int = 6,
    report_floor_dbm: float = -124.0,
    load: float = 0.6,
    noise_db: float = 4.0,
) -> dict[str, NDArray[np.generic]]:
    """UE reports: per bin with traffic, its best cells above the floor, noisy means."""
    meas_bins = np.flatnonzero(bins.events > 0)
    ev = bins.events[meas_bins]
    r = rsrp[:, meas_bins]
    noise = rng.standard_normal(r.shape) * (noise_db / np.sqrt(ev))[None, :]
    rm = r + noise
    k = min(max_reported, r.shape[0])
    top = np.argsort(-rm, axis=0)[:k]  # (k, nbins) cell indices, best first
    cols = np.broadcast_to(np.arange(meas_bins.size), top.shape)
    val = rm[top, cols]
    lin_all = np.sum(10 ** (r / 10), axis=0)
    noise_lin = 10 ** (NOISE_RE_DBM / 10)
    lin = 10 ** (r[top, cols] / 10)
    sinr = 10 * np.log10(lin / (load * (lin_all - lin) + noise_lin))
    rsrq = np.clip(10 * np.log10(lin / (12 * (load * lin_all + noise_lin)) * 6), -20, -3)
    ok = val >= report_floor_dbm
    return {
        "bin": meas_bins[None, :].repeat(k, 0)[ok],
        "cell": top[ok],
        "rsrp": np.minimum(val[ok], -44.0),  # UE reporting range tops out at -44 dBm
        "rsrq": rsrq[ok],
        "sinr": np.clip(sinr[ok], -20.0, 40.0),
        "events": ev[None, :].repeat(k, 0)[ok],
    }
