"""ENM scripting REST adapter: runs cmedit lines on a real ENM (I/O by nature).

Protocol (as ENM's ``enm-scripting`` client library uses it):

1. ``POST /login`` with form fields ``IDToken1`` (user) and ``IDToken2`` (password); ENM
   answers with the ``iPlanetDirectoryPro`` session cookie.
2. ``POST /server-scripting/services/command`` (multipart: ``name=command``,
   ``command=<cmedit line>``, ``stream_output=true``) answers ``201`` with a request id.
3. ``GET /server-scripting/services/command/output/<id>/stream?_wait_milli=1000`` until
   ``_response_status`` is ``COMPLETE``; the ``output._elements`` tree holds the answer lines.

Credentials come from the caller (the CLI reads them from the environment only).
"""

from __future__ import annotations

from typing import Any

import httpx

from opsforge.core.errors import AuthenticationError, ExternalServiceError, ServiceUnavailableError
from opsforge.core.logging import get_logger

__all__ = ["EnmRestExecutor"]

log = get_logger(__name__)
_COMMAND = "/server-scripting/services/command"
_COOKIE = "iPlanetDirectoryPro"


def _lines(element: Any) -> list[str]:
    """Flatten ENM's ``_elements`` output tree into text lines."""
    if isinstance(element, list):
        return [line for item in element for line in _lines(item)]
    if not isinstance(element, dict):
        return [] if element is None else [str(element)]
    if "_elements" in element:
        lines = _lines(element["_elements"])
        if element.get("_type") == "group":
            lines.append("")
        return lines
    value = element.get("value")
    if value is None:
        return []
    label = element.get("_label")
    if label:
        name = label[0] if isinstance(label, list) and label else label
        return [f"{name} : {value}"]
    return [str(value)]


class EnmRestExecutor:
    """A :class:`~opsforge.engines.ranconfig.executor.CommandExecutor` over ENM's REST API.

    Parameters
    ----------
    base_url
        ENM launcher URL (``https://enm.example.net``).
    username, password
        ENM credentials.
    transport
        An httpx transport (tests pass ``httpx.MockTransport``).
    timeout_s
        Per-request timeout. [s]
    max_polls
        Output polls before giving up on a command.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
        max_polls: int = 300,
        verify_tls: bool = True,
    ) -> None:
        self._username = username
        self._password = password
        self._max_polls = max_polls
        self._client = httpx.Client(
            base_url=base_url, transport=transport, timeout=timeout_s, verify=verify_tls
        )
        self._logged_in = False

    def __enter__(self) -> EnmRestExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """Open a session. Raises :class:`AuthenticationError` when ENM refuses."""
        try:
            response = self._client.post(
                "/login", data={"IDToken1": self._username, "IDToken2": self._password}
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(f"ENM login: {exc}") from exc
        if response.status_code not in (200, 302) or _COOKIE not in self._client.cookies:
            raise AuthenticationError(
                f"ENM login refused: expected HTTP 200/302 with a {_COOKIE} cookie, got "
                f"HTTP {response.status_code}"
            )
        self._logged_in = True
        log.info("enm_logged_in", user=self._username)

    def _submit(self, command: str) -> httpx.Response:
        return self._client.post(
            _COMMAND,
            headers={
                "Accept": 'application/vnd.com.ericsson.oss.scripting+text;VERSION="1"',
                "X-Requested-With": "XMLHttpRequest",
            },
            files={
                "name": (None, "command"),
                "command": (None, command),
                "stream_output": (None, "true"),
            },
        )

    def execute(self, command: str) -> str:
        """Run one cmedit line; return the answer as text lines."""
        if not self._logged_in:
            self.login()
        try:
            response = self._submit(command)
            if response.status_code in (401, 403):
                self.login()
                response = self._submit(command)
            if response.status_code != 201:
                raise ExternalServiceError(
                    f"ENM command submit: expected HTTP 201, got {response.status_code}",
                    command=command,
                )
            request_id = response.text.strip()
            lines: list[str] = []
            for _ in range(self._max_polls):
                poll = self._client.get(
                    f"{_COMMAND}/output/{request_id}/stream",
                    params={"_wait_milli": 1000},
                    headers={
                        "Accept": 'application/vnd.com.ericsson.oss.scripting.terminal+json;VERSION="3"',
                        "X-Requested-With": "XMLHttpRequest",
                    },
                )
                if poll.status_code != 200:
                    raise ExternalServiceError(
                        f"ENM command output: expected HTTP 200, got {poll.status_code}",
                        command=command,
                    )
                body = poll.json()
                lines += _lines(body.get("output", {}).get("_elements", []))
                if body.get("_response_status") == "COMPLETE":
                    return "\n".join(lines)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(f"ENM command {command!r}: {exc}") from exc
        raise ExternalServiceError(
            f"ENM command {command!r} did not complete after {self._max_polls} polls"
        )

    def close(self) -> None:
        """Log out (best effort) and close the connection pool."""
        if self._logged_in:
            try:
                self._client.get("/logout")
            except httpx.HTTPError:
                log.warning("enm_logout_failed")
        self._client.close()
