"""Detector parameter blocks of the RAN optimizer (seed 000), one per detector.

Seed 000's parameter names are kept; names that carry a unit get the unit as a suffix here
(``min_cell_distance_m``) and the seed's bare name stays accepted as an alias
(``min_cell_distance``). Fractions are in [0, 1] (``0.1`` means 10 %). Every parameter is
documented with its exact meaning in ``docs/engines/ran.md``; :mod:`.model` assembles the blocks
into :class:`.model.RanParams`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "STRICT",
    "ChangeParams",
    "ConflictParams",
    "CrossedFeederParams",
    "ImpactParams",
    "InterferenceParams",
    "OvershooterParams",
    "UndershooterParams",
]

STRICT = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class _Params(BaseModel):
    """Base of the parameter blocks: accepts seed 000's unit-less names as aliases."""

    model_config = STRICT
    #: Seed name -> canonical name with a unit suffix.
    seed_aliases: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _accept_seed_names(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            out = dict(data)
            for seed_name, name in cls.seed_aliases.items():
                if seed_name in out:
                    if name in out:
                        raise ValueError(f"give either {seed_name!r} or {name!r}, not both")
                    out[name] = out.pop(seed_name)
            return out
        return data


class OvershooterParams(_Params):
    """Overshooting detection: a cell dominates deep inside other sites' areas, and physics
    explains it (it is received above the network's RSRP-vs-distance relation, or its recorded
    tilt is flatter than its neighbourhood's).

    ``isd_m`` of a site is the median distance to its ``num_reference_sites`` nearest other
    sites. An *overshooting bin* of cell ``c`` is a bin where ``c`` is best server, farther than
    its expected reach ``R = reach_isd_factor x isd_m`` from its site, and lying in another
    site's own area: the nearest other site ``s`` is within ``neighbour_isd_factor x isd_m(s)``
    (the ISD of the site whose area it is, so a town cell shooting into rural land is judged
    against the rural spacing) and at most ``past_site_ratio`` x the bin's distance from ``c``'s
    site (the bin lies beyond ``s`` as seen from ``c``). A cell is flagged when

    1. it has enough overshooting bins (see ``min_overshooting_cell_share``), carrying at least
       ``min_overshooting_traffic_share`` of its best-server traffic and ``edge_traffic_percent``
       of its edge traffic, and
    2. physics supports it, any of: the median RSRP surplus of its overshooting bins over the
       network's RSRP-vs-distance median is at least ``min_dominance_surplus_db``; the median
       surplus of all its reported far main-lobe rows (beyond ``R``, within half the horizontal
       beamwidth) is at least ``min_far_lobe_surplus_db``; or its recorded tilt gives it at least
       ``min_predicted_far_gain_db`` more vertical-pattern gain at ``R`` than the median tilt of
       its neighbourhood. Dominance alone is not enough: shadowing lets normal cells win scattered
       far bins. The tilt evidence alone needs ``predicted_evidence_support_factor`` x the bins
       (unless its gain is at least ``strong_predicted_far_gain_db``); or
    3. its footprint is *displaced*: the overshooting bins carry ``displaced_traffic_share`` of
       its traffic, number ``displaced_support_factor`` x the bins needed, and are received
       ``displaced_dominance_surplus_db`` above the relation (or the tilt is flatter); or
    4. *site-wide*: another cell of its site is flagged by 1-3, and it has the bins needed,
       ``site_wide_traffic_factor`` x the traffic share and a dominance surplus of at least
       ``site_wide_dominance_surplus_db``.
    """

    seed_aliases: ClassVar[dict[str, str]] = {"min_cell_distance": "min_cell_distance_m"}

    #: Minimum overshooting traffic, as a share of the cell's *edge* traffic: eventCount of its
    #: best-server bins farther than ``percent_max_distance`` x its max best-server distance
    #: (overshooting bins always count as edge). [1]
    edge_traffic_percent: float = Field(0.1, ge=0.0, le=1.0)
    #: Expected reach of a cell whose site has no other site to measure an ISD against (a
    #: one-site network). No longer a cap on ``R``: rural cells legitimately reach beyond 5 km,
    #: and a cap made them overshooters. [m]
    min_cell_distance_m: float = Field(5000.0, gt=0.0)
    #: Start of a cell's edge, as a share of its max best-server distance; also the downtilt
    #: target as a share of today's reach. [1]
    percent_max_distance: float = Field(0.7, gt=0.0, le=1.0)
    #: Number of overshooting bins that always suffices for a flag. [1]
    min_overshooting_grids: int = Field(50, ge=1)
    #: The bin count needed is ``min(min_overshooting_grids, min_overshooting_cell_share x median
    #: best-server bins per cell of the network)``, so small-ISD networks are judged fairly. [1]
    min_overshooting_cell_share: float = Field(0.25, gt=0.0)
    #: Floor of the bin count needed. [1]
    min_overshooting_grids_floor: int = Field(5, ge=1)
    #: Minimum overshooting traffic as a share of the cell's best-server traffic. [1]
    min_overshooting_traffic_share: float = Field(0.05, ge=0.0, le=1.0)
    #: Expected reach as a multiple of the cell's own local inter-site distance. [1]
    reach_isd_factor: float = Field(1.5, gt=0.0)
    #: A bin is inside site s's area when s is within this multiple of s's own ISD. [1]
    neighbour_isd_factor: float = Field(0.7, gt=0.0)
    #: ... and s is at most this share of the bin's distance from the overshooting cell. [1]
    past_site_ratio: float = Field(0.5, gt=0.0, le=1.0)
    #: Number of nearest other sites whose median distance is the local ISD (all detectors). [1]
    num_reference_sites: int = Field(3, ge=1)
    #: Physics (any one): median surplus of the overshooting bins over the network's
    #: RSRP-vs-distance median (main-lobe rows, 0.05-decade distance buckets). [dB]
    min_dominance_surplus_db: float = Field(9.0)
    #: ... median surplus of all the cell's far main-lobe rows over that median. [dB]
    min_far_lobe_surplus_db: float = Field(3.0)
    #: ... vertical-pattern gain at ``R`` of the recorded tilt over the median tilt of the
    #: ``neighbourhood_sites`` nearest sites (own included). [dB]
    min_predicted_far_gain_db: float = Field(2.0)
    neighbourhood_sites: int = Field(7, ge=1)
    #: Second way to be flagged, for cells whose far signal is so strong that they compete
    #: without winning many bins (network edges, small neighbours): far main-lobe surplus of at
    #: least this, while within ``competing_margin_db`` of the best (first or second strongest)
    #: in enough bins beyond ``R`` inside other sites' areas. [dB]
    min_far_surplus_db: float = Field(12.0)
    competing_margin_db: float = Field(6.0, ge=0.0)
    #: Support-aware evidence. A flatter tilt alone is a prediction from the GIS, not a
    #: measurement (healthy low-tilt cells have it too): it needs this multiple of the bins
    #: needed. [1]
    predicted_evidence_support_factor: float = Field(1.5, ge=1.0)
    #: ... unless the predicted gain is at least this (about half a vertical beamwidth of tilt
    #: difference near the horizon: a mis-set tilt, not planning spread); then the bins needed
    #: suffice. [dB]
    strong_predicted_far_gain_db: float = Field(4.0)
    #: A *displaced footprint*, overshooting bins carrying at least this share of the cell's
    #: best-server traffic, is strong evidence by itself ... [1]
    displaced_traffic_share: float = Field(0.2, gt=0.0, le=1.0)
    #: ... so this multiple of the bins needed suffices ... [1]
    displaced_support_factor: float = Field(0.7, gt=0.0, le=1.0)
    #: ... when those bins are received at least this far above the network's
    #: RSRP-vs-distance median, or the tilt is flatter than the neighbourhood's. [dB]
    displaced_dominance_surplus_db: float = Field(7.0)
    #: *Site-wide overshoot*: on a site where another cell is flagged by the rules above (a
    #: site higher above its surroundings than the GIS says - a hill, a rooftop - makes every
    #: sector overshoot), a cell with the bins needed and overshooting traffic of at least this
    #: multiple of ``min_overshooting_traffic_share`` ... [1]
    site_wide_traffic_factor: float = Field(0.5, gt=0.0, le=1.0)
    #: ... received at least this far above the network's RSRP-vs-distance median is flagged
    #: too. [dB]
    site_wide_dominance_surplus_db: float = Field(4.5)


class UndershooterParams(_Params):
    """Undershooting detection: too much downtilt, confirmed by a measured shortfall.

    *Predicted excess*: the 3GPP vertical pattern's loss, at the depression angle of a point
    ``0.5 x ISD`` away, of the cell's effective tilt (electrical + mechanical) compared with
    the median effective tilt of its neighbourhood (the ``neighbourhood_sites`` nearest sites,
    its own included).

    *Measured excess*: for every measured bin in the cell's main-lobe ring (within half the
    horizontal beamwidth of its bearing, ``ring_min_isd_ratio``..``ring_max_isd_ratio`` x ISD)
    the network median RSRP of such rows at the same normalised distance (0.05 ISD buckets) minus
    the cell's RSRP there. Bins where the cell is not reported count with the weakest level
    reported in the bin as an upper bound. The median over the far part of the ring
    (``>= ring_split_isd_ratio`` x ISD) is the measured excess.

    *Reach*: the traffic-weighted median distance of the cell's best-server bins (robust to the
    few scattered far bins a collapsed footprint keeps; a p90 is dominated by them).

    A cell is undershooting when its reach is below ``max_reach_isd_ratio`` x ISD, it has at
    least ``min_undershooting_grids`` main-lobe bins, and either (1) the predicted excess is at
    least ``min_predicted_excess_db`` and the measured excess at least ``min_excess_loss_db``
    (tilt recorded in the GIS), or the predicted excess is at least ``weak_predicted_excess_db``
    and the measured excess at least ``strong_excess_loss_db``, or (2) *measurement only*, for tilt the GIS does not record (a
    mechanical tilt changed on site): the measured excess is at least
    ``measured_only_excess_db`` and the cell's best-server traffic is at most
    ``max_sibling_traffic_ratio`` x the median of its site's other cells; its confidence is
    scaled by ``measured_only_confidence_factor``; or (3) *silent main lobe*: the cell is not
    reported in at least ``silent_lobe_share`` of the (at least ``silent_lobe_min_grids``)
    measured bins of its main-lobe ring, its traffic is at most
    ``silent_lobe_max_sibling_ratio`` x its sisters' and the measured excess at least
    ``silent_lobe_min_excess_db`` (measurement only unless the tilt also predicts it); or (4)
    *collapsed footprint*: the predicted excess is at least ``min_predicted_excess_db``, the
    traffic at most ``max_sibling_traffic_ratio`` x its sisters' and the reach below
    ``collapsed_reach_isd_ratio`` x ISD, with ``collapsed_min_grids`` ring bins; or (5)
    *sister level differences* (``sister_*``).

    *Sister corroboration* of the unrecorded paths (2) and (3): when the cell shares at least
    ``sister_min_pairs`` bin rows with co-sited sisters, the level differences against them
    must fit a tilt at least ``sister_confirm_min_offset_deg`` steeper than recorded, removing
    at least ``sister_confirm_min_mse_reduction_db2``. Sisters share the propagation path
    (distance, terrain, clutter), so a loss those differences do not attribute to a steeper
    tilt is the terrain's, not a hidden mechanical tilt.
    """

    #: Flag only when the traffic-weighted median best-server distance / local ISD is below
    #: this. [1]
    max_reach_isd_ratio: float = Field(0.5, gt=0.0)
    #: Judge only cells reported in at least this many grid rows: a cell no UE reports anywhere
    #: is off air (an outage, a locked cell, missing from the export), not undershooting; the
    #: quality report counts it among the GIS cells without measurements. [1]
    min_measured_rows: int = Field(1, ge=1)
    #: Minimum measured excess loss in the far main lobe. [dB]
    min_excess_loss_db: float = Field(3.0)
    #: Minimum excess loss the antenna pattern predicts from the tilt difference. [dB]
    min_predicted_excess_db: float = Field(6.0, gt=0.0)
    #: Support-aware: a predicted excess of at least ``weak_predicted_excess_db`` suffices when
    #: the measured excess is at least ``strong_excess_loss_db`` (the default 10 deg vertical
    #: beamwidth under-predicts the loss of narrow antennas). [dB]
    weak_predicted_excess_db: float = Field(4.0)
    strong_excess_loss_db: float = Field(12.0)
    #: Sites (own included) whose median effective tilt is the neighbourhood's tilt. [1]
    neighbourhood_sites: int = Field(7, ge=1)
    #: Inner and outer edge of the examined main-lobe ring, as multiples of the local ISD. [1]
    ring_min_isd_ratio: float = Field(0.1, ge=0.0)
    ring_max_isd_ratio: float = Field(0.7, gt=0.0)
    #: Start of the far part of the ring, as a multiple of the local ISD. [1]
    ring_split_isd_ratio: float = Field(0.3, gt=0.0)
    #: Minimum number of main-lobe bins for a cell to be judged. [1]
    min_undershooting_grids: int = Field(5, ge=1)
    #: Target reach of the uptilt, as a multiple of the local ISD. [1]
    target_reach_isd_ratio: float = Field(0.6, gt=0.0)
    #: Measurement-only path: minimum measured excess loss. [dB]
    measured_only_excess_db: float = Field(12.0)
    #: ... at a sibling traffic ratio of ``max_sibling_traffic_ratio``; a deeper collapse lowers
    #: it 1 dB per dB of traffic deficit (``10 log10(ratio / max_sibling_traffic_ratio)``), but
    #: not below this. The default (= ``measured_only_excess_db``) keeps the trade off: at 9 dB
    #: it found 7 instead of 4 of 16 unrecorded mechanical tilts on the independent simulator
    #: but flagged 2 more healthy cells of its real layout (0.86 -> 0.95 per 100). [dB]
    measured_only_min_excess_db: float = Field(12.0)
    #: Measurement-only path: best-server traffic at most this share of the median of the
    #: site's other cells (a collapsed footprint). [1]
    max_sibling_traffic_ratio: float = Field(0.2, ge=0.0)
    #: Measurement-only path: confidence multiplier (no tilt record explains the finding). [1]
    measured_only_confidence_factor: float = Field(0.6, ge=0.0, le=1.0)
    #: Measurement-only path: main-lobe ring bins needed (no tilt record supports it). [1]
    measured_only_min_grids: int = Field(10, ge=1)
    #: Measurement-only and silent-lobe paths: the measured excess must also reach the
    #: network's median far-ring excess plus this many robust standard deviations (1.4826 x
    #: MAD over cells with ``min_undershooting_grids`` ring bins): where terrain and clutter
    #: spread the losses of healthy cells widely, only an outlier is evidence. [1]
    measured_spread_factor: float = Field(1.3, ge=0.0)
    #: Sister differences: level differences against the co-sited cells in the same bins (the
    #: same propagation path, so the antenna pattern is isolated) fit at least this much more
    #: downtilt than the GIS records (1 deg grid, -8..16 deg) ... [deg]
    sister_min_tilt_offset_deg: float = Field(6.0)
    #: ... removing at least this weighted mean squared residual against the recorded tilt ...
    #: [dB^2]
    sister_min_mse_reduction_db2: float = Field(40.0, ge=0.0)
    #: ... over at least this many bin rows shared with sisters; the far main lobe must
    #: measure at least ``min_excess_loss_db`` below the network (the loss that tilt predicts).
    #: [1]
    sister_min_pairs: int = Field(20, ge=1)
    #: ... and the cell serve at most this multiple of its sisters' median best-server traffic
    #: (a rotated antenna also misfits the pattern, but keeps its traffic). [1]
    sister_max_sibling_ratio: float = Field(0.7, ge=0.0)
    #: Silent main lobe: the cell is not reported in at least this share of the measured bins
    #: of its own main-lobe ring (not among the strongest cells a UE reports right in front of
    #: its antenna). Healthy cells of both simulators stayed below 0.3 with 10+ ring bins. [1]
    silent_lobe_share: float = Field(0.3, gt=0.0, le=1.0)
    #: Silent main lobe: ring bins needed (the share needs support). [1]
    silent_lobe_min_grids: int = Field(10, ge=1)
    #: Silent main lobe: best-server traffic at most this share of the site's other cells'. [1]
    silent_lobe_max_sibling_ratio: float = Field(0.35, ge=0.0)
    #: Silent main lobe: measured excess (far ring or whole ring, the larger) at least this. [dB]
    silent_lobe_min_excess_db: float = Field(6.0)
    #: Silent main lobe with sister support (the sister fit finds a tilt at least
    #: ``sister_confirm_min_offset_deg`` steeper, removing
    #: ``sister_confirm_min_mse_reduction_db2``, over ``sister_min_pairs`` rows): best-server
    #: traffic at most this share of the site's other cells' (a hidden downtilt keeps the
    #: traffic near the mast). [1]
    silent_lobe_sister_max_sibling_ratio: float = Field(0.7, ge=0.0)
    #: Collapsed footprint: a recorded tilt predicting ``min_predicted_excess_db`` is confirmed
    #: by traffic alone (best-server traffic at most ``max_sibling_traffic_ratio`` x the
    #: site's other cells' and reach below this multiple of the ISD), whatever the far ring
    #: measures (few bins, censored). [1]
    collapsed_reach_isd_ratio: float = Field(0.35, gt=0.0)
    #: Collapsed footprint: main-lobe ring bins needed. [1]
    collapsed_min_grids: int = Field(3, ge=1)
    #: Sister corroboration of the unrecorded paths (measurement only, silent main lobe): with
    #: ``sister_min_pairs`` shared rows the sister fit must find a tilt at least this much
    #: steeper than recorded ... [deg]
    sister_confirm_min_offset_deg: float = Field(3.0)
    #: ... removing at least this weighted mean squared residual. Hidden tilts of the two
    #: foreign simulators fitted 17-125 dB^2; the healthy cells those paths flagged (terrain
    #: loss on rural and corridor sites) at most 8.5. [dB^2]
    sister_confirm_min_mse_reduction_db2: float = Field(10.0, ge=0.0)


class CrossedFeederParams(_Params):
    """Crossed feeders: cells of one site whose measured direction matches a sister's bearing.

    The swap test is relative to the site's own sector spacing (4-sector sites and uneven
    bearings are common): a member's observed azimuth must be within ``match_tolerance_deg`` of
    its partner's planned bearing and closer to it than to its own by at least
    ``swap_margin_share`` x the angle between the two bearings.
    """

    seed_aliases: ClassVar[dict[str, str]] = {"min_angular_deviation": "min_angular_deviation_deg"}

    #: Cells whose horizontal beamwidth is at least this are omni (small cells, DAS, rural
    #: omni masts): they have no direction, so no swap or azimuth check is judged on them
    #: (a fault-free network of 360 deg cells got `check_azimuth` on 24 of 40 before). [deg]
    max_directional_hbw_deg: float = Field(180.0, gt=0.0)

    #: A cell this far off its bearing is always off-azimuth (seed 000's threshold). Smaller
    #: deviations are still judged: swaps relative to the sector spacing, single antennas from
    #: ``check_azimuth_deviation_deg``. [deg]
    min_angular_deviation_deg: float = Field(90.0, gt=0.0, le=180.0)
    #: A cell in no swap group whose observed azimuth is at least
    #: ``min(min_angular_deviation_deg, check_azimuth_deviation_deg)`` off its bearing gets
    #: ``check_azimuth`` (the p99 of healthy cells is 24-37 deg on both simulators). [deg]
    check_azimuth_deviation_deg: float = Field(55.0, gt=0.0, le=180.0)
    #: Share of the cell's measured bins, strongest RSRP first, that enter its observed azimuth
    #: (traffic-weighted circular mean) besides the bins where it is best server. [1]
    top_percent_threshold: float = Field(0.05, gt=0.0, le=1.0)
    #: Bins closer than this to the site are left out of the azimuth estimate. [m]
    min_distance_m: float = Field(200.0, ge=0.0)
    #: Minimum number of bins in the azimuth estimate for a cell to be judged; a cell with fewer
    #: best-server/strongest rows is estimated from all its reported rows instead. [1]
    min_bins: int = Field(3, ge=3)
    #: An all-rows estimate is trusted only with at least this concentration (mean resultant
    #: length); otherwise the cell counts as unmeasured (it may only be inferred). [1]
    min_fallback_concentration: float = Field(0.6, ge=0.0, le=1.0)
    #: A swap partner's bearing must match the observed azimuth within this. [deg]
    match_tolerance_deg: float = Field(45.0, gt=0.0, le=90.0)
    #: Swap test: (deviation from own bearing) - (error to the partner's bearing) must be at
    #: least this share of the angle between the two bearings. [1]
    swap_margin_share: float = Field(0.25, gt=0.0, le=1.0)
    #: Bearings closer than this cannot be told apart; no swap between them. [deg]
    min_sector_separation_deg: float = Field(30.0, ge=0.0, le=180.0)
    #: Sister azimuth fit (:mod:`.sisters`), on sites without a swap: a cell whose level
    #: differences against its co-sited sisters fit an azimuth at least this far off its
    #: bearing (5 deg grid, +-90 deg) gets ``check_azimuth`` ... [deg]
    sister_azimuth_deviation_deg: float = Field(40.0, gt=0.0, le=90.0)
    #: ... when the fit removes at least this weighted mean squared residual ... [dB^2]
    sister_azimuth_min_mse_reduction_db2: float = Field(40.0, ge=0.0)
    #: ... over at least this many bin rows shared with sisters. [1]
    sister_azimuth_min_pairs: int = Field(20, ge=1)
    #: Only cells whose best-server estimate is at least this far off are fitted (the estimate
    #: of a rotated antenna is squeezed toward its bearing by its sisters, but not to it). [deg]
    sister_azimuth_candidate_deg: float = Field(15.0, ge=0.0, le=180.0)
    #: Sister corroboration of a best-server ``check_azimuth`` (no swap partner): with
    #: ``sister_azimuth_min_pairs`` rows shared with sisters, the sister azimuth fit must turn
    #: the antenna the same way by at least this ... [deg]
    check_azimuth_sister_min_offset_deg: float = Field(30.0, ge=0.0, le=90.0)
    #: ... removing at least this weighted mean squared residual. A best-server direction
    #: pulled aside by terrain, clutter or a hidden downtilt is not an antenna turned: rotated
    #: antennas of the two foreign simulators fitted 55-90 deg and 34-204 dB^2, the healthy
    #: cells flagged at most 20 deg and 13 dB^2. [dB^2]
    check_azimuth_sister_min_mse_reduction_db2: float = Field(20.0, ge=0.0)


class InterferenceParams(_Params):
    """Interference zones: bins where many cells are received at about the same level."""

    seed_aliases: ClassVar[dict[str, str]] = {"max_rsrp_diff": "max_rsrp_diff_db"}

    #: A bin is interfered when at least this many cells are within ``max_rsrp_diff_db`` of its
    #: best cell (the best cell included). [1]
    min_filtered_cells_per_grid: int = Field(4, ge=2)
    #: Level window below the bin's best RSRP. [dB]
    max_rsrp_diff_db: float = Field(5.0, gt=0.0)
    #: Judge the rule on the posterior of the true levels instead of the noisy averages (see
    #: :mod:`.levels` and :mod:`.interference`): each row is shrunk toward the same cell's level
    #: in the adjacent bins by its event count, and a bin's probability of being interfered is
    #: sampled. Without measurable per-event noise this is the plain rule. Off by default:
    #: on the blind simulator it lowered the zone IoU against the rule on true levels (0.21 ->
    #: 0.17) and on reported levels (0.82 -> 0.41); on the independent one it raised the first
    #: (0.42 -> 0.49) and lowered the second (0.99 -> 0.58).
    noise_aware: bool = False
    #: Standard deviation of a single event's RSRP around the bin mean; ``None`` fits it from
    #: the data (the spread of a row around its neighbours vs 1/eventCount). [dB]
    measurement_sigma_db: float | None = Field(None, ge=0.0)
    #: A bin counts as interfered when the rule holds with at least this probability. [1]
    min_interference_probability: float = Field(1.0 / 3.0, gt=0.0, le=1.0)
    #: Draws from the posterior per uncertain bin, and the seed of those draws. [1]
    noise_samples: int = Field(64, ge=1, le=4096)
    noise_seed: int = 0
    #: Neighbourhood radius on the geohash grid (Chebyshev rings). [bins]
    k_ring: int = Field(3, ge=0, le=10)
    #: An interfered bin is kept when at least this share of the measured bins in its k-ring
    #: neighbourhood is interfered. [1]
    perc_interference: float = Field(0.33, ge=0.0, le=1.0)
    #: Zones (8-connected components of kept bins) smaller than this are dropped. [bins]
    min_zone_grids: int = Field(5, ge=1)


class ConflictParams(_Params):
    """Rules that make the set of recommendations applicable in one cycle."""

    #: Largest tilt change per cell per cycle. [deg]
    max_tilt_step_deg: float = Field(2.0, gt=0.0)
    #: Smallest tilt change worth proposing; smaller changes are dropped. [deg]
    min_tilt_step_deg: float = Field(0.5, gt=0.0)
    #: Most tilt changes per site (per layer) per cycle, highest confidence kept. 3 lets a
    #: tri-sector site with a site-level cause (a mast higher, or a site on higher ground, than
    #: the GIS says) move as a whole; set 2 to keep one sector of every site untouched. [1]
    max_changed_sectors_per_site: int = Field(3, ge=1)
    #: Default RET range when the GIS has none. [deg]
    default_ret_min_deg: float = 0.0
    default_ret_max_deg: float = 12.0
    #: When the RET range leaves less than the change asked for, propose the rest (on a 0.5 deg
    #: grid, toward zero) as mechanical tilt (a site visit) inside ``mech_min_deg`` ..
    #: ``mech_max_deg``; off: the electrical part alone is kept.
    mechanical_fallback: bool = True
    #: Mechanical tilt range a bracket allows (0 = no mechanical uptilt below boresight). [deg]
    mech_min_deg: float = 0.0
    mech_max_deg: float = 10.0
    #: Two cells moving in opposite directions conflict when their shared bins are at least this
    #: share of the smaller footprint. [1]
    opposing_overlap_share: float = Field(0.2, ge=0.0, le=1.0)
    #: ... and share at least this many bins. [1]
    opposing_min_shared_bins: int = Field(5, ge=1)


class ImpactParams(_Params):
    """Re-scoring of tilt changes on the measured bins."""

    #: A bin is covered when its best RSRP is at least this. [dBm]
    coverage_rsrp_dbm: float = -110.0
    #: Noise power per resource element added to the interference in SINR. [dBm]
    noise_dbm: float = -125.0
    #: Default horizontal / vertical half-power beamwidths when the GIS has none. [deg]
    default_hbw_deg: float = Field(65.0, gt=0.0)
    default_vbw_deg: float = Field(10.0, gt=0.0)


class ChangeParams(_Params):
    """Comparing two runs of one network, cell by cell (:func:`.changes.compare_runs`).

    *Applied*: the after run's GIS tilt (electrical + mechanical) is within
    ``applied_tolerance_deg`` of the tilt the before run proposed. An applied downtilt is
    *improved* when the cell's overshooting bins, or its best-server bins beyond the expected
    reach, fell to at most ``downtilt_effective_share`` of before; an applied uptilt when its best-server bins grew by ``uptilt_effective_growth``.

    *Alerts* on cells nobody changed: ``footprint_grew`` when the overshooting bins grew by at
    least ``max(min_new_overshooting_bins, before)``, the best-server bins beyond the expected
    reach by ``max(min_new_far_bins, before)`` or all best-server bins by
    ``max(min_new_best_bins, before)`` (each: at least doubled); ``footprint_shrank``
    when a footprint of at least ``min_best_bins`` best-server bins fell, in bins or in
    best-server traffic, to at most ``shrink_share`` of before (a traffic loss only with the
    bins at most ``traffic_shrink_bins_share`` of before: traffic alone varies week to week).
    """

    #: Tilt tolerance of "applied" (the GIS rounds tilts). [deg]
    applied_tolerance_deg: float = Field(0.25, ge=0.0)
    #: An applied downtilt is improved at or below this share of the overshooting bins or of the
    #: best-server bins beyond the expected reach. [1]
    downtilt_effective_share: float = Field(0.5, gt=0.0, le=1.0)
    #: An applied uptilt is improved at or above this growth of the best-server bins. [1]
    uptilt_effective_growth: float = Field(1.25, ge=1.0)
    #: Alert ``footprint_grew``: new overshooting bins needed (and at least as many as before).
    #: [bins]
    min_new_overshooting_bins: int = Field(8, ge=1)
    #: ... or new best-server bins beyond the expected reach needed (and at least as many as
    #: before). Chosen on the blind simulator (fault-free baseline week vs faulty network): 16
    #: found 29 of 32 effective overshooters with no alert on its fault-free twin, 12 the same
    #: with 1, 8 one more with 5. [bins]
    min_new_far_bins: int = Field(16, ge=1)
    #: ... or new best-server bins needed (and at least as many as before). On the blind
    #: simulator any value from 8 to 24 gave the same alerts; 12 sits in the middle. [bins]
    min_new_best_bins: int = Field(12, ge=1)
    #: Alert ``footprint_shrank``: at most this share of the best-server bins or traffic. [1]
    shrink_share: float = Field(0.6, gt=0.0, lt=1.0)
    #: ... of a footprint of at least this many best-server bins before. [bins]
    min_best_bins: int = Field(6, ge=1)
    #: A traffic loss alone is week-to-week variation: it counts when the best-server bins
    #: also fell to at most this share. Blind simulator with +-30 % traffic per bin between the
    #: weeks: fault-free alerts 20 -> 12 of 2,575 cells, no effective fault lost. [1]
    traffic_shrink_bins_share: float = Field(0.8, gt=0.0, le=1.0)
