"""Job registry and the factory: discovery by import string, broken engines skipped."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from opsforge.core.config import Settings
from opsforge.core.errors import ConflictError, InvalidInputError, NotFoundError
from opsforge.core.jobs.celery_app import CeleryDispatcher
from opsforge.core.jobs.dispatch import InlineDispatcher, LocalPoolDispatcher
from opsforge.core.jobs.registry import JobRegistry, load_kinds
from opsforge.core.jobs.selftest import JOB_KINDS
from opsforge.core.jobs.service import build_run_service
from opsforge.core.storage.db import Database


@pytest.fixture
def fake_engines() -> Iterator[None]:
    good = types.ModuleType("opsforge.engines.fakegood.jobs")
    good.JOB_KINDS = JOB_KINDS[:1]  # type: ignore[attr-defined]
    wrong = types.ModuleType("opsforge.engines.fakewrong.jobs")
    wrong.JOB_KINDS = ["not a kind"]  # type: ignore[attr-defined]
    sys.modules[good.__name__] = good
    sys.modules[wrong.__name__] = wrong
    yield
    del sys.modules[good.__name__]
    del sys.modules[wrong.__name__]


def test_discover_registers_good_engines_and_skips_missing_or_broken(fake_engines: None) -> None:
    registry = JobRegistry()
    loaded = registry.discover(("fakegood", "fakewrong", "fakemissing"))
    assert loaded == ["fakegood"]
    assert "selftest.sleep" in registry
    assert len(registry) == 1


def test_get_lists_known_kinds_and_duplicates_conflict() -> None:
    registry = JobRegistry(JOB_KINDS)
    assert [k.name for k in registry.kinds()] == ["selftest.digest", "selftest.sleep"]
    with pytest.raises(NotFoundError, match=r"known kinds: \['selftest.digest'"):
        registry.get("selftest", "nope")
    registry.register(JOB_KINDS[0])  # the same object again is fine
    clone = type(JOB_KINDS[0])(**{**JOB_KINDS[0].__dict__})
    with pytest.raises(ConflictError, match="registered twice"):
        registry.register(clone)


def test_load_kinds_reports_bad_specs() -> None:
    assert len(load_kinds("opsforge.core.jobs.selftest")) == 2
    with pytest.raises(InvalidInputError, match="cannot import"):
        load_kinds("opsforge.no_such_module")
    with pytest.raises(InvalidInputError, match="no attribute 'NOPE'"):
        load_kinds("opsforge.core.jobs.selftest:NOPE")
    with pytest.raises(InvalidInputError, match="must hold JobKind"):
        load_kinds("opsforge.core.jobs.selftest:__all__")


def test_build_run_service_picks_the_backend(settings: Settings, sqlite_database: Database) -> None:
    registry = JobRegistry(JOB_KINDS)
    inline = build_run_service(settings, sqlite_database, registry=registry)
    assert isinstance(inline.dispatcher, InlineDispatcher)
    local_settings = settings.model_copy(
        update={"jobs": settings.jobs.model_copy(update={"backend": "local", "local_workers": 3})}
    )
    local = build_run_service(local_settings, sqlite_database, registry=registry)
    assert isinstance(local.dispatcher, LocalPoolDispatcher)
    assert local.dispatcher.num_workers == 3
    assert not local.dispatcher.running
    celery_settings = settings.model_copy(
        update={
            "broker_url": "redis://127.0.0.1:6379/0",
            "jobs": settings.jobs.model_copy(update={"backend": "celery"}),
        }
    )
    celery = build_run_service(celery_settings, sqlite_database, registry=registry)
    assert isinstance(celery.dispatcher, CeleryDispatcher)
    assert celery.dispatcher.max_attempts == settings.jobs.max_attempts
