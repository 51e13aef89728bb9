"""One error hierarchy for all of opsforge.

Every error carries a stable machine-readable ``code`` and a human message that says what
was expected and what came. Edges map the hierarchy once: the API to HTTP ``{code, detail}``
(see ``opsforge.api.errors``), the CLI to exit codes (``exit_code`` below).

::

    OpsforgeError                      code="error"              HTTP 500  exit 1
    ├── InvalidInputError              code="invalid_input"      HTTP 422  exit 2
    │   ├── ConfigError                code="invalid_config"     HTTP 422  exit 2
    │   └── DataQualityError           code="data_quality"       HTTP 422  exit 2
    ├── AuthenticationError            code="unauthenticated"    HTTP 401  exit 3
    ├── PermissionDeniedError          code="permission_denied"  HTTP 403  exit 3
    ├── NotFoundError                  code="not_found"          HTTP 404  exit 4
    ├── ConflictError                  code="conflict"           HTTP 409  exit 5
    ├── RateLimitedError               code="rate_limited"       HTTP 429  exit 6
    ├── PayloadTooLargeError           code="payload_too_large"  HTTP 413  exit 2
    ├── ExternalServiceError           code="external_service"   HTTP 502  exit 7
    │   └── ServiceUnavailableError    code="service_unavailable" HTTP 503 exit 7
    └── JobError                       code="job_failed"         HTTP 500  exit 8
        ├── JobCancelledError          code="job_cancelled"      HTTP 409  exit 8
        └── SolverError                code="solver_failed"      HTTP 500  exit 8
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DataQualityError",
    "ExternalServiceError",
    "InvalidInputError",
    "JobCancelledError",
    "JobError",
    "NotFoundError",
    "OpsforgeError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "SolverError",
]


class OpsforgeError(Exception):
    """Base of every error opsforge raises on purpose.

    Parameters
    ----------
    message
        What was expected and what came, for a person.
    context
        Machine-readable details (file, row, column, field, ...), JSON-serialisable.
    """

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = context

    def to_dict(self) -> dict[str, Any]:
        """The error as ``{code, detail, **context}``."""
        out: dict[str, Any] = {"code": self.code, "detail": self.message}
        if self.context:
            out["context"] = self.context
        return out


class InvalidInputError(OpsforgeError):
    """Input that does not satisfy its schema, range or format."""

    code = "invalid_input"
    http_status = 422
    exit_code = 2


class ConfigError(InvalidInputError):
    """A configuration value or file is invalid; the message names the key."""

    code = "invalid_config"


class DataQualityError(InvalidInputError):
    """A data file is unusable; the message names file, row and column."""

    code = "data_quality"


class AuthenticationError(OpsforgeError):
    """Missing, expired, forged or revoked credentials."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 3


class PermissionDeniedError(OpsforgeError):
    """Authenticated, but the role does not allow the action."""

    code = "permission_denied"
    http_status = 403
    exit_code = 3


class NotFoundError(OpsforgeError):
    """The object does not exist (or is not visible to this tenant)."""

    code = "not_found"
    http_status = 404
    exit_code = 4


class ConflictError(OpsforgeError):
    """The object is in a state that does not allow the action."""

    code = "conflict"
    http_status = 409
    exit_code = 5


class RateLimitedError(OpsforgeError):
    """Too many requests; ``retry_after_s`` says when to come back."""

    code = "rate_limited"
    http_status = 429
    exit_code = 6

    def __init__(self, message: str, *, retry_after_s: float, **context: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **context)
        self.retry_after_s = retry_after_s


class PayloadTooLargeError(OpsforgeError):
    """A request body above the configured limit."""

    code = "payload_too_large"
    http_status = 413
    exit_code = 2


class ExternalServiceError(OpsforgeError):
    """A database, broker, object store, LLM or ENM answered with an error."""

    code = "external_service"
    http_status = 502
    exit_code = 7


class ServiceUnavailableError(ExternalServiceError):
    """A dependency is not reachable (readiness fails, circuit open)."""

    code = "service_unavailable"
    http_status = 503


class JobError(OpsforgeError):
    """A run failed while doing its work."""

    code = "job_failed"
    http_status = 500
    exit_code = 8


class JobCancelledError(JobError):
    """A run was cancelled while it ran."""

    code = "job_cancelled"
    http_status = 409


class SolverError(JobError):
    """A solver failed or found no feasible answer."""

    code = "solver_failed"
