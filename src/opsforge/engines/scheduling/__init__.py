"""Job-shop scheduling: dispatch rules, CP-SAT, PPO policy (seed 004)."""
