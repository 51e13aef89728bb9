"""Solver backends behind :func:`opsforge.engines.scheduling.solve`: rules, CP-SAT, PPO policy."""
