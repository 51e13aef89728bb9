"""The ENM scripting REST adapter against a fake ENM behind httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest
from rc_helpers import ENB

from opsforge.core.errors import AuthenticationError, ExternalServiceError, ServiceUnavailableError
from opsforge.engines.ranconfig.adapters.enm_rest import EnmRestExecutor
from opsforge.engines.ranconfig.adapters.memory import InMemoryEnm
from opsforge.engines.ranconfig.cm import CmState
from opsforge.engines.ranconfig.cmedit import Command, parse_response
from opsforge.engines.ranconfig.executor import CommandExecutor, execute_commands, execute_plan
from opsforge.engines.ranconfig.loader import ModelSet
from opsforge.engines.ranconfig.mom import Mom
from opsforge.engines.ranconfig.plan import build_plan
from opsforge.engines.ranconfig.templates import Template

pytest_plugins = ["rc_fixtures"]

FDN = "SubNetwork=S1,MeContext=N1,ManagedElement=1,ENodeBFunction=1,EUtranCellFDD=A"
CELL_A = f"{ENB},EUtranCellFDD=A"


class FakeEnm:
    """Speaks ENM's login / command / streamed-output protocol; answers from a script."""

    def __init__(
        self, answers: dict[str, list[dict[str, object]]], expire_first: bool = False
    ) -> None:
        self.answers = answers
        self.commands: list[str] = []
        self.logins = 0
        self.expire_first = expire_first
        self.pending: dict[str, list[dict[str, object]]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/login":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            if form != {"IDToken1": "oss", "IDToken2": "secret"}:
                return httpx.Response(401)
            self.logins += 1
            return httpx.Response(
                200, headers={"Set-Cookie": f"iPlanetDirectoryPro=tok{self.logins}; Path=/"}
            )
        cookie = request.headers.get("cookie", "")
        if "iPlanetDirectoryPro=tok" not in cookie:
            return httpx.Response(401)
        if path == "/server-scripting/services/command" and request.method == "POST":
            if self.expire_first and self.logins == 1:
                return httpx.Response(401)
            body = request.content.decode()
            assert 'name="stream_output"' in body
            command = body.split('name="command"\r\n\r\n')[1].split("\r\n--")[0]
            self.commands.append(command)
            request_id = f"req{len(self.commands)}"
            self.pending[request_id] = list(
                self.answers.get(command, [{"_type": "text", "value": "Error 1001 : unknown"}])
            )
            return httpx.Response(201, text=request_id)
        if path.startswith("/server-scripting/services/command/output/"):
            assert request.url.params["_wait_milli"] == "1000"
            request_id = path.split("/")[-2]
            elements = self.pending[request_id]
            first, rest = elements[:1], elements[1:]
            self.pending[request_id] = rest
            status = "COMPLETE" if not rest else "FETCHING"
            return httpx.Response(
                200,
                json={"_response_status": status, "output": {"_type": "group", "_elements": first}},
            )
        if path == "/logout":
            return httpx.Response(200)
        return httpx.Response(404)


ANSWERS: dict[str, list[dict[str, object]]] = {
    f"cmedit get {FDN}": [
        {"_type": "text", "value": f"FDN : {FDN}"},
        {"_type": "text", "value": "qRxLevMin : -140"},
        {"_type": "group", "_elements": [{"_type": "text", "value": "1 instance(s)"}]},
    ],
    f"cmedit set {FDN} qRxLevMin=-120": [{"_type": "text", "value": "1 instance(s) updated"}],
}


def _executor(fake: FakeEnm, password: str = "secret") -> EnmRestExecutor:
    return EnmRestExecutor("https://enm.test", "oss", password, transport=httpx.MockTransport(fake))


def test_login_command_and_streamed_output() -> None:
    fake = FakeEnm(ANSWERS)
    with _executor(fake) as enm:
        assert isinstance(enm, CommandExecutor)
        got = parse_response(enm.execute(f"cmedit get {FDN}"))
        assert got.values == {FDN: {"qRxLevMin": -140}}
        assert got.instances == 1
        assert parse_response(enm.execute(f"cmedit set {FDN} qRxLevMin=-120")).ok
    assert fake.logins == 1
    assert fake.commands == [f"cmedit get {FDN}", f"cmedit set {FDN} qRxLevMin=-120"]


def test_error_answers_come_back_as_text() -> None:
    with _executor(FakeEnm(ANSWERS)) as enm:
        result = parse_response(enm.execute("cmedit set X=1 a=1"))
    assert (result.ok, result.error_code) == (False, 1001)


def test_expired_session_logs_in_again() -> None:
    fake = FakeEnm(ANSWERS, expire_first=True)
    with _executor(fake) as enm:
        assert parse_response(enm.execute(f"cmedit set {FDN} qRxLevMin=-120")).ok
    assert fake.logins == 2


def test_refused_login() -> None:
    with _executor(FakeEnm(ANSWERS), password="wrong") as enm, pytest.raises(AuthenticationError):
        enm.execute(f"cmedit get {FDN}")


def test_unreachable_and_bad_status() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    enm = EnmRestExecutor("https://enm.test", "oss", "secret", transport=httpx.MockTransport(down))
    with pytest.raises(ServiceUnavailableError):
        enm.execute("cmedit get X=1")

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            return httpx.Response(200, headers={"Set-Cookie": "iPlanetDirectoryPro=t; Path=/"})
        return httpx.Response(500, text=json.dumps({"error": "boom"}))

    enm = EnmRestExecutor(
        "https://enm.test", "oss", "secret", transport=httpx.MockTransport(broken)
    )
    with pytest.raises(ExternalServiceError, match="expected HTTP 201, got 500"):
        enm.execute("cmedit get X=1")
    enm.close()


class RestEnm:
    """ENM's REST protocol in front of an InMemoryEnm (one poll per command)."""

    def __init__(self, enm: InMemoryEnm) -> None:
        self.enm = enm
        self.outputs: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/login":
            return httpx.Response(200, headers={"Set-Cookie": "iPlanetDirectoryPro=t; Path=/"})
        if path == "/server-scripting/services/command":
            body = request.content.decode()
            command = body.split('name="command"\r\n\r\n')[1].split("\r\n--")[0]
            request_id = str(len(self.outputs))
            self.outputs[request_id] = self.enm.execute(command)
            return httpx.Response(201, text=request_id)
        if path.startswith("/server-scripting/services/command/output/"):
            lines = self.outputs[path.split("/")[-2]].split("\n")
            elements = [{"_type": "text", "value": line} for line in lines]
            return httpx.Response(
                200, json={"_response_status": "COMPLETE", "output": {"_elements": elements}}
            )
        return httpx.Response(200)


def test_plan_over_rest_applies_and_rolls_back(
    cm_tree: CmState, mini_mom: Mom, mini_models: ModelSet
) -> None:

    tpl = Template(name="t", parameters={"EUtranCellFDD": {"cellRange": 7, "qRxLevMin": -100}})
    plan = build_plan(tpl, cm_tree, mini_mom)
    calls: list[Command] = []

    def fail_third(cmd: Command) -> str | None:
        calls.append(cmd)
        return "node busy" if len(calls) == 3 else None

    enm = InMemoryEnm(mini_mom, mini_models, cm_tree, fail_when=fail_third)
    transport = httpx.MockTransport(RestEnm(enm))
    with EnmRestExecutor("https://enm.test", "u", "p", transport=transport) as rest:
        report = execute_plan(plan, rest)
    assert report.status == "rolled_back"
    assert report.error == "node busy"
    assert enm.state.mos == cm_tree.mos
    enm.fail_when = None
    with EnmRestExecutor("https://enm.test", "u", "p", transport=transport) as rest:
        assert execute_plan(plan, rest).status == "succeeded"
        assert enm.state.mos[CELL_A].attributes["cellRange"] == 7
        assert all(s.ok for s in execute_commands(rest, plan.rollback))
    assert enm.state.mos == cm_tree.mos
