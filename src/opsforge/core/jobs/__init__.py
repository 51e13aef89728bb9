"""Runs and the job runner (inline, local pool, Celery)."""
