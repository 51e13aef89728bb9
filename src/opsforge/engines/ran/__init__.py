"""RAN coverage optimizer (seed 000)."""
