"""Lineage manifests: what went into a run, so the same inputs and config give the same outputs.

A manifest records the SHA-256 of every input, a snapshot of the configuration (request params
and the non-secret settings), the opsforge version and git revision, the versions of the
dependencies, and per-stage timings. It is written as the run's ``manifest.json`` output
artifact and stored on the run.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import opsforge
from opsforge.core.artifacts import sha256_file

__all__ = [
    "MANIFEST_NAME",
    "build_manifest",
    "config_snapshot",
    "dependency_versions",
    "git_revision",
    "input_digests",
]

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_SECRET_KEY = re.compile(r"(secret|password|token|api_key|private)", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<cred>[^@/\s]+)@")


def git_revision(start: Path | None = None) -> str:
    """The git commit of the source tree: ``git rev-parse HEAD`` when inside a checkout, else
    the ``OPSFORGE_GIT_REVISION`` environment variable, else ``"unknown"``."""
    return _git_revision(str(start or Path(opsforge.__file__).resolve().parent))


@lru_cache(maxsize=8)
def _git_revision(cwd: str) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", out.stdout.strip()):
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("OPSFORGE_GIT_REVISION") or "unknown"


@lru_cache(maxsize=1)
def dependency_versions() -> dict[str, str]:
    """Installed versions of opsforge's declared dependencies (``name -> version``)."""
    versions: dict[str, str] = {}
    try:
        requires = metadata.requires("opsforge") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0]
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items()))


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): ("***" if _SECRET_KEY.search(str(k)) and v else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(r"\g<scheme>***@", value)
    return value


def config_snapshot(
    params: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Request params plus settings, with secrets and URL credentials masked (``***``)."""
    return {"params": _scrub(dict(params)), "settings": _scrub(dict(settings or {}))}


def input_digests(inputs: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """``name -> {filename, sha256, size_bytes}`` of each input file, streamed."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(inputs):
        path = inputs[name]
        digest, size_bytes = sha256_file(path)
        out[name] = {"filename": path.name, "sha256": digest, "size_bytes": size_bytes}
    return out


def build_manifest(
    *,
    run_id: str,
    engine: str,
    kind: str,
    attempt: int,
    inputs: Mapping[str, Path],
    params: Mapping[str, Any],
    settings: Mapping[str, Any] | None,
    stage_timings_s: Mapping[str, float],
    started_at: datetime,
    finished_at: datetime,
    outputs: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """The lineage manifest of one run attempt (JSON-serialisable).

    Parameters
    ----------
    inputs, outputs
        Name -> local file; each is hashed (SHA-256) by streaming.
    stage_timings_s
        Stage name -> wall time. [s]
    started_at, finished_at
        Attempt start and end, UTC.
    """
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "engine": engine,
        "kind": kind,
        "attempt": attempt,
        "inputs": input_digests(inputs),
        "outputs": input_digests(outputs or {}),
        "config": config_snapshot(params, settings),
        "package": {"name": "opsforge", "version": opsforge.__version__},
        "git_revision": git_revision(),
        "dependencies": dependency_versions(),
        "stage_timings_s": {k: round(v, 6) for k, v in stage_timings_s.items()},
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "runtime_s": round((finished_at - started_at).total_seconds(), 6),
    }
