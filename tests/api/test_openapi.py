"""The OpenAPI document is complete and true: every route, its errors, its security."""

# ruff: noqa: F811  (the pytest fixtures env/sqlite_env are imported from api_support)

from __future__ import annotations

from api_support import Env, env, sqlite_env  # noqa: F401 (fixtures)
from fastapi.routing import APIRoute, iter_route_contexts

PUBLIC = {("GET", "/health"), ("GET", "/api/v1/health"), ("GET", "/ready"), ("GET", "/metrics")}
PUBLIC_POST = {("POST", "/api/v1/auth/token")}


def _routes(env: Env) -> list[tuple[str, str, APIRoute]]:
    out = []
    for context in iter_route_contexts(env.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            out += [(m, route.path, route) for m in sorted(route.methods or ())]
    return out


def test_every_route_is_documented_with_its_errors(sqlite_env: Env) -> None:
    doc = sqlite_env.client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["BearerJWT"]["type"] == "oauth2"
    assert "ErrorBody" in doc["components"]["schemas"]
    routes = _routes(sqlite_env)
    assert len(routes) >= 20
    for method, path, route in routes:
        operation = doc["paths"][path][method.lower()]
        responses = operation["responses"]
        errors = {code for code in responses if code.startswith(("4", "5"))}
        assert errors, f"{method} {path} declares no error response"
        for code in errors:
            ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/ErrorBody"), (method, path, code)
        has_params = bool(route.dependant.path_params or route.dependant.query_params)
        if has_params or route.body_field is not None or (method, path) in PUBLIC_POST:
            assert "422" in errors, f"{method} {path} takes input but does not declare 422"
        if (method, path) in PUBLIC | PUBLIC_POST:
            assert "security" not in operation
            continue
        assert {"401", "429"} <= errors, f"{method} {path} must declare 401 and 429"
        security = {name for req in operation["security"] for name in req}
        assert security == {"ApiKey", "BearerJWT"}, (method, path)
        if method in {"POST", "PUT", "DELETE"}:
            assert "403" in errors, f"{method} {path} must declare 403"
        success = {code for code in responses if code.startswith("2")}
        assert success, f"{method} {path} declares no success response"


def test_seed_000_paths_exist(sqlite_env: Env) -> None:
    paths = sqlite_env.client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/api/v1/recommendations/run", "post"),
        ("/api/v1/recommendations/{run_id}/status", "get"),
        ("/api/v1/recommendations/{run_id}/results", "get"),
        ("/api/v1/cells/{cell_id}/recommendations", "get"),
        ("/api/v1/health", "get"),
        ("/api/v1/proposals/{proposal_id}/transition", "post"),
        ("/api/v1/proposals/{proposal_id}", "get"),
    ]:
        assert method in paths[path], path
    login = paths["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(login)
