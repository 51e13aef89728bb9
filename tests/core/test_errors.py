from __future__ import annotations

import pytest

from opsforge.core import errors


def _all_error_classes() -> list[type[errors.OpsforgeError]]:
    out: list[type[errors.OpsforgeError]] = []
    stack: list[type[errors.OpsforgeError]] = [errors.OpsforgeError]
    while stack:
        cls = stack.pop()
        out.append(cls)
        stack.extend(cls.__subclasses__())
    return out


def test_codes_are_unique_and_stable() -> None:
    classes = [c for c in _all_error_classes() if c.__module__ == errors.__name__]
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes))
    assert {c.__name__ for c in classes} <= set(errors.__all__)


@pytest.mark.parametrize(
    ("cls", "status", "exit_code"),
    [
        (errors.InvalidInputError, 422, 2),
        (errors.DataQualityError, 422, 2),
        (errors.AuthenticationError, 401, 3),
        (errors.PermissionDeniedError, 403, 3),
        (errors.NotFoundError, 404, 4),
        (errors.ConflictError, 409, 5),
        (errors.ExternalServiceError, 502, 7),
        (errors.ServiceUnavailableError, 503, 7),
        (errors.JobError, 500, 8),
    ],
)
def test_edge_mappings(cls: type[errors.OpsforgeError], status: int, exit_code: int) -> None:
    assert cls.http_status == status
    assert cls.exit_code == exit_code


def test_context_and_dict() -> None:
    err = errors.DataQualityError("bad RSRP", file="grid.csv", row=7, column="avg_rsrp")
    assert err.to_dict() == {
        "code": "data_quality",
        "detail": "bad RSRP",
        "context": {"file": "grid.csv", "row": 7, "column": "avg_rsrp"},
    }
    assert isinstance(err, errors.InvalidInputError)
    limited = errors.RateLimitedError("slow down", retry_after_s=2.5)
    assert limited.retry_after_s == 2.5
    assert limited.to_dict()["context"] == {"retry_after_s": 2.5}
