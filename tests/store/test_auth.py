"""``GATEWAY_STORE_API_KEY``: /v1 requires ``Authorization: Bearer <key>``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import openai
import pytest

from gateway.store import StoreBackend, create_store_app
from tests.store.conftest import make_sdk
from tests.store.server import ServerProcess
from tests.store.spec import SpecChecker

pytestmark = pytest.mark.filterwarnings("ignore:The Assistants API is deprecated")

KEY = "sk-store-test-0123456789"
UNAUTHORIZED = {
    "error": {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("locked-store")
    running = ServerProcess(workdir / "messages.sqlite3", workdir, api_key=KEY)
    yield running
    running.stop()


def thread_count(server: ServerProcess) -> int:
    conn = sqlite3.connect(f"file:{server.store_path}?mode=ro", uri=True)
    try:
        count: int = conn.execute("SELECT count(*) FROM threads").fetchone()[0]
        return count
    finally:
        conn.close()


def test_sdk_with_the_key_works(locked_server: ServerProcess, spec_checker: SpecChecker) -> None:
    with make_sdk(f"{locked_server.base_url}/v1", spec_checker, api_key=KEY) as sdk:
        thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
        assert [m.thread_id for m in sdk.beta.threads.messages.list(thread.id)] == [thread.id]


def test_sdk_with_a_wrong_key_gets_authentication_error(
    locked_server: ServerProcess, spec_checker: SpecChecker
) -> None:
    before = thread_count(locked_server)
    wrong = "sk-wrong-key-which-must-not-be-echoed"
    sdk = make_sdk(f"{locked_server.base_url}/v1", spec_checker, api_key=wrong)
    with sdk, pytest.raises(openai.AuthenticationError) as info:
        sdk.beta.threads.create()
    assert info.value.status_code == 401
    assert info.value.body == UNAUTHORIZED["error"]
    assert info.value.code == "invalid_api_key"
    assert wrong not in info.value.response.text
    assert thread_count(locked_server) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": KEY},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": f"Bearer {KEY[:-1]}"},
    ],
    ids=["missing", "no-scheme", "basic", "empty", "longer", "shorter"],
)
def test_requests_without_the_right_key_are_refused_first(
    locked_server: ServerProcess, spec_checker: SpecChecker, headers: dict[str, str]
) -> None:
    """401 comes before any other check: routing, ids, bodies; nothing is stored."""
    before = thread_count(locked_server)
    with httpx.Client(
        base_url=f"{locked_server.base_url}/v1",
        headers=headers,
        event_hooks={"response": [spec_checker.sync_hook]},
    ) as http:
        for response in (
            http.post("/threads", json={}),
            http.get("/threads/abc"),
            http.post("/threads", content=b"{not json"),
            http.get("/no/such/route"),
        ):
            assert response.status_code == 401
            assert response.json() == UNAUTHORIZED
    assert thread_count(locked_server) == before


def test_bearer_scheme_is_case_insensitive(locked_server: ServerProcess) -> None:
    response = httpx.post(
        f"{locked_server.base_url}/v1/threads", headers={"Authorization": f"bearer {KEY}"}
    )
    assert response.status_code == 200


async def test_open_when_no_key_is_configured(store: StoreBackend) -> None:
    transport = httpx.ASGITransport(app=create_store_app(store, api_key=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://embedded-store") as c:
        assert (await c.post("/threads")).status_code == 200
        anything = {"Authorization": "Bearer whatever"}
        assert (await c.post("/threads", headers=anything)).status_code == 200
