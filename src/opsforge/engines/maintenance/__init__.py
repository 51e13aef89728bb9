"""Predictive maintenance (seed 002): not built yet."""
