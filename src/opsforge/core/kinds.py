"""The contract between an engine and the job runner (pure: no storage, no settings).

An engine registers *job kinds*. A kind names a validated request model, a function that does
the work, and a result model. The runner (``opsforge.core.jobs``) persists the run, resolves
input artifacts to local paths, gives the function a :class:`RunContext`, stores every file the
function writes under ``ctx.workdir`` as an output artifact, and persists the result model as
JSON.

Engines list their kinds in ``opsforge/engines/<engine>/jobs.py`` as ``JOB_KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

__all__ = ["JobKind", "ProgressCallback", "RunContext"]


class ProgressCallback(Protocol):
    """Report progress of a long computation.

    Parameters
    ----------
    fraction
        Share of the work done, in [0, 1].
    message
        What is happening now, for a person.
    """

    def __call__(self, fraction: float, message: str = "") -> None: ...


@runtime_checkable
class RunContext(Protocol):
    """What a running job may use. Supplied by the runner; tests use ``LocalRunContext``."""

    @property
    def run_id(self) -> str:
        """Identifier of this run."""
        ...

    @property
    def workdir(self) -> Path:
        """Folder for outputs; every file written here becomes an output artifact."""
        ...

    def input_path(self, name: str) -> Path:
        """Local path of the input artifact registered under ``name``.

        Raises ``opsforge.core.errors.NotFoundError`` when there is none.
        """
        ...

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1]; raises ``JobCancelledError`` if the run was cancelled."""
        ...

    def stage(self, name: str) -> AbstractContextManager[None]:
        """Time a named stage; timings land in the run's lineage manifest."""
        ...


RequestT = TypeVar("RequestT", bound=BaseModel)
ResultT = TypeVar("ResultT", bound=BaseModel)


@dataclass(frozen=True)
class JobKind(Generic[RequestT, ResultT]):
    """One kind of job an engine offers.

    Attributes
    ----------
    engine
        Engine name (``ran``, ``scheduling``, ...).
    kind
        Kind within the engine (``recommend``, ``solve``, ...).
    request_model, result_model
        Pydantic models; both round-trip to JSON.
    run
        ``run(request, ctx) -> result``. Must only write files under ``ctx.workdir``.
    input_names
        Names of the input artifacts the request expects (``grid``, ``gis``, ...).
    description
        One line for the API and CLI listings.
    """

    engine: str
    kind: str
    request_model: type[RequestT]
    result_model: type[ResultT]
    run: Callable[[RequestT, RunContext], ResultT]
    input_names: tuple[str, ...] = ()
    description: str = ""

    @property
    def name(self) -> str:
        """``engine.kind``, the key of the registry."""
        return f"{self.engine}.{self.kind}"
