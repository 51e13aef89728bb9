"""The registry of job kinds: ``engine.kind`` -> :class:`~opsforge.core.kinds.JobKind`.

Engines are discovered by import string (``opsforge.engines.<engine>.jobs.JOB_KINDS``); the core
never imports an engine statically. An engine whose ``jobs`` module is missing or broken is
logged and skipped, so one broken engine does not take the service down.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.kinds import JobKind
from opsforge.core.logging import get_logger

__all__ = ["DEFAULT_ENGINES", "JobRegistry", "load_kinds"]

log = get_logger(__name__)

#: Engines whose ``jobs.JOB_KINDS`` the default registry discovers.
DEFAULT_ENGINES: tuple[str, ...] = ("ran", "ranconfig", "scheduling", "maintenance", "promptopt")

AnyKind = JobKind[Any, Any]


def load_kinds(spec: str) -> list[AnyKind]:
    """Import ``module:attribute`` (attribute defaults to ``JOB_KINDS``) and return its kinds.

    Raises
    ------
    InvalidInputError
        The module or attribute does not exist, or holds something other than job kinds.
    """
    module_name, _, attr = spec.partition(":")
    attr = attr or "JOB_KINDS"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInputError(f"cannot import job kinds module {module_name!r}: {exc}") from exc
    kinds = getattr(module, attr, None)
    if kinds is None:
        raise InvalidInputError(f"module {module_name!r} has no attribute {attr!r}")
    items = list(kinds.values()) if isinstance(kinds, dict) else list(kinds)
    bad = [type(k).__name__ for k in items if not isinstance(k, JobKind)]
    if bad:
        raise InvalidInputError(
            f"{module_name}:{attr} must hold JobKind objects, got {sorted(set(bad))}"
        )
    return items


class JobRegistry:
    """Known job kinds, keyed by ``engine.kind``."""

    def __init__(self, kinds: Iterable[AnyKind] = ()) -> None:
        self._kinds: dict[str, AnyKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: AnyKind) -> None:
        """Add a kind.

        Raises
        ------
        ConflictError
            Another kind with the same ``engine.kind`` is registered already.
        """
        existing = self._kinds.get(kind.name)
        if existing is not None and existing is not kind:
            raise ConflictError(f"job kind {kind.name!r} is registered twice", kind=kind.name)
        self._kinds[kind.name] = kind

    def get(self, engine: str, kind: str) -> AnyKind:
        """The kind ``engine.kind``.

        Raises
        ------
        NotFoundError
            No such kind; the message lists the known ones.
        """
        try:
            return self._kinds[f"{engine}.{kind}"]
        except KeyError:
            raise NotFoundError(
                f"unknown job kind {engine}.{kind}; known kinds: {sorted(self._kinds)}",
                engine=engine,
                kind=kind,
            ) from None

    def kinds(self) -> list[AnyKind]:
        """All kinds, sorted by name."""
        return [self._kinds[name] for name in sorted(self._kinds)]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __len__(self) -> int:
        return len(self._kinds)

    def discover(self, engines: Sequence[str] = DEFAULT_ENGINES) -> list[str]:
        """Register ``opsforge.engines.<engine>.jobs.JOB_KINDS`` of each engine that has one.

        Returns the engines that loaded; the others are logged (``job_kinds_skipped``).
        """
        loaded: list[str] = []
        for engine in engines:
            module = f"opsforge.engines.{engine}.jobs"
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name == module:  # the engine offers no jobs (yet): not an error
                    log.debug("job_kinds_absent", engine=engine, module=module)
                    continue
            except Exception:  # reported below by load_kinds
                pass
            try:
                kinds = load_kinds(module)
                for kind in kinds:
                    self.register(kind)
            except Exception as exc:  # one broken engine must not take the service down
                log.warning(
                    "job_kinds_skipped", engine=engine, module=module, error=f"{exc!r}"[:500]
                )
                continue
            loaded.append(engine)
        return loaded

    @classmethod
    def default(cls, extra: Sequence[str] = ()) -> JobRegistry:
        """A registry with the discovered engines plus ``extra`` ``module:attr`` specs."""
        registry = cls()
        registry.discover()
        for spec in extra:
            for kind in load_kinds(spec):
                registry.register(kind)
        return registry
