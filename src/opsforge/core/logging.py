"""structlog, configured once per process.

JSON lines when stderr is not a TTY (or ``log_json`` is set), coloured console otherwise.
Context (``request_id``, ``run_id``, ``user``, ``tenant``) is bound with :func:`bind_context`
through contextvars, so every event in a request or run carries it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

__all__ = ["bind_context", "configure_logging", "get_logger"]

_configured = False


class _StderrLogger:
    """Writes each rendered event to the *current* ``sys.stderr``.

    ``structlog.PrintLoggerFactory(file=sys.stderr)`` keeps the stream it saw at configuration;
    when that stream is swapped and closed (pytest's capture, daemonised workers) every later
    event would fail with "I/O operation on closed file".
    """

    def msg(self, message: str) -> None:
        stream = sys.stderr
        try:
            stream.write(message + "\n")
            stream.flush()
        except ValueError:  # closed stream at interpreter shutdown: drop, never crash the caller
            pass

    log = debug = info = warning = warn = error = critical = exception = fatal = failure = msg


def _logger_factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger (idempotent).

    Parameters
    ----------
    level
        Minimum level name.
    json
        JSON lines; ``None`` picks JSON when stderr is not a TTY.
    """
    global _configured
    use_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_logger_factory,
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    _configured = True


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; events are snake_case past tense with unit-suffixed fields."""
    return structlog.get_logger(name) if name else structlog.get_logger()


@contextmanager
def bind_context(**values: Any) -> Iterator[None]:
    """Bind context variables for the duration of a block."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
