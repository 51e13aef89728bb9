"""A run context on the local filesystem: used by the inline runner, the CLI and tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from opsforge.core.errors import JobCancelledError, NotFoundError

__all__ = ["LocalRunContext"]


class LocalRunContext:
    """A :class:`opsforge.core.kinds.RunContext` backed by local paths.

    Parameters
    ----------
    run_id
        Identifier of the run.
    workdir
        Output folder (created if missing).
    inputs
        Input name -> local path.
    on_progress
        Called with ``(fraction, message)`` on every progress report.
    is_cancelled
        Polled on every progress report; when it returns True the job is stopped with
        :class:`JobCancelledError`.
    """

    def __init__(
        self,
        run_id: str,
        workdir: Path,
        inputs: Mapping[str, Path] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self._run_id = run_id
        self._workdir = workdir
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._inputs = dict(inputs or {})
        self._on_progress = on_progress
        self._is_cancelled = is_cancelled
        #: Stage name -> wall time. [s]
        self.stage_timings_s: dict[str, float] = {}
        self.last_progress: tuple[float, str] = (0.0, "")

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def workdir(self) -> Path:
        return self._workdir

    def input_path(self, name: str) -> Path:
        try:
            return self._inputs[name]
        except KeyError:
            raise NotFoundError(
                f"run {self._run_id} has no input named {name!r}; it has {sorted(self._inputs)}",
                input=name,
            ) from None

    def progress(self, fraction: float, message: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        self.last_progress = (fraction, message)
        if self._on_progress is not None:
            self._on_progress(fraction, message)
        if self._is_cancelled is not None and self._is_cancelled():
            raise JobCancelledError(f"run {self._run_id} was cancelled", run_id=self._run_id)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_timings_s[name] = self.stage_timings_s.get(name, 0.0) + (
                time.perf_counter() - started
            )
