"""RAN coverage optimizer (seed 000): over/undershooters, crossed feeders, interference zones.

Public entry point :func:`recommend`; parameters :class:`RanParams`; result :class:`RanResult`;
synthetic networks with ground truth :func:`simulate_network`.
"""

from opsforge.engines.ran.model import InterferenceZone, RanParams, RanResult
from opsforge.engines.ran.pipeline import recommend
from opsforge.engines.ran.simulate import (
    SimulatedNetwork,
    SimulationConfig,
    SimulationTruth,
    simulate_network,
)
from opsforge.engines.ran.tilt import estimate_distance_after_tilt

__all__ = [
    "InterferenceZone",
    "RanParams",
    "RanResult",
    "SimulatedNetwork",
    "SimulationConfig",
    "SimulationTruth",
    "estimate_distance_after_tilt",
    "recommend",
    "simulate_network",
]
