"""Blind end-to-end benchmark of ``opsforge ran recommend`` on an independent simulator.

The simulator (``benchmarks/_blindsim.py``) was written without looking at the detectors, so
figures measured on it are not tuned to the engine's own modelling assumptions.  The script
builds seeded networks, injects faults with ground truth, writes the users' two input files
(grid.csv, gis.csv), runs the product's CLI as a subprocess exactly as a user would, and
scores the outputs against the truth.  It fails (exit 2) only when the CLI fails.

Usage::

    nice -n 10 .venv/bin/python benchmarks/ran_blindcheck.py [--seeds 2] \
        [--variants city corridor twoband] [--keep DIR] [--details] [--small] [--traffic-sd 0.3]

``--keep DIR`` keeps DIR/<network>/{faulty,twin}/{grid.csv,gis.csv,res/} and truth.json;
``--details`` lists every miss and every false flag with cell id, name and fault kind;
``--small`` builds half-size networks (quick debugging); ``--traffic-sd S`` varies the traffic
of the baseline and next-cycle weeks per bin (Poisson around a log-normal factor of sigma S),
so the comparison also sees traffic change from week to week.

Physics (see the simulator for the formulas)
--------------------------------------------
* Place: real latitudes (Munich, Salzburg area, Hanover); bins are standard geohash-7 cells
  (~102 m east-west x ~153 m north-south at 48 deg N); the encoder is implemented here.
* Layouts: ``city``: L1800, dense core (ISD ~500 m) thinning outward to ~3 km, 1-6 sectors,
  rooftop/mast heights 15-42 m.  ``corridor``: L800, a motorway with 2-sector (45 deg) and
  3-sector towers every 4-8 km, rural fill sites, a town with ISD 0.65-2 km; the GIS has no
  HBW/VBW columns.  ``twoband``: co-sited L800 (VBW 10.5-14 deg) + L1800 (VBW 6-8 deg) on
  multiband panels (same azimuth and bracket, i.e. shared mechanical tilt; separate RETs),
  different EARFCNs, each carrier measured separately.  Azimuths irregular (jittered, random
  orientation), planned tilt = atan(antenna height over the terrain at the boresight point /
  (0.6..0.9 ISD)) + N(0, 0.8) deg, at least 2 deg (1 deg rural), split into integer
  electrical (RET 0..10) and mechanical parts.  Installed state = plan + tolerance (azimuth
  N(0,3) deg, mechanical tilt N(0,0.4) deg, height N(0,1) m).
* Terrain: Gaussian hills + low-pass noise (the motorway runs in a valley).  Path loss: urban
  macro (TR 38.901 UMa LOS law and LOS probability; NLOS law of ITU-R M.2135 UMa, which keeps
  the base-station-height dependence that the 38.901 NLOS fit drops, with the mean building
  height 8-22 m from the built-up map) and TR 38.901 RMa, each a LOS-probability-weighted (dB)
  mix of LOS and NLOS, blended per bin by the built-up fraction; the model height is the antenna
  altitude above the smoothed (+-1.2 km) ground near the bin, clipped to 10..200 m, and the
  elevation angle uses the true altitudes (site ground + mast vs bin ground + 1.5 m); plus the
  dominant terrain knife edge (ITU-R P.526 J(v), 8 profile samples, 4/3 earth), a clutter loss
  (built-up, forest) and log-normal shadowing (exponential spatial correlation 80 m, sigma
  5.5-8 dB by environment, inter-site correlation 0.5, co-sited cells fully correlated) plus a
  1.5 dB per-cell residual.
* Antenna: horizontal -12(phi/HBW)^2 main lobe over a rippled 20-25 dB side-lobe floor falling
  to a 25-30 dB front-to-back; vertical uniform-array (sinc) pattern with upper side lobes at
  -15..-18 dB, lower null fill at -16..-21 dB and an element factor; the antenna frame is
  rotated by the mechanical tilt (so its effect is ~m cos(offset), reversed behind) and the
  electrical tilt shifts the vertical pattern in all azimuths.
* Traffic and measurements: event density from the built-up map, roads and hot spots with a
  log-normal per-bin factor (most bins 1-5 events, some hundreds).  Per event: indoor
  (probability by built-up, penetration loss ~9/12.5 dB +-4 at 800/1800) and body loss common to
  all cells, position-in-bin shadowing shared by co-sited cells (3.5 dB) and 2.5 dB per-cell
  error; RSRP quantised to 1 dB; a cell is reported when above the UE's floor (-127..-121 dBm),
  within 18-23 dB of the best and among the 6 strongest; events whose best cell is below the
  floor are lost (no service).  Two-band: an event is on L1800 (62 %) where its L1800 best is
  above -112 dBm, else on L800, and reports only that carrier's cells.  SINR per reported cell =
  its RSRP over the load-weighted power of every other co-channel cell (reported or not) plus
  thermal noise; RSRQ = RSRP / RSSI per RB with RE activity 1/6 + 5/6 load.  avg_* = mean over
  the events that reported the cell, eventCount = that number.
* A fault-free twin of every network: the same layout, terrain, shadowing, traffic and event
  draws, with the planned (fault-free) GIS.

Faults (each at a distinct site, fault sites at least ~0.9 ISD apart)
--------------------------------------------------------------------
* Overshooters: ``tilt_low_gis_planned`` (total tilt set to 0-1 deg, GIS still shows the plan)
  and ``tilt_low_gis_new`` (the GIS shows the new tilt), on cells planned >= 3.5 deg;
  ``mast_higher`` (all cells of a site: antenna 20-35 m higher than the GIS height);
  ``hilltop`` (all cells of a site: the site stands 60-120 m higher than the terrain the planner
  used; the GIS has no altitude); ``uptilt_bracket`` (bracket mounted upside down: mechanical
  uptilt 2-5 deg, GIS unchanged; the back lobe is pushed down as a side effect).
* Undershooters: ``elec_gis`` (+5..+10 deg electrical, recorded in the GIS) and
  ``mech_hidden`` (+5..+10 deg mechanical, not recorded).  In ``twoband`` a mechanical change
  or rotation hits both carriers of the sector (both cells are injected).
* Crossed feeders: pairs and three-way rotations within a site and carrier; the antennas
  (azimuth, tilts, beamwidths, pattern) are exchanged, the GIS unchanged.  Truth "X->Y" = cell X
  radiates through the antenna planned for Y.
* Azimuth errors: one sector rotated 40-90 deg.  A swap_feeders row naming it is a false swap;
  check_azimuth on it is correct.

Truth (on the true mean levels: no event noise, bins = the faulty network's measured bins)
-----------------------------------------------------------------------------------------
Per carrier, the best server of each bin (best level >= -122 dBm).  For cell c: B = its
best-server bins, T = their events, D = "deep" best-server bins: farther than 1.3 x the site's
ISD (median distance to its 3 nearest sites) and nearer to some other site.
* Effective overshooter: D_faulty - D_twin >= max(8, D_twin) (at least doubles and 8 bins).
* Lenient overshoot acceptance (any cell): the same delta criterion, or D >= 10 and D >= 0.3 B
  in the faulty network ("measurably overshoots").  The same absolute test on the twin gives the
  count of natural overshooters printed with the twin's false-flag rate.  Lenient acceptance
  never covers a cell that carries a different injected fault (an undershooter, a crossed
  feeder or azimuth error for "over"; an overshooter etc. for "under"): its right action differs.
* Effective undershooter: B_twin >= 6 and (B_faulty <= 0.6 B_twin or T_faulty <= 0.6 T_twin).
  Lenient acceptance: any other cell meeting that shrink criterion (e.g. squeezed by a
  neighbouring overshooter).
* Crossed-feeder groups: effective when every member points >= 60 deg away from its GIS bearing.
* Interference (rule of seed 000): a bin is interfered when >= 4 cells (best included) of one
  carrier are within 5 dB of that carrier's best; zone bins = interfered bins with >= 33 % of the
  measured bins of their 7x7 geohash neighbourhood interfered, in 8-connected components of >= 5
  bins.  Computed on the true levels and on the reported averages (per carrier; two-band also
  shows the carriers pooled).  IoU over geohash strings.

Scores: precision strict (flagged & injected / flagged), lenient (also accepting the lenient
sets), recall over effective and over all injected, per kind; feeder group recall with the exact
permutation; the twin's flagged cells per 100 cells.  Targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _blindsim as bs

ROOT_DEEP = 1.3
BEST_MIN = -122.0

OVER_KINDS = [
    "tilt_low_gis_planned",
    "tilt_low_gis_new",
    "mast_higher",
    "hilltop",
    "uptilt_bracket",
]
UNDER_KINDS = ["elec_gis", "mech_hidden"]
BASE_COUNTS = {  # per 150 sites
    "feeder_pair": 3,
    "feeder_triple": 2,
    "tilt_low_gis_planned": 3,
    "tilt_low_gis_new": 3,
    "mast_higher": 1,
    "hilltop": 1,
    "uptilt_bracket": 2,
    "elec_gis": 3,
    "mech_hidden": 3,
    "azimuth": 3,
}


# ---------------------------------------------------------------------------------------------
# fault injection
# ---------------------------------------------------------------------------------------------


@dataclass
class Truth:
    over: dict[int, str] = field(default_factory=dict)  # cell -> kind
    under: dict[int, str] = field(default_factory=dict)
    groups: list[dict[str, Any]] = field(default_factory=list)  # feeder groups
    azimuth: dict[int, float] = field(default_factory=dict)  # cell -> rotation [deg]
    fault_sites: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)


def _siblings(net: bs.Network, c: int) -> list[int]:
    """Cells on the same physical panel (same site and sector, every carrier)."""
    return [
        int(k)
        for k in np.flatnonzero(
            (net.cell_site == net.cell_site[c]) & (net.cell_sector == net.cell_sector[c])
        )
    ]


def inject_faults(net: bs.Network, rng: np.random.Generator) -> tuple[bs.Deployed, bs.Gis, Truth]:
    dep = net.deployed.copy()
    gis = net.gis.copy()
    truth = Truth()
    two = len(net.bands) > 1
    scale = net.n_sites / 150.0
    counts = {k: max(1, round(v * scale)) for k, v in BASE_COUNTS.items()}
    chosen: list[int] = []
    total = net.planned.tilt_e + net.planned.tilt_m

    def site_ok(s: int, spacing: float) -> bool:
        if s in chosen:
            return False
        for o in chosen:
            d = math.hypot(net.site_x[s] - net.site_x[o], net.site_y[s] - net.site_y[o])
            if d < spacing * max(net.site_isd[s], net.site_isd[o]):
                return False
        return True

    def pick(cands: list[int]) -> int | None:
        for spacing in (0.9, 0.5, 0.0):
            for s in rng.permutation(np.array(cands, dtype=np.int64)).tolist():
                if site_ok(int(s), spacing):
                    chosen.append(int(s))
                    return int(s)
        return None

    n_sec = np.bincount(net.cell_site[net.cell_band == 0], minlength=net.n_sites)
    # crossed feeders
    for kind in ("feeder_triple", "feeder_pair"):
        need = 3 if kind == "feeder_triple" else 2
        for _ in range(counts[kind]):
            s = pick([q for q in range(net.n_sites) if n_sec[q] >= (3 if need == 3 else 2)])
            if s is None:
                continue
            b = int(rng.integers(0, len(net.bands)))
            cells = np.flatnonzero((net.cell_site == s) & (net.cell_band == b))
            mem = [int(c) for c in rng.choice(cells, size=need, replace=False)]
            src = dep.ant.take(np.array(mem))
            # mem[i] radiates through the antenna of mem[i+1] (rotation; a pair is a swap)
            rot = [(mem[i], mem[(i + 1) % need]) for i in range(need)]
            for i, (x, _y) in enumerate(rot):
                dep.ant.assign(np.array([x]), src.take(np.array([(i + 1) % need])))
            off = [abs(((dep.ant.az[x] - gis.az[x] + 180.0) % 360.0) - 180.0) for x, _ in rot]
            truth.groups.append(
                {
                    "kind": "pair" if need == 2 else "triple",
                    "site": s,
                    "perm": rot,
                    "offsets": [round(float(o), 1) for o in off],
                    "effective": bool(min(off) >= 60.0),
                }
            )
            truth.fault_sites[s] = f"feeder_{'pair' if need == 2 else 'triple'}"
    # overshooters
    for kind in OVER_KINDS:
        for _ in range(counts[kind]):
            if kind.startswith("tilt_low"):
                ok = total >= 3.5
                if two:
                    ok &= net.planned.tilt_m <= 0.0
                s = pick(sorted({int(net.cell_site[c]) for c in np.flatnonzero(ok)}))
                if s is None:
                    continue
                cands = np.flatnonzero(ok & (net.cell_site == s))
                c = int(rng.choice(cands))
                target = float(rng.integers(0, 2))
                te_new = max(target - max(float(net.planned.tilt_m[c]), 0.0), 0.0)
                tm_new = min(float(net.planned.tilt_m[c]), target)
                dep.ant.tilt_e[c] = te_new
                dep.ant.tilt_m[c] = tm_new + (dep.ant.tilt_m[c] - net.planned.tilt_m[c])
                if kind == "tilt_low_gis_new":
                    gis.tilt_e[c] = te_new
                    gis.tilt_m[c] = tm_new
                truth.over[c] = kind
                truth.notes[c] = f"tilt {total[c]:.0f} -> {target:.0f} deg"
            elif kind in ("mast_higher", "hilltop"):
                s = pick(list(range(net.n_sites)))
                if s is None:
                    continue
                if kind == "mast_higher":
                    dh = float(rng.uniform(20.0, 35.0))
                    dep.height[s] += dh
                else:
                    dh = float(rng.uniform(60.0, 120.0))
                    dep.alt_extra[s] += dh
                for cc in np.flatnonzero(net.cell_site == s).tolist():
                    truth.over[cc] = kind
                    truth.notes[cc] = f"+{dh:.0f} m"
            else:  # uptilt_bracket
                s = pick(list(range(net.n_sites)))
                if s is None:
                    continue
                c = int(rng.choice(np.flatnonzero(net.cell_site == s)))
                up = float(rng.uniform(2.0, 5.0))
                for k in _siblings(net, c) if two else [c]:
                    dep.ant.tilt_m[k] = -up
                    truth.over[k] = kind
                    truth.notes[k] = f"mech {net.planned.tilt_m[k]:.0f} -> {-up:.1f} deg"
            truth.fault_sites[s] = kind
    # undershooters
    for kind in UNDER_KINDS:
        for _ in range(counts[kind]):
            s = pick(list(range(net.n_sites)))
            if s is None:
                continue
            c = int(rng.choice(np.flatnonzero(net.cell_site == s)))
            inc = float(rng.integers(5, 11))
            if kind == "elec_gis":
                dep.ant.tilt_e[c] += inc
                gis.tilt_e[c] += inc
                truth.under[c] = kind
                truth.notes[c] = f"E +{inc:.0f} deg (in GIS)"
            else:
                for k in _siblings(net, c) if two else [c]:
                    dep.ant.tilt_m[k] += inc
                    truth.under[k] = kind
                    truth.notes[k] = f"M +{inc:.0f} deg (not in GIS)"
            truth.fault_sites[s] = kind
    # azimuth errors
    for _ in range(counts["azimuth"]):
        s = pick(list(range(net.n_sites)))
        if s is None:
            continue
        c = int(rng.choice(np.flatnonzero(net.cell_site == s)))
        turn = float(rng.uniform(40.0, 90.0) * rng.choice([-1.0, 1.0]))
        for k in _siblings(net, c) if two else [c]:
            dep.ant.az[k] = (dep.ant.az[k] + turn) % 360.0
            truth.azimuth[k] = turn
            truth.notes[k] = f"rotated {turn:+.0f} deg"
        truth.fault_sites[s] = "azimuth"
    return dep, gis, truth


# ---------------------------------------------------------------------------------------------
# truth on the true levels
# ---------------------------------------------------------------------------------------------


@dataclass
class Footprint:
    bins: np.ndarray  # B per cell
    traffic: np.ndarray  # T per cell
    deep: np.ndarray  # D per cell
    best_level: np.ndarray  # (n_bands, n_act)


def footprint(net: bs.Network, lev: np.ndarray, use: np.ndarray) -> Footprint:
    nb = net.n_cells
    bins = np.zeros(nb)
    traffic = np.zeros(nb)
    deep = np.zeros(nb)
    nearest = np.argmin(net.site_dist, axis=0)
    best_all = np.full((len(net.bands), net.n_act), bs.LEVEL_FLOOR)
    for b in range(len(net.bands)):
        cells = np.flatnonzero(net.cell_band == b)
        lb = lev[cells]
        arg = np.argmax(lb, axis=0)
        best = lb[arg, np.arange(net.n_act)]
        best_all[b] = best
        ok = use & (best >= BEST_MIN)
        bc = cells[arg]
        own = net.cell_site[bc]
        dist = net.site_dist[own, np.arange(net.n_act)]
        dp = ok & (dist > ROOT_DEEP * net.site_isd[own]) & (nearest != own)
        bins += np.bincount(bc[ok], minlength=nb)
        traffic += np.bincount(bc[ok], weights=net.act_events[ok], minlength=nb)
        deep += np.bincount(bc[dp], minlength=nb)
    return Footprint(bins, traffic, deep, best_all)


def over_delta(f: Footprint, t: Footprint) -> np.ndarray:
    return np.asarray((f.deep - t.deep) >= np.maximum(8.0, t.deep))


def over_absolute(f: Footprint) -> np.ndarray:
    return (f.deep >= 10) & (f.deep >= 0.3 * f.bins)


def under_shrink(f: Footprint, t: Footprint) -> np.ndarray:
    return (t.bins >= 6) & ((f.bins <= 0.6 * t.bins) | (f.traffic <= 0.6 * t.traffic))


def lenient_sets(
    net: bs.Network, truth: Truth, ff: Footprint, ft: Footprint
) -> tuple[np.ndarray, np.ndarray]:
    """Cells whose over (under) flag is accepted leniently; never cells carrying another fault."""
    members = [x for g in truth.groups for x, _ in g["perm"]]
    other = np.zeros(net.n_cells, dtype=bool)
    other[members + list(truth.azimuth)] = True
    not_under = ~other.copy()
    not_under[list(truth.under)] = False
    not_over = ~other
    not_over[list(truth.over)] = False
    len_over = (over_delta(ff, ft) | over_absolute(ff)) & not_under
    len_under = under_shrink(ff, ft) & not_over
    return len_over, len_under


def zone_rule(net: bs.Network, interfered: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Bins (active indices) in zones: >= 33 % of the 7x7 measured bins interfered, 8-conn >= 5."""
    gi = np.zeros((net.ny, net.nx))
    gm = np.zeros((net.ny, net.nx))
    gi[net.act_iy, net.act_ix] = interfered & measured
    gm[net.act_iy, net.act_ix] = measured
    k = np.ones((7, 7))
    si = ndimage.convolve(gi, k, mode="constant")
    sm = ndimage.convolve(gm, k, mode="constant")
    keep = (gi > 0) & (si >= 0.33 * np.maximum(sm, 1.0))
    lab, n = ndimage.label(keep, structure=np.ones((3, 3)))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = np.bincount(lab.ravel())
    good = sizes >= 5
    good[0] = False
    zmask = good[lab[net.act_iy, net.act_ix]]
    return np.flatnonzero(zmask & measured)


def interfered_true(net: bs.Network, lev: np.ndarray, best: np.ndarray) -> np.ndarray:
    out = np.zeros(net.n_act, dtype=bool)
    for b in range(len(net.bands)):
        cells = np.flatnonzero(net.cell_band == b)
        n = (lev[cells] >= best[b][None, :] - 5.0).sum(axis=0)
        out |= (n >= 4) & (best[b] > bs.LEVEL_FLOOR + 1)
    return out


def interfered_reported(net: bs.Network, m: bs.Measurement, pooled: bool) -> np.ndarray:
    grp = m.bin if pooled else m.bin * 4 + m.band_of_row
    order = np.lexsort((-m.rsrp, grp))
    g = grp[order]
    r = m.rsrp[order]
    start = np.r_[True, g[1:] != g[:-1]]
    idx = np.cumsum(start) - 1
    best = r[start][idx]
    close = np.bincount(idx, weights=(r >= best - 5.0).astype(float))
    gbin = m.bin[order][start]
    out = np.zeros(net.n_act, dtype=bool)
    np.logical_or.at(out, gbin, close >= 4)
    return out


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def write_inputs(net: bs.Network, gis: bs.Gis, m: bs.Measurement, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    gh = net.bin_geohash(m.bin)
    grid = pl.DataFrame(
        {
            "grid": gh,
            "global_cell_id": net.cell_id[m.cell],
            "avg_rsrp": np.round(m.rsrp, 2),
            "avg_rsrq": np.round(m.rsrq, 2),
            "avg_sinr": np.round(m.sinr, 2),
            "eventCount": m.count,
        }
    ).sort(["grid", "global_cell_id"])
    grid.write_csv(folder / "grid.csv")
    lat, lon = net.frame.to_latlon(net.site_x[net.cell_site], net.site_y[net.cell_site])
    cols: dict[str, Any] = {
        "Name": net.cell_name,
        "CILAC": net.cell_id,
        "Latitude": np.round(lat, 6),
        "Longitude": np.round(lon, 6),
        "Bearing": np.round(gis.az).astype(np.int64) % 360,
        "TiltE": np.round(gis.tilt_e, 1),
        "TiltM": np.round(gis.tilt_m, 1),
        "Height": np.round(gis.height, 0),
        "Band": [net.bands[b].name for b in net.cell_band],
        "EARFCN": [net.bands[b].earfcn for b in net.cell_band],
    }
    if net.with_beam_columns:
        cols["HBW"] = np.round(gis.hbw, 0)
        cols["VBW"] = np.round(gis.vbw, 1)
    pl.DataFrame(cols).write_csv(folder / "gis.csv")


def run_cli(exe: str, folder: Path) -> float:
    out = folder / "res"
    cmd = [
        exe,
        "ran",
        "recommend",
        "--grid",
        str(folder / "grid.csv"),
        "--gis",
        str(folder / "gis.csv"),
        "--out",
        str(out),
        "--json",
    ]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    dt = time.time() - t0
    if proc.returncode != 0:
        print(f"CLI FAILED (rc={proc.returncode}): {' '.join(cmd)}")
        print("--- stdout ---\n" + proc.stdout[-4000:])
        print("--- stderr ---\n" + proc.stderr[-4000:])
        sys.exit(2)
    return dt


@dataclass
class EngineOut:
    over: set[int]
    under: set[int]
    swap_rows: list[tuple[int, set[int], set[tuple[int, int]]]]  # cell, named cells, pairs
    check_az: set[int]
    actions: Counter[str]
    flagged: set[int]
    zone_bins: set[str]


def _to_int(v: Any) -> int | None:
    try:
        return int(float(str(v).strip()))
    except (TypeError, ValueError):
        return None


def read_engine(folder: Path, id2cell: dict[int, int]) -> EngineOut:
    res = folder / "res"
    eo = EngineOut(set(), set(), [], set(), Counter(), set(), set())
    rec = res / "recommendations.csv"
    if rec.exists() and rec.stat().st_size > 0:
        df = pl.read_csv(rec, infer_schema_length=0)
        for row in df.iter_rows(named=True):
            cid = _to_int(row.get("cell_id"))
            if cid is None or cid not in id2cell:
                continue
            c = id2cell[cid]
            issue = str(row.get("issue") or "").strip()
            action = str(row.get("action") or "").strip()
            eo.actions[action] += 1
            eo.flagged.add(c)
            if issue == "overshooting":
                eo.over.add(c)
            elif issue == "undershooting":
                eo.under.add(c)
            if action == "swap_feeders":
                pairs: set[tuple[int, int]] = set()
                named = {c}
                for tok in str(row.get("permutation") or "").split(","):
                    if "->" in tok:
                        a, b = (_to_int(x) for x in tok.split("->", 1))
                        if a in id2cell and b in id2cell:
                            pairs.add((id2cell[a], id2cell[b]))
                            named |= {id2cell[a], id2cell[b]}
                sw = _to_int(row.get("swap_with"))
                if sw is not None and sw in id2cell:
                    named.add(id2cell[sw])
                    if not pairs:
                        pairs = {(c, id2cell[sw]), (id2cell[sw], c)}
                eo.swap_rows.append((c, named, pairs))
            elif action == "check_azimuth":
                eo.check_az.add(c)
    zg = res / "interference_grids.csv"
    if zg.exists() and zg.stat().st_size > 0:
        z = pl.read_csv(zg, infer_schema_length=0)
        if "grid" in z.columns:
            eo.zone_bins = {str(g) for g in z["grid"].to_list() if g}
    return eo


# ---------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------


def iou(a: set[str], b: set[str]) -> float | None:
    u = a | b
    return None if not u else len(a & b) / len(u)


def score_network(
    net: bs.Network,
    truth: Truth,
    ff: Footprint,
    ft: Footprint,
    eo: EngineOut,
    et: EngineOut,
    zones: dict[str, set[str]],
    details: bool,
) -> Counter[str]:
    s: Counter[str] = Counter()
    eff_over = over_delta(ff, ft)
    eff_under = under_shrink(ff, ft)
    len_over, len_under = lenient_sets(net, truth, ff, ft)
    inj_o, inj_u = set(truth.over), set(truth.under)
    # overshooters
    s["o_flag"] += len(eo.over)
    s["o_tp"] += len(eo.over & inj_o)
    s["o_tp_len"] += sum(1 for c in eo.over if c in inj_o or len_over[c])
    for c, k in truth.over.items():
        s[f"o_inj:{k}"] += 1
        s[f"o_eff:{k}"] += int(eff_over[c])
        s[f"o_found:{k}"] += int(c in eo.over)
        s[f"o_found_eff:{k}"] += int(c in eo.over and eff_over[c])
    # undershooters
    s["u_flag"] += len(eo.under)
    s["u_tp"] += len(eo.under & inj_u)
    s["u_tp_len"] += sum(1 for c in eo.under if c in inj_u or len_under[c])
    for c, k in truth.under.items():
        s[f"u_inj:{k}"] += 1
        s[f"u_eff:{k}"] += int(eff_under[c])
        s[f"u_found:{k}"] += int(c in eo.under)
        s[f"u_found_eff:{k}"] += int(c in eo.under and eff_under[c])
    # feeders
    rep_pairs: set[tuple[int, int]] = set()
    for _c, _n, p in eo.swap_rows:
        rep_pairs |= p
    members: set[int] = set()
    for g in truth.groups:
        mem = {x for x, _ in g["perm"]}
        members |= mem
        exact = all(tuple(p) in rep_pairs for p in g["perm"])
        touched = any(c in mem for c, _n, _p in eo.swap_rows)
        wrong = any(
            (a in mem) and (a, b) not in {tuple(p) for p in g["perm"]} for a, b in rep_pairs
        )
        pre = "f_" + g["kind"]
        s[pre + "_n"] += 1
        s[pre + "_eff"] += int(g["effective"])
        s[pre + "_exact"] += int(exact)
        s[pre + "_exact_eff"] += int(exact and g["effective"])
        s[pre + "_touched"] += int(touched)
        s["f_wrong_perm"] += int(wrong)
        g["found_exact"] = exact
    az = set(truth.azimuth)
    s["f_rows"] += len(eo.swap_rows)
    s["f_false_rows"] += sum(1 for c, _n, _p in eo.swap_rows if c not in members)
    s["f_false_rows_az"] += sum(1 for c, _n, _p in eo.swap_rows if c in az)
    s["az_n"] += len(az)
    s["az_false_swap"] += sum(1 for c in az if any(c in n for _c, n, _p in eo.swap_rows))
    s["az_check"] += len(eo.check_az & az)
    s["check_az_other"] += len(eo.check_az - az)
    s["check_az_on_feeder"] += len(eo.check_az & members)
    # interference
    for key in ("true", "rep", "pooled"):
        if key in zones:
            inter = zones[key] & zones["engine"]
            s[f"z_{key}_inter"] += len(inter)
            s[f"z_{key}_union"] += len(zones[key] | zones["engine"])
    s["z_ref_inter"] += len(zones["true"] & zones["rep"])
    s["z_ref_union"] += len(zones["true"] | zones["rep"])
    # twin
    s["t_cells"] += net.n_cells
    s["t_flagged"] += len(et.flagged)
    for a, n in et.actions.items():
        s[f"t_act:{a}"] += n
    nat = over_absolute(ft)
    s["t_over_natural"] += int(nat.sum())
    s["t_over_flag_natural"] += sum(1 for c in et.over if nat[c])
    if details:
        print_details(
            net, truth, ff, ft, eo, et, (eff_over, len_over, eff_under, len_under), members, az
        )
    return s


def _label(net: bs.Network, c: int) -> str:
    return f"{net.cell_id[c]} {net.cell_name[c]}"


def _what(net: bs.Network, truth: Truth, c: int) -> str:
    if c in truth.over:
        return "injected overshooter " + truth.over[c]
    if c in truth.under:
        return "injected undershooter " + truth.under[c]
    if c in truth.azimuth:
        return f"azimuth error {truth.azimuth[c]:+.0f} deg"
    for g in truth.groups:
        if c in {x for x, _ in g["perm"]}:
            return f"crossed feeder ({g['kind']})"
    s = int(net.cell_site[c])
    near = [
        f"{truth.fault_sites[o]}@{net.site_name[o]}"
        for o in truth.fault_sites
        if o != s
        and math.hypot(net.site_x[s] - net.site_x[o], net.site_y[s] - net.site_y[o])
        < 1.6 * max(net.site_isd[s], net.site_isd[o])
    ]
    return "no fault" + (f" (near {', '.join(near)})" if near else "")


def print_details(
    net: bs.Network,
    truth: Truth,
    ff: Footprint,
    ft: Footprint,
    eo: EngineOut,
    et: EngineOut,
    masks: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    members: set[int],
    az: set[int],
) -> None:
    eff_over, len_over, eff_under, len_under = masks

    def fp(c: int) -> str:
        return (
            f"B {ft.bins[c]:.0f}->{ff.bins[c]:.0f} D {ft.deep[c]:.0f}->{ff.deep[c]:.0f} "
            f"T {ft.traffic[c]:.0f}->{ff.traffic[c]:.0f}"
        )

    print(f"  details {net.name}:")
    for c, k in sorted(truth.over.items()):
        if c not in eo.over:
            tag = "MISS(eff)" if eff_over[c] else "miss(ineff)"
            other = "; flagged " + ("under" if c in eo.under else "-")
            print(f"    over {tag} {_label(net, c)} {k} [{truth.notes.get(c, '')}] {fp(c)}{other}")
    for c in sorted(eo.over - set(truth.over)):
        ok = "lenient-ok" if len_over[c] else "FALSE"
        print(f"    over {ok} {_label(net, c)} is {_what(net, truth, c)} {fp(c)}")
    for c, k in sorted(truth.under.items()):
        if c not in eo.under:
            tag = "MISS(eff)" if eff_under[c] else "miss(ineff)"
            other = "; flagged " + ("over" if c in eo.over else "-")
            print(f"    under {tag} {_label(net, c)} {k} [{truth.notes.get(c, '')}] {fp(c)}{other}")
    for c in sorted(eo.under - set(truth.under)):
        ok = "lenient-ok" if len_under[c] else "FALSE"
        print(f"    under {ok} {_label(net, c)} is {_what(net, truth, c)} {fp(c)}")
    for g in truth.groups:
        if not g.get("found_exact"):
            perm = ",".join(f"{net.cell_id[a]}->{net.cell_id[b]}" for a, b in g["perm"])
            got = sorted(
                f"{net.cell_id[a]}->{net.cell_id[b]}"
                for _c, _n, p in eo.swap_rows
                for a, b in p
                if a in {x for x, _ in g["perm"]}
            )
            eff = "eff" if g["effective"] else "ineff"
            print(f"    feeder MISS({eff}) {g['kind']} {perm} offsets {g['offsets']} got {got}")
    for c, _n, p in eo.swap_rows:
        if c not in members:
            perm = ",".join(f"{net.cell_id[a]}->{net.cell_id[b]}" for a, b in p)
            print(f"    swap FALSE {_label(net, c)} is {_what(net, truth, c)} perm {perm}")
    for c in sorted(az):
        if c not in eo.check_az:
            print(f"    azimuth not checked {_label(net, c)} [{truth.notes.get(c, '')}]")
    for c in sorted(eo.check_az - az):
        print(f"    check_azimuth on {_label(net, c)} is {_what(net, truth, c)}")
    nat = over_absolute(ft)
    for c in sorted(et.flagged):
        acts = sorted(
            {"over" if c in et.over else "", "under" if c in et.under else ""} - {""}
        ) or ["swap/az"]
        extra = " (natural overshooter)" if nat[c] and c in et.over else ""
        print(
            f"    twin flag {'/'.join(acts)} {_label(net, c)}{extra} B {ft.bins[c]:.0f} D {ft.deep[c]:.0f}"
        )


# ---------------------------------------------------------------------------------------------
# reporting
# ---------------------------------------------------------------------------------------------


def _r(a: float, b: float) -> str:
    return "  n/a" if b == 0 else f"{a / b:5.2f}"


def report(title: str, s: Counter[str]) -> None:
    print(f"\n=== {title} ===")
    print(
        f"overshooters : flagged {s['o_flag']:3d}  P strict {_r(s['o_tp'], s['o_flag'])}  "
        f"P lenient {_r(s['o_tp_len'], s['o_flag'])}  "
        f"R eff {_r(sum(s[f'o_found_eff:{k}'] for k in OVER_KINDS), sum(s[f'o_eff:{k}'] for k in OVER_KINDS))}  "
        f"R all {_r(sum(s[f'o_found:{k}'] for k in OVER_KINDS), sum(s[f'o_inj:{k}'] for k in OVER_KINDS))}"
        "   [target P>=0.9 R>=0.8]"
    )
    for k in OVER_KINDS:
        if s[f"o_inj:{k}"]:
            print(
                f"   {k:22s} injected {s[f'o_inj:{k}']:3d} effective {s[f'o_eff:{k}']:3d}  "
                f"found eff {s[f'o_found_eff:{k}']:3d}/{s[f'o_eff:{k}']:<3d} "
                f"all {s[f'o_found:{k}']:3d}/{s[f'o_inj:{k}']}"
            )
    print(
        f"undershooters: flagged {s['u_flag']:3d}  P strict {_r(s['u_tp'], s['u_flag'])}  "
        f"P lenient {_r(s['u_tp_len'], s['u_flag'])}  "
        f"R eff {_r(sum(s[f'u_found_eff:{k}'] for k in UNDER_KINDS), sum(s[f'u_eff:{k}'] for k in UNDER_KINDS))}  "
        f"R all {_r(sum(s[f'u_found:{k}'] for k in UNDER_KINDS), sum(s[f'u_inj:{k}'] for k in UNDER_KINDS))}"
        "   [target P>=0.9 R>=0.8]"
    )
    for k in UNDER_KINDS:
        if s[f"u_inj:{k}"]:
            print(
                f"   {k:22s} injected {s[f'u_inj:{k}']:3d} effective {s[f'u_eff:{k}']:3d}  "
                f"found eff {s[f'u_found_eff:{k}']:3d}/{s[f'u_eff:{k}']:<3d} "
                f"all {s[f'u_found:{k}']:3d}/{s[f'u_inj:{k}']}"
            )
    n_g = s["f_pair_n"] + s["f_triple_n"]
    n_e = s["f_pair_eff"] + s["f_triple_eff"]
    ex = s["f_pair_exact"] + s["f_triple_exact"]
    ex_e = s["f_pair_exact_eff"] + s["f_triple_exact_eff"]
    print(
        f"crossed feeders: groups {n_g} (effective {n_e})  exact-permutation recall eff "
        f"{_r(ex_e, n_e)} all {_r(ex, n_g)}   [target >=0.95]"
    )
    print(
        f"   pairs {s['f_pair_exact']}/{s['f_pair_n']}  triples {s['f_triple_exact']}/{s['f_triple_n']}"
        f"  groups touched {s['f_pair_touched'] + s['f_triple_touched']}  wrong permutations "
        f"{s['f_wrong_perm']}  swap rows {s['f_rows']}, on cells outside truth groups "
        f"{s['f_false_rows']} (of which azimuth-error cells {s['f_false_rows_az']})"
    )
    print(
        f"azimuth errors: {s['az_n']}  named in a swap row (false swap) {s['az_false_swap']}  "
        f"check_azimuth {s['az_check']}/{s['az_n']}  check_azimuth elsewhere "
        f"{s['check_az_other']} (on feeder members {s['check_az_on_feeder']})"
    )
    for key, name in (("true", "true levels"), ("rep", "reported levels"), ("pooled", "pooled")):
        if s[f"z_{key}_union"] or key != "pooled":
            print(
                f"interference IoU vs rule on {name:15s}: "
                f"{_r(s[f'z_{key}_inter'], s[f'z_{key}_union'])}   [target >=0.7]"
            )
    print(
        f"   (reference: IoU between the two truth rules {_r(s['z_ref_inter'], s['z_ref_union'])})"
    )
    report_changes(s)
    report_next_cycle(s)
    acts = ", ".join(
        f"{k.split(':', 1)[1]} {100.0 * v / max(s['t_cells'], 1):.2f}"
        for k, v in sorted(s.items())
        if k.startswith("t_act:")
    )
    print(
        f"fault-free twin: {100.0 * s['t_flagged'] / max(s['t_cells'], 1):.2f} flagged cells per "
        f"100 ({s['t_flagged']}/{s['t_cells']}; rows per 100 by action: {acts or 'none'})  "
        f"[target <=1]; natural overshooters by the absolute criterion {s['t_over_natural']}, "
        f"flagged {s['t_over_flag_natural']}"
    )


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def network_stats(net: bs.Network, m: bs.Measurement) -> str:
    nb = np.unique(m.bin).size
    order = np.lexsort((m.rsrp, m.bin))
    last = np.r_[m.bin[order][1:] != m.bin[order][:-1], True]
    best = m.rsrp[order][last]
    p = np.percentile
    isd = p(net.site_isd, [10, 50, 90])
    br = p(best, [10, 50, 90])
    per_band = ""
    if len(net.bands) > 1:
        per_band = (
            " ("
            + ", ".join(
                f"{bd.name} {np.sum(m.band_of_row == b) / max(np.unique(m.bin[m.band_of_row == b]).size, 1):.1f}"
                for b, bd in enumerate(net.bands)
            )
            + ")"
        )
    return (
        f"sites {net.n_sites} cells {net.n_cells} bins {nb} rows {m.bin.size} "
        f"events {m.events} | ISD p10/50/90 {isd[0]:.0f}/{isd[1]:.0f}/{isd[2]:.0f} m | "
        f"best-server RSRP p10/50/90 {br[0]:.0f}/{br[1]:.0f}/{br[2]:.0f} dBm | "
        f"cells/bin {m.bin.size / nb:.1f}{per_band}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed-base", type=int, default=0)
    ap.add_argument("--variants", nargs="+", default=list(bs.VARIANTS), choices=list(bs.VARIANTS))
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--details", action="store_true")
    ap.add_argument("--small", action="store_true", help="half-size networks (debugging)")
    ap.add_argument("--opsforge", default=None, help="path of the opsforge executable")
    ap.add_argument(
        "--traffic-sd",
        type=float,
        default=0.0,
        help="vary the baseline and next-cycle weeks' traffic per bin (log-normal sigma)",
    )
    args = ap.parse_args()
    exe = args.opsforge or str(Path(sys.executable).parent / "opsforge")
    if not Path(exe).exists():
        exe = shutil.which("opsforge") or exe
    t_start = time.time()
    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="ran_blind_")
        base = Path(tmp.name)
    else:
        base = args.keep
        base.mkdir(parents=True, exist_ok=True)
    per_var: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        for variant in args.variants:
            for k in range(args.seeds):
                seed = args.seed_base + k
                t0 = time.time()
                net = bs.build_network(variant, seed, size=0.5 if args.small else 1.0)
                rng = np.random.default_rng([seed, 4242, len(variant)])
                dep_f, gis_f, truth = inject_faults(net, rng)
                lev_t = net.levels(net.deployed)
                lev_f = net.levels(dep_f)
                m_t = net.measure(lev_t)
                m_f = net.measure(lev_f)
                measured = np.zeros(net.n_act, dtype=bool)
                measured[m_f.bin] = True
                ff = footprint(net, lev_f, measured)
                ft = footprint(net, lev_t, measured)
                zb_true = zone_rule(net, interfered_true(net, lev_f, ff.best_level), measured)
                zb_rep = zone_rule(net, interfered_reported(net, m_f, pooled=False), measured)
                zones: dict[str, set[str]] = {
                    "true": set(net.bin_geohash(zb_true).tolist()),
                    "rep": set(net.bin_geohash(zb_rep).tolist()),
                }
                if len(net.bands) > 1:
                    zb_p = zone_rule(net, interfered_reported(net, m_f, pooled=True), measured)
                    zones["pooled"] = set(net.bin_geohash(zb_p).tolist())
                folder = base / net.name
                write_inputs(net, gis_f, m_f, folder / "faulty")
                write_inputs(net, net.gis, m_t, folder / "twin")
                t_sim = time.time() - t0
                dt_f = run_cli(exe, folder / "faulty")
                dt_t = run_cli(exe, folder / "twin")
                id2cell = {int(c): i for i, c in enumerate(net.cell_id)}
                eo = read_engine(folder / "faulty", id2cell)
                et = read_engine(folder / "twin", id2cell)
                zones["engine"] = eo.zone_bins
                eff_o = over_delta(ff, ft)
                eff_u = under_shrink(ff, ft)
                print(f"\n[{net.name}] {network_stats(net, m_f)}")
                print(
                    f"  faults: over {len(truth.over)} (effective "
                    f"{sum(int(eff_o[c]) for c in truth.over)}), under {len(truth.under)} "
                    f"(effective {sum(int(eff_u[c]) for c in truth.under)}), feeder groups "
                    f"{len(truth.groups)} (effective {sum(g['effective'] for g in truth.groups)}),"
                    f" azimuth {len(truth.azimuth)}"
                )
                i_t = iou(zones["true"], eo.zone_bins)
                i_r = iou(zones["rep"], eo.zone_bins)
                print(
                    f"  zone bins: true-level rule {len(zones['true'])}, reported rule "
                    f"{len(zones['rep'])}, engine {len(eo.zone_bins)}; engine IoU "
                    f"{'n/a' if i_t is None else f'{i_t:.2f}'} / "
                    f"{'n/a' if i_r is None else f'{i_r:.2f}'}"
                )
                print(
                    f"  sim {t_sim:.1f} s, engine faulty {dt_f:.1f} s, twin {dt_t:.1f} s; "
                    f"flagged faulty {len(eo.flagged)} (over {len(eo.over)}, under "
                    f"{len(eo.under)}, swap rows {len(eo.swap_rows)}, check_az "
                    f"{len(eo.check_az)}), twin {len(et.flagged)}"
                )
                sc = score_network(net, truth, ff, ft, eo, et, zones, args.details)
                # change detection: the fault-free network measured another week (independent
                # event draws) is the baseline of `opsforge ran compare`
                write_inputs(
                    net, net.gis, net.measure(lev_t, draw=1, traffic_sd=args.traffic_sd),
                    folder / "baseline",
                )  # fmt: skip
                run_cli(exe, folder / "baseline")
                sc += score_changes(exe, net, truth, ff, ft, folder, id2cell, args.details)
                sc += score_next_cycle(exe, net, truth, dep_f, gis_f, measured, ff, ft, folder,
                                       id2cell, args.details, args.traffic_sd)  # fmt: skip
                per_var[variant] += sc
                if args.keep is not None:
                    dump_truth(net, truth, ff, ft, zones, folder / "truth.json")
        total: Counter[str] = Counter()
        for v in args.variants:
            report(f"{v} ({args.seeds} network{'s' if args.seeds > 1 else ''})", per_var[v])
            total += per_var[v]
        if len(args.variants) > 1:
            report("ALL", total)
        print(f"\ntotal time {time.time() - t_start:.0f} s")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


ALERTS = ("footprint_grew", "footprint_shrank", "no_measurements_after")


def run_compare(
    exe: str, before: Path, after: Path, out: Path, only: tuple[str, ...] | None = ALERTS
) -> dict[int, str]:
    """``opsforge ran compare``; cell id -> verdict (of the verdicts in ``only``; all: None)."""
    cmd = [exe, "ran", "compare", "--before", str(before), "--after", str(after), "--out",
           str(out), "--json"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"CLI FAILED (rc={proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-4000:]}")
        sys.exit(2)
    frame = pl.read_csv(out)
    if only is not None:
        frame = frame.filter(pl.col("verdict").is_in(only))
    return dict(zip(frame["cell_id"].to_list(), frame["verdict"].to_list(), strict=True))


def score_changes(
    exe: str,
    net: bs.Network,
    truth: Truth,
    ff: Footprint,
    ft: Footprint,
    folder: Path,
    id2cell: dict[int, int],
    details: bool,
) -> Counter[str]:
    """Alerts of ``opsforge ran compare`` against the baseline week: on the faulty network
    (recall of the effective faults, precision over cells that carry a fault or are lenient
    over/undershooters) and on the fault-free twin (false alarms per 100 cells)."""
    s: Counter[str] = Counter()
    base = folder / "baseline" / "res"
    alerts = {id2cell[c]: v for c, v in run_compare(
        exe, base, folder / "faulty" / "res", folder / "changes_faulty.csv").items()}  # fmt: skip
    quiet = run_compare(exe, base, folder / "twin" / "res", folder / "changes_twin.csv")
    eff_o, eff_u = over_delta(ff, ft), under_shrink(ff, ft)
    len_o, len_u = lenient_sets(net, truth, ff, ft)
    members = {x for g in truth.groups for x, _ in g["perm"]}
    injected = set(truth.over) | set(truth.under) | members | set(truth.azimuth)
    for c in (c for c in truth.over if eff_o[c]):
        s["c_over_eff"] += 1
        s["c_over_found"] += alerts.get(c) == "footprint_grew"
    for c in (c for c in truth.under if eff_u[c]):
        s["c_under_eff"] += 1
        s["c_under_found"] += alerts.get(c) == "footprint_shrank"
    for c in members | set(truth.azimuth):
        s["c_feeder_n"] += 1
        s["c_feeder_found"] += c in alerts
    for c, verdict in alerts.items():
        s["c_alerts"] += 1
        s["c_alert_injected"] += c in injected
        ok = c in injected or bool(len_o[c]) or bool(len_u[c])
        s["c_alert_lenient"] += ok
        if details and not ok:
            print(
                f"    change alert on a healthy cell {net.cell_id[c]} {net.cell_name[c]} {verdict}"
            )
    s["c_twin_alerts"] += len(quiet)
    s["c_twin_cells"] += net.n_cells
    return s


def score_next_cycle(
    exe: str,
    net: bs.Network,
    truth: Truth,
    dep_f: bs.Deployed,
    gis_f: bs.Gis,
    measured: np.ndarray,
    ff: Footprint,
    ft: Footprint,
    folder: Path,
    id2cell: dict[int, int],
    details: bool,
    traffic_sd: float,
) -> Counter[str]:
    """Apply the faulty run's tilt advice in the simulator (RET and, where proposed, the
    mechanical rest; a mechanical change moves every carrier of the panel), record it in the
    GIS, measure the next week (independent draws), run the engine and ``compare``.

    Scores, on the true levels: of the applied downtilts on effective overshooters, how many
    at least halved the cell's excess deep bins over its fault-free twin; of the applied
    uptilts on effective undershooters, how many regained at least a quarter of the lost
    best-server bins; of the applied changes on cells without a fault, how many lost 40 % of
    their best-server bins. And whether ``compare`` called each applied change on a fault
    moved (effective / partial) exactly when the truth says it moved."""
    s: Counter[str] = Counter()
    recs = pl.read_csv(folder / "faulty" / "res" / "recommendations.csv").filter(
        pl.col("action").is_in(["downtilt", "uptilt"])
    )
    dep, gis = dep_f.copy(), gis_f.copy()
    applied: dict[int, str] = {}
    panels: set[tuple[int, int]] = set()  # one bracket per panel, however many carriers ask
    for r in recs.iter_rows(named=True):
        c = id2cell[int(r["cell_id"])]
        de = float(r["proposed_tilt_e_deg"]) - float(r["current_tilt_e_deg"])
        dm = float(r["proposed_tilt_m_deg"]) - float(r["current_tilt_m_deg"])
        dep.ant.tilt_e[c] += de
        gis.tilt_e[c] += de
        panel = (int(net.cell_site[c]), int(net.cell_sector[c]))
        if dm and panel not in panels:
            panels.add(panel)
            for k in _siblings(net, c):
                dep.ant.tilt_m[k] += dm
                gis.tilt_m[k] += dm
        applied[c] = str(r["action"])
    lev = net.levels(dep)
    write_inputs(net, gis, net.measure(lev, draw=2, traffic_sd=traffic_sd), folder / "next")
    run_cli(exe, folder / "next")
    verdicts = run_compare(exe, folder / "faulty" / "res", folder / "next" / "res",
                           folder / "changes_next.csv", only=None)  # fmt: skip
    verdict = {id2cell[c]: v for c, v in verdicts.items()}
    fn = footprint(net, lev, measured)
    eff_o, eff_u = over_delta(ff, ft), under_shrink(ff, ft)
    for c, action in applied.items():
        moved_said = verdict.get(c) in ("effective", "partial")
        if details:
            kind = truth.over.get(c) or truth.under.get(c) or "no tilt fault"
            print(
                f"    next cycle {net.cell_id[c]} {net.cell_name[c]} {action} ({kind}): true bins "
                f"twin/faulty/next {ft.bins[c]:.0f}/{ff.bins[c]:.0f}/{fn.bins[c]:.0f}, deep "
                f"{ft.deep[c]:.0f}/{ff.deep[c]:.0f}/{fn.deep[c]:.0f}; compare: {verdict.get(c)}"
            )
        if action == "downtilt" and c in truth.over and eff_o[c]:
            excess_f, excess_n = ff.deep[c] - ft.deep[c], fn.deep[c] - ft.deep[c]
            fixed = bool(excess_n <= 0.5 * excess_f)
            s["n_over_applied"] += 1
            s["n_over_fixed"] += fixed
        elif action == "uptilt" and c in truth.under and eff_u[c]:
            fixed = bool(fn.bins[c] - ff.bins[c] >= 0.25 * max(ft.bins[c] - ff.bins[c], 1.0))
            s["n_under_applied"] += 1
            s["n_under_fixed"] += fixed
        elif c not in truth.over and c not in truth.under:
            s["n_healthy_applied"] += 1
            s["n_healthy_shrunk"] += bool(fn.bins[c] <= 0.6 * ff.bins[c])
            continue
        else:
            continue
        s["n_verdict"] += 1
        s["n_verdict_agree"] += moved_said == fixed
    return s


def report_next_cycle(s: Counter[str]) -> None:
    print(
        f"next cycle (the tilt advice applied, measured again): downtilts on effective "
        f"overshooters that halved the excess deep bins {s['n_over_fixed']}/{s['n_over_applied']},"
        f" uptilts on effective undershooters that regained >= 25 % of the lost bins "
        f"{s['n_under_fixed']}/{s['n_under_applied']}; changes on cells without a tilt fault "
        f"that lost >= 40 % of their bins {s['n_healthy_shrunk']}/{s['n_healthy_applied']}; "
        f"compare's effective/partial vs that truth agree {s['n_verdict_agree']}/{s['n_verdict']}"
    )


def report_changes(s: Counter[str]) -> None:
    print(
        f"change alerts vs a fault-free baseline week: {s['c_alerts']} alerts, on injected "
        f"faults {_r(s['c_alert_injected'], s['c_alerts'])}, lenient "
        f"{_r(s['c_alert_lenient'], s['c_alerts'])}; footprint_grew on effective overshooters "
        f"{s['c_over_found']}/{s['c_over_eff']}, footprint_shrank on effective undershooters "
        f"{s['c_under_found']}/{s['c_under_eff']}, any alert on feeder/azimuth cells "
        f"{s['c_feeder_found']}/{s['c_feeder_n']}; fault-free twin "
        f"{100.0 * s['c_twin_alerts'] / max(s['c_twin_cells'], 1):.2f} alerts per 100 cells "
        f"({s['c_twin_alerts']}/{s['c_twin_cells']})"
    )


def dump_truth(
    net: bs.Network,
    truth: Truth,
    ff: Footprint,
    ft: Footprint,
    zones: dict[str, set[str]],
    path: Path,
) -> None:
    eff_o = over_delta(ff, ft)
    eff_u = under_shrink(ff, ft)
    len_o, len_u = lenient_sets(net, truth, ff, ft)

    def cell(c: int) -> dict[str, Any]:
        return {
            "cell_id": int(net.cell_id[c]),
            "name": net.cell_name[c],
            "note": truth.notes.get(c, ""),
            "bins_twin": int(ft.bins[c]),
            "bins_faulty": int(ff.bins[c]),
            "deep_twin": int(ft.deep[c]),
            "deep_faulty": int(ff.deep[c]),
        }

    out = {
        "network": net.name,
        "criteria": {
            "deep_bin": f"best-server bin farther than {ROOT_DEEP} x site ISD and nearer another site",
            "effective_over": "deep_faulty - deep_twin >= max(8, deep_twin)",
            "lenient_over": "effective_over or (deep >= 10 and deep >= 0.3 bins); no other fault",
            "effective_under": "bins_twin >= 6 and (bins or traffic <= 0.6 x twin)",
            "lenient_under": "effective_under on any cell carrying no other fault",
        },
        "overshooters": [
            {**cell(c), "kind": k, "effective": bool(eff_o[c])} for c, k in truth.over.items()
        ],
        "undershooters": [
            {**cell(c), "kind": k, "effective": bool(eff_u[c])} for c, k in truth.under.items()
        ],
        "crossed_feeders": [
            {
                "kind": g["kind"],
                "site": net.site_name[g["site"]],
                "permutation": ",".join(
                    f"{net.cell_id[a]}->{net.cell_id[b]}" for a, b in g["perm"]
                ),
                "offsets_deg": g["offsets"],
                "effective": g["effective"],
            }
            for g in truth.groups
        ],
        "azimuth_errors": [{**cell(c), "rotation_deg": r} for c, r in truth.azimuth.items()],
        "lenient_over_cells": [int(net.cell_id[c]) for c in np.flatnonzero(len_o)],
        "lenient_under_cells": [int(net.cell_id[c]) for c in np.flatnonzero(len_u)],
        "zones_true_levels": sorted(zones["true"]),
        "zones_reported_rule": sorted(zones["rep"]),
    }
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
