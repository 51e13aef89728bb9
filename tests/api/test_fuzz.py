"""Property test: arbitrary JSON bodies and query strings never produce a 5xx."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

import json
from typing import Any

from api_support import Env, sqlite_env  # noqa: F401 (fixtures)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["engine", "kind", "params", "inputs", "tenant", "to_status", "role", "x"]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=12,
)
ROUTES = [
    ("POST", "/api/v1/runs"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/tenants/acme/keys"),
    ("POST", "/api/v1/tenants/acme/users"),
    ("POST", "/api/v1/proposals/nope/transition"),
    ("PUT", "/api/v1/tenants/acme/users/nope/role"),
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(route=st.sampled_from(ROUTES), body=JSON, raw=st.booleans())
def test_random_json_bodies_are_never_5xx(
    sqlite_env: Env, route: tuple[str, str], body: Any, raw: bool
) -> None:
    method, path = route
    content = json.dumps(body).encode()
    if raw:
        content = content[: max(1, len(content) // 2)]  # truncated: malformed JSON
    resp = sqlite_env.client.request(
        method,
        path,
        content=content,
        headers={**sqlite_env.h("admin_a"), "content-type": "application/json"},
    )
    assert resp.status_code < 500, (method, path, content, resp.text)
    if resp.status_code >= 400:
        assert resp.json()["code"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "cursor", "status", "engine", "tenant", "created_by"]),
        st.text(max_size=30),
        max_size=4,
    )
)
def test_random_list_queries_are_never_5xx(sqlite_env: Env, params: dict[str, str]) -> None:
    resp = sqlite_env.client.get("/api/v1/runs", params=params, headers=sqlite_env.h("eng_a"))
    assert resp.status_code < 500, (params, resp.text)
