"""Detection quality of the RAN engine on synthetic networks with injected faults.

Runs :func:`opsforge.engines.ran.recommend` with default parameters on several seeds, network
sizes, inter-site distances and shadowing sigmas, and prints per scenario and overall:

- over/undershooters precision and recall. A cell counts as flagged for an issue when it has a
  recommendation with that issue, or a conflict row with that issue (detected, but dropped or
  clipped by the conflict rules), unless it carries a crossed-feeder recommendation; the same
  figures counting recommendations only (what ``recommendations.csv`` holds) follow;
- crossed-feeder group recall (pairs and three-way separately): a group counts only when every
  member's ``permutation`` mapping is right; wrong mappings are counted;
- ``check_azimuth`` against injected single-antenna azimuth errors (not swaps);
- interference-zone IoU on bins (``interference_grids`` vs injected cluster bins);
- flagged cells per 100 cells on the same networks without faults.

Usage: ``.venv/bin/python benchmarks/ran_quality.py [--quick]``
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import polars as pl

from opsforge.engines.ran import RanParams, RanResult, SimulationConfig, recommend, simulate_network

SCENARIOS: dict[str, dict[str, object]] = {
    "suburban isd1500 s8": {},
    "urban isd1000 s8": {"isd_m": 1000.0, "environment": "urban", "p_re_dbm": 36.0},
    "rural isd3000 s8": {"isd_m": 3000.0, "environment": "rural"},
    "suburban isd2000 s10": {"isd_m": 2000.0, "shadowing_sigma_db": 10.0},
    "150 sites isd1500 s6": {
        "num_sites": 150,
        "shadowing_sigma_db": 6.0,
        "azimuth_error_fraction": 0.01,
    },
}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, found: set[int], truth: set[int]) -> None:
        self.tp += len(found & truth)
        self.fp += len(found - truth)
        self.fn += len(truth - found)

    def text(self) -> str:
        p = self.tp / max(self.tp + self.fp, 1)
        r = self.tp / max(self.tp + self.fn, 1)
        return f"precision {p:.3f} recall {r:.3f} (tp {self.tp} fp {self.fp} fn {self.fn})"


@dataclass
class Totals:
    over: Tally = field(default_factory=Tally)
    under: Tally = field(default_factory=Tally)
    over_recs: Tally = field(default_factory=Tally)  # recommendations only (after conflicts)
    under_recs: Tally = field(default_factory=Tally)
    pairs_ok: int = 0
    pairs: int = 0
    three_ok: int = 0
    three: int = 0
    wrong_maps: int = 0
    iou_inter: int = 0
    iou_union: int = 0
    clean_flagged: int = 0
    clean_cells: int = 0
    azimuth: Tally = field(default_factory=Tally)


def flagged(result: RanResult, issue: str, with_conflicts: bool = True) -> set[int]:
    recs = result.recommendations
    feeder = set(recs.filter(pl.col("issue") == "crossed_feeder")["cell_id"].to_list())
    cells = set(recs.filter(pl.col("issue") == issue)["cell_id"].to_list())
    if with_conflicts:
        cells |= set(result.conflicts.filter(pl.col("issue") == issue)["cell_id"].to_list())
    return cells - feeder


def mappings(result: RanResult) -> set[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    perms = result.recommendations.filter(pl.col("action") == "swap_feeders")["permutation"]
    for perm in perms.unique().to_list():
        for item in perm.split(","):
            src, dst = item.split("->")
            out.add((int(src), int(dst)))
    return out


def run_one(cfg: SimulationConfig, seed: int, tot: Totals) -> str:
    net = simulate_network(cfg, seed)
    res = recommend(net.grid, net.gis, RanParams())
    tot.over.add(flagged(res, "overshooting"), net.truth.overshooters)
    tot.under.add(flagged(res, "undershooting"), net.truth.undershooters)
    tot.over_recs.add(flagged(res, "overshooting", False), net.truth.overshooters)
    tot.under_recs.add(flagged(res, "undershooting", False), net.truth.undershooters)
    maps = mappings(res)
    truth_maps: set[tuple[int, int]] = set()
    for group in net.truth.crossed_feeders:
        n = len(group)
        # cell i carries cell i+1's feeder: cell i+1's signal leaves through cell i's antenna
        need = {(group[(i + 1) % n], group[i]) for i in range(n)}
        truth_maps |= need
        ok = need <= maps
        if n == 2:
            tot.pairs += 1
            tot.pairs_ok += ok
        else:
            tot.three += 1
            tot.three_ok += ok
    tot.wrong_maps += len(maps - truth_maps)
    check = set(
        res.recommendations.filter(pl.col("action") == "check_azimuth")["cell_id"].to_list()
    )
    tot.azimuth.add(check, net.truth.azimuth_errors)
    det = set(res.interference_grids["grid"].to_list())
    tot.iou_inter += len(det & net.truth.interference_grids)
    tot.iou_union += len(det | net.truth.interference_grids)
    clean = simulate_network(cfg.faultless(), seed)
    cres = recommend(clean.grid, clean.gis, RanParams())
    n_flag = len(
        set(cres.recommendations["cell_id"].to_list()) | set(cres.conflicts["cell_id"].to_list())
    )
    tot.clean_flagged += n_flag
    tot.clean_cells += clean.gis.height
    return f"cells {net.gis.height} bins {res.summary['num_bins']} clean-flagged {n_flag}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 4")
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    seeds = range(1, 3 if args.quick else args.seeds + 1)
    grand = Totals()
    started = time.perf_counter()
    for name, knobs in SCENARIOS.items():
        tot = Totals()
        cfg = SimulationConfig(**knobs)  # type: ignore[arg-type]
        for seed in seeds:
            info = run_one(cfg, seed, tot)
        _report(name, tot)
        _merge(grand, tot)
        print(f"    last run: {info}")
    print("=" * 100)
    _report(f"ALL ({len(SCENARIOS)} scenarios x {len(seeds)} seeds)", grand)
    print(f"wall time {time.perf_counter() - started:.1f} s")


def _merge(into: Totals, part: Totals) -> None:
    for name in ("over", "under", "over_recs", "under_recs", "azimuth"):
        a, b = getattr(into, name), getattr(part, name)
        a.tp, a.fp, a.fn = a.tp + b.tp, a.fp + b.fp, a.fn + b.fn
    for name in (
        "pairs_ok",
        "pairs",
        "three_ok",
        "three",
        "wrong_maps",
        "iou_inter",
        "iou_union",
        "clean_flagged",
        "clean_cells",
    ):
        setattr(into, name, getattr(into, name) + getattr(part, name))


def _report(name: str, t: Totals) -> None:
    print(f"[{name}]")
    print(f"  overshooters  {t.over.text()}")
    print(f"  undershooters {t.under.text()}")
    print(f"  in recommendations only (after the conflict rules): over {t.over_recs.text()}")
    print(f"  {'':<51}under {t.under_recs.text()}")
    print(
        f"  crossed feeders: pairs {t.pairs_ok}/{t.pairs} recall {t.pairs_ok / max(t.pairs, 1):.3f}, "
        f"three-way {t.three_ok}/{t.three} recall {t.three_ok / max(t.three, 1):.3f}, wrong mappings {t.wrong_maps}"
    )
    print(f"  check_azimuth vs injected single azimuth errors: {t.azimuth.text()}")
    print(f"  interference IoU (bins) {t.iou_inter / max(t.iou_union, 1):.3f}")
    print(
        f"  fault-free: {t.clean_flagged} flagged of {t.clean_cells} cells = "
        f"{100.0 * t.clean_flagged / max(t.clean_cells, 1):.2f} per 100"
    )


if __name__ == "__main__":
    main()
