"""Admin commands: ``opsforge serve``, ``users``, ``keys``, ``tenants``, ``audit verify``.

Errors of the :mod:`opsforge.core.errors` hierarchy become one line on stderr and the
hierarchy's exit code. ``--json`` prints machine-readable output on stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from opsforge.cli.common import cli_errors, cli_settings, open_database
from opsforge.core.audit import AuditLog
from opsforge.core.auth.service import AuthService
from opsforge.core.config import Settings
from opsforge.core.errors import InvalidInputError
from opsforge.core.storage.db import Database

__all__ = ["audit_app", "keys_app", "register", "tenants_app", "users_app"]

users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (operators, plants).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


_errors = cli_errors
_settings = cli_settings


def _database(settings: Settings) -> Database:
    return open_database(settings, migrate="always")


def _auth(settings: Settings, database: Database) -> AuthService:
    # The CLI issues no tokens: a random signing secret is fine (and avoids a warning).
    return AuthService(
        database,
        jwt_secret=os.urandom(32).hex(),
        password_min_length=settings.auth.password_min_length,
    )


def _emit(as_json: bool, data: dict[str, Any] | list[dict[str, Any]], text: str) -> None:
    if as_json:
        out.print_json(json.dumps(data, default=str))
    else:
        out.print(text, highlight=False)


# --- serve -----------------------------------------------------------------------------------


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-* from --forwarded-allow-ips.")
    ] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(help="Trusted proxies.")] = "127.0.0.1",
) -> None:
    """Run the API (uvicorn with the app factory) after upgrading the database."""
    import uvicorn

    with _errors():
        settings = _settings()
        from opsforge.core.auth.tokens import resolve_jwt_secret

        secret = resolve_jwt_secret(settings)  # refuses to start in prod without one
        if not settings.auth.jwt_secret.get_secret_value():
            # dev/test: one generated secret shared by all workers of this server.
            os.environ["OPSFORGE_AUTH__JWT_SECRET"] = secret
        _database(settings).dispose()
        multiproc = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if workers > 1 and not multiproc:
            multiproc = str((settings.data_dir / "prometheus").resolve())
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc
        if multiproc:
            shutil.rmtree(multiproc, ignore_errors=True)
            Path(multiproc).mkdir(parents=True, exist_ok=True)
    uvicorn.run(
        "opsforge.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        access_log=False,  # the app writes its own structured access log
        log_level=settings.log_level.lower(),
    )


# --- tenants ---------------------------------------------------------------------------------


@tenants_app.command("create")
def tenants_create(
    tenant_id: Annotated[str, typer.Argument(help="Tenant id (operator or plant).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a tenant."""
    with _errors():
        settings = _settings()
        tenant = _auth(settings, _database(settings)).create_tenant(tenant_id, name)
        _emit(as_json, tenant.model_dump(mode="json"), f"tenant {tenant.id} created")


# --- users -----------------------------------------------------------------------------------


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInputError("empty password", field="password")
    return password


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant to give a role in.")] = None,
    role: Annotated[str, typer.Option(help="viewer, engineer or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    superuser: Annotated[bool, typer.Option("--superuser", help="Admin of every tenant.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user (the password is prompted for, or read from stdin)."""
    with _errors():
        settings = _settings()
        password = _read_password(password_stdin)
        user = _auth(settings, _database(settings)).create_user(
            username,
            password,
            tenant_id=tenant,
            role=role if tenant else None,
            is_superuser=superuser,
        )
        _emit(as_json, user.model_dump(mode="json"), f"user {user.username} created ({user.id})")


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument(help="User name or id.")],
    tenant: Annotated[str, typer.Option(help="Tenant.")],
    role: Annotated[str, typer.Option(help="viewer, engineer or admin.")],
    as_json: JsonOption = False,
) -> None:
    """Give a user a role in a tenant."""
    with _errors():
        settings = _settings()
        user = _auth(settings, _database(settings)).set_membership(username, tenant, role)
        _emit(as_json, user.model_dump(mode="json"), f"{user.username}: {user.roles}")


# --- keys ------------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option(help="Owner (user name or id).")],
    tenant: Annotated[str, typer.Option(help="Tenant the key acts in.")],
    role: Annotated[str, typer.Option(help="viewer, engineer or admin (at most the user's).")],
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Lifetime. [d]")] = None,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    with _errors():
        settings = _settings()
        public, plaintext = _auth(settings, _database(settings)).create_api_key(
            user, tenant, role, name=name, expires_in_days=expires_in_days
        )
        data = {**public.model_dump(mode="json"), "key": plaintext}
        _emit(
            as_json,
            data,
            f"API key {public.id} created for {user} in {tenant} as {public.role}.\n"
            f"{plaintext}\nStore it now: it is not shown again.",
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (from `keys create` or `keys list`).")],
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key (API processes honour it within their 5 s credential cache)."""
    with _errors():
        settings = _settings()
        public = _auth(settings, _database(settings)).revoke_api_key(key_id)
        _emit(as_json, public.model_dump(mode="json"), f"API key {public.id} revoked")


@keys_app.command("list")
def keys_list(
    tenant: Annotated[str, typer.Option(help="Tenant.")],
    as_json: JsonOption = False,
) -> None:
    """List a tenant's keys (never the secret)."""
    with _errors():
        settings = _settings()
        keys = _auth(settings, _database(settings)).list_api_keys(tenant)
        rows = [k.model_dump(mode="json") for k in keys]
        text = "\n".join(
            f"{k.id}  {k.prefix}  {k.role:<8}  {k.name or '-':<20}  "
            f"{'revoked' if k.revoked_at else 'active'}  last used {k.last_used_at or 'never'}"
            for k in keys
        )
        _emit(as_json, rows, text or "no keys")


# --- audit -----------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Recompute the audit chain; exit 1 and name the first bad seq when it was tampered with."""
    with _errors():
        settings = _settings()
        database = Database(settings.resolved_database_url)
        report = AuditLog(database).verify()
    if report.ok:
        _emit(as_json, report.to_dict(), f"audit chain intact: {report.num_events} events")
        return
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        err.print(
            f"[red]audit chain broken[/red] at seq {report.first_bad_seq}: {report.reason}",
            highlight=False,
        )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(tenants_app, name="tenants")
    app.add_typer(audit_app, name="audit")
