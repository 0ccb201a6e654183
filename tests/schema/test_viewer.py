"""``viewer { threads }`` and ``node(id:)`` (DESIGN §4b), on every backend and upstream kind.

Each case runs four ways: the gateway's state database on SQLite or PostgreSQL,
and its upstream the embedded store or a remote one (a second, real
``messages-gateway serve`` process, whose store is the remote). Two callers
with static tokens and ``OWNER_METADATA_KEY``; threads are made through GraphQL,
so over the remote upstream the index holds what this gateway created.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import token_digest
from gateway.thread_index import encode_cursor
from tests.conftest import Gateway, SettingsFactory, start_gateway
from tests.graphql_client import GraphQLResponse
from tests.store.postgres import PostgresServer, create_database, drop_database
from tests.store.server import ServerProcess

ALICE = "alice-token-5e1f0c"
BOB = "bob-token-93ab7d"
OWNER_KEY = "owner"
STORE_KEY = "store-key-0c3b"

CASES = [
    ("sqlite", "embedded"),
    ("postgresql", "embedded"),
    ("sqlite", "remote"),
    ("postgresql", "remote"),
]

PAGE_FIELDS = """
  edges { cursor node { id createdAt lastActivityAt metadata } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
"""
SIDEBAR = f"""
query Sidebar($first: Int, $after: String, $last: Int, $before: String,
              $orderBy: ThreadOrderField! = LAST_ACTIVITY, $order: SortOrder! = DESC) {{
  viewer {{ subject threads(first: $first, after: $after, last: $last, before: $before,
                            orderBy: $orderBy, order: $order) {{ {PAGE_FIELDS} }} }}
}}
"""


@dataclass
class Sidebar:
    gateway: Gateway
    upstream_kind: str
    rest: httpx.AsyncClient
    """The store the upstream is (its ``/v1``), for writes made past this gateway."""

    async def as_(self, token: str, query: str, **variables: Any) -> GraphQLResponse:
        return await self.gateway.graphql.execute(
            query, variables, headers={"Authorization": f"Bearer {token}"}
        )

    async def data(self, token: str, query: str, **variables: Any) -> Any:
        result = await self.as_(token, query, **variables)
        assert result.status == 200 and not result.errors, result.body
        return result.data

    async def create_threads(self, token: str, count: int) -> list[str]:
        fields = "\n".join(
            f't{n}: createThread(input: {{metadata: {{n: "{n}"}}}}) {{ thread {{ id }} }}'
            for n in range(count)
        )
        data = await self.data(token, f"mutation {{ {fields} }}")
        return [data[f"t{n}"]["thread"]["id"] for n in range(count)]

    async def page(self, token: str, **variables: Any) -> dict[str, Any]:
        data = await self.data(token, SIDEBAR, **variables)
        threads: dict[str, Any] = data["viewer"]["threads"]
        return threads


@pytest.fixture(scope="module")
def remote_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The remote upstream: a second gateway process serving its store at /v1."""
    workdir = tmp_path_factory.mktemp("remote-upstream")
    server = ServerProcess(workdir / "upstream.sqlite3", workdir, api_key=STORE_KEY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=CASES, ids=["-".join(case) for case in CASES])
async def sidebar(
    request: pytest.FixtureRequest, make_settings: SettingsFactory, tmp_path: Path
) -> AsyncIterator[Sidebar]:
    backend, upstream_kind = request.param
    settings: dict[str, Any] = {
        "auth_token_hashes": f"{token_digest(ALICE)},{token_digest(BOB)}",
        "owner_metadata_key": OWNER_KEY,
        "store_api_key": STORE_KEY,
    }
    database_url = None
    postgres: PostgresServer | None = None
    if backend == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database_url = create_database(postgres)
        settings["store_url"] = database_url
    if upstream_kind == "remote":
        remote: ServerProcess = request.getfixturevalue("remote_store")
        settings["upstream_url"] = f"{remote.base_url}/v1"
        settings["upstream_api_key"] = STORE_KEY
        rest_base = f"{remote.base_url}/v1"
    try:
        async for gateway in start_gateway(make_settings(**settings)):
            if upstream_kind == "remote":
                rest = httpx.AsyncClient(base_url=rest_base)
            else:
                rest = httpx.AsyncClient(
                    transport=gateway.http._transport, base_url="http://localhost/v1"
                )
            rest.headers["Authorization"] = f"Bearer {STORE_KEY}"
            async with rest:
                yield Sidebar(gateway, upstream_kind, rest)
    finally:
        if postgres is not None and database_url is not None:
            drop_database(postgres, database_url)


def _ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_each_caller_lists_only_its_own_threads(sidebar: Sidebar) -> None:
    alices = await sidebar.create_threads(ALICE, 3)
    bobs = await sidebar.create_threads(BOB, 2)
    alice_page = await sidebar.page(ALICE)
    bob_page = await sidebar.page(BOB)
    assert sorted(_ids(alice_page)) == sorted(alices)
    assert sorted(_ids(bob_page)) == sorted(bobs)
    alice = (await sidebar.data(ALICE, "{ viewer { subject } }"))["viewer"]["subject"]
    assert alice == f"token:{token_digest(ALICE)[:12]}"
    assert {edge["node"]["metadata"][OWNER_KEY] for edge in alice_page["edges"]} == {alice}
    # node(id:) is thread(id:): the caller's own thread, another's is FORBIDDEN.
    node = "query($id: ID!) { node(id: $id) { __typename id ... on Thread { lastActivityAt } } }"
    own = await sidebar.data(ALICE, node, id=alices[0])
    assert own["node"]["__typename"] == "Thread" and own["node"]["id"] == alices[0]
    listed = {edge["node"]["id"]: edge["node"] for edge in alice_page["edges"]}
    assert own["node"]["lastActivityAt"] == listed[alices[0]]["lastActivityAt"]
    others = await sidebar.as_(ALICE, node, id=bobs[0])
    assert others.data == {"node": None} and others.codes == ["FORBIDDEN"]
    message_id = await sidebar.as_(ALICE, node, id="msg_" + "a" * 24)
    assert message_id.data == {"node": None} and message_id.codes == ["NOT_FOUND"]


async def test_45_threads_page_forward_and_backward(sidebar: Sidebar) -> None:
    made = await sidebar.create_threads(ALICE, 45)
    await sidebar.create_threads(BOB, 1)
    forward: list[dict[str, Any]] = []
    infos = []
    after = None
    for _ in range(3):
        page = await sidebar.page(ALICE, first=20, after=after)
        forward.extend(edge["node"] for edge in page["edges"])
        infos.append(
            (
                len(page["edges"]),
                page["pageInfo"]["hasNextPage"],
                page["pageInfo"]["hasPreviousPage"],
            )
        )
        after = page["pageInfo"]["endCursor"]
    assert infos == [(20, True, False), (20, True, True), (5, False, True)]
    assert sorted(node["id"] for node in forward) == sorted(made)
    # Newest activity first; ties by thread id, descending.
    keys = [(node["lastActivityAt"], node["id"]) for node in forward]
    assert keys == sorted(keys, reverse=True)
    # Backward from the end: the same threads, the same order, pageInfo mirrored.
    backward: list[dict[str, Any]] = []
    infos = []
    before = None
    for _ in range(3):
        page = await sidebar.page(ALICE, last=20, before=before)
        backward[:0] = [edge["node"] for edge in page["edges"]]
        infos.append(
            (
                len(page["edges"]),
                page["pageInfo"]["hasNextPage"],
                page["pageInfo"]["hasPreviousPage"],
            )
        )
        before = page["pageInfo"]["startCursor"]
    assert infos == [(20, False, True), (20, True, True), (5, True, False)]
    assert backward == forward
    # Past either end: an empty page.
    empty = await sidebar.page(ALICE, first=20, after=after)
    assert empty["edges"] == [] and empty["pageInfo"]["hasPreviousPage"] is True
    assert empty["pageInfo"]["hasNextPage"] is False
    # CREATED_AT ascending is the reverse of CREATED_AT descending.
    ascending = await sidebar.page(ALICE, first=100, orderBy="CREATED_AT", order="ASC")
    descending = await sidebar.page(ALICE, first=100, orderBy="CREATED_AT")
    assert _ids(ascending) == _ids(descending)[::-1] and len(_ids(ascending)) == 45
    # A cursor of the other ordering, or none at all, is refused.
    wrong = await sidebar.as_(ALICE, SIDEBAR, first=5, after=ascending["pageInfo"]["endCursor"])
    assert wrong.codes == ["BAD_USER_INPUT"]
    for arguments in (
        {"first": 0},
        {"last": 101},
        {"first": 1, "last": 1},
        {"first": 1, "before": after},
    ):
        refused = await sidebar.as_(ALICE, SIDEBAR, **arguments)
        assert refused.codes == ["BAD_USER_INPUT"], arguments


async def test_a_crafted_cursor_is_bad_user_input_not_a_500(sidebar: Sidebar) -> None:
    """A sort key past the index column's signed 64-bit range is refused before the
    database (SQLite raised OverflowError: a 500); the range's last key is a cursor."""
    made = await sidebar.create_threads(ALICE, 1)
    thread = made[0]
    for key in (2**63, 10**40):
        crafted = base64.urlsafe_b64encode(f"a:{key}:{thread}".encode()).decode().rstrip("=")
        for arguments in ({"first": 5, "after": crafted}, {"last": 5, "before": crafted}):
            refused = await sidebar.as_(ALICE, SIDEBAR, **arguments)
            assert refused.status == 200 and refused.codes == ["BAD_USER_INPUT"], refused.body
    largest = encode_cursor("last_activity_at", 2**63 - 1, thread)
    # Newest first: everything is after the largest key, nothing before it.
    after_largest = await sidebar.page(ALICE, first=5, after=largest)
    assert _ids(after_largest) == made
    before_largest = await sidebar.page(ALICE, last=5, before=largest)
    assert before_largest["edges"] == [] and before_largest["pageInfo"]["hasNextPage"] is True


async def test_posting_moves_a_thread_first_and_deleting_removes_it(sidebar: Sidebar) -> None:
    oldest, middle, newest = await sidebar.create_threads(ALICE, 3)
    created_order = _ids(await sidebar.page(ALICE, orderBy="CREATED_AT"))
    await asyncio.sleep(1.1)  # activity is kept in seconds: the post lands in a later one
    posted = await sidebar.data(
        ALICE,
        'mutation($t: ID!) { createMessage(input: {threadId: $t, text: "hi"}) '
        "{ message { createdAt thread { lastActivityAt } } } }",
        t=oldest,
    )
    message = posted["createMessage"]["message"]
    assert message["thread"]["lastActivityAt"] == message["createdAt"]
    page = await sidebar.page(ALICE)
    assert _ids(page)[0] == oldest
    assert page["edges"][0]["node"]["lastActivityAt"] == message["createdAt"]
    assert page["edges"][0]["node"]["createdAt"] < message["createdAt"]
    assert _ids(await sidebar.page(ALICE, orderBy="CREATED_AT")) == created_order  # unmoved
    deleted = await sidebar.data(
        ALICE, "mutation($t: ID!) { deleteThread(input: {id: $t}) { deletedThreadId } }", t=oldest
    )
    assert deleted["deleteThread"]["deletedThreadId"] == oldest
    assert oldest not in _ids(await sidebar.page(ALICE))
    assert sorted(_ids(await sidebar.page(ALICE))) == sorted([middle, newest])


async def test_writes_past_the_gateway(sidebar: Sidebar) -> None:
    """Embedded: REST /v1 writes are in the index at once (exact). Remote: a thread
    made elsewhere is listed once the gateway has read it."""
    alice = (await sidebar.data(ALICE, "{ viewer { subject } }"))["viewer"]["subject"]
    (mine,) = await sidebar.create_threads(ALICE, 1)
    made = await sidebar.rest.post("/threads", json={"metadata": {OWNER_KEY: alice}})
    assert made.status_code == 200, made.text
    elsewhere = made.json()["id"]
    if sidebar.upstream_kind == "embedded":
        assert elsewhere in _ids(await sidebar.page(ALICE))
    else:
        assert elsewhere not in _ids(await sidebar.page(ALICE))
        await sidebar.data(ALICE, "query($id: ID!) { thread(id: $id) { id } }", id=elsewhere)
        assert elsewhere in _ids(await sidebar.page(ALICE))
    await asyncio.sleep(1.1)
    posted = await sidebar.rest.post(
        f"/threads/{mine}/messages", json={"role": "user", "content": "from REST"}
    )
    assert posted.status_code == 200, posted.text
    if sidebar.upstream_kind == "remote":  # seen once the gateway lists its messages
        await sidebar.data(
            ALICE,
            "query($id: ID!) { thread(id: $id) { messages(first: 1) { nodes { id } } } }",
            id=mine,
        )
    page = await sidebar.page(ALICE)
    assert _ids(page)[0] == mine
    assert page["edges"][0]["node"]["lastActivityAt"] > page["edges"][0]["node"]["createdAt"]
    assert (await sidebar.rest.delete(f"/threads/{elsewhere}")).status_code == 200
    if sidebar.upstream_kind == "remote":  # a read that finds it gone removes it
        gone = await sidebar.as_(ALICE, "query($id: ID!) { thread(id: $id) { id } }", id=elsewhere)
        assert gone.codes == ["NOT_FOUND"]
    assert elsewhere not in _ids(await sidebar.page(ALICE))


async def test_without_owner_isolation_every_caller_lists_every_thread(
    make_settings: SettingsFactory,
) -> None:
    """Authentication alone (no OWNER_METADATA_KEY) isolates nothing: the list is every
    thread the gateway knows, REST-made ones included; the subject is still the caller's."""
    settings = make_settings(
        auth_token_hashes=f"{token_digest(ALICE)},{token_digest(BOB)}", store_api_key=STORE_KEY
    )
    async for gateway in start_gateway(settings):
        made = await gateway.http.post(
            "/v1/threads", json={}, headers={"Authorization": f"Bearer {STORE_KEY}"}
        )
        assert made.status_code == 200
        for token in (ALICE, BOB):
            result = await gateway.graphql.execute(
                "{ viewer { subject threads { nodes { id } } } }",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert not result.errors, result.errors
            assert result.data["viewer"]["subject"] == f"token:{token_digest(token)[:12]}"
            assert result.data["viewer"]["threads"]["nodes"] == [{"id": made.json()["id"]}]


@pytest.fixture(scope="module")
def open_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A remote upstream without a key of its own: any bearer passes (passthrough)."""
    workdir = tmp_path_factory.mktemp("open-upstream")
    server = ServerProcess(workdir / "upstream.sqlite3", workdir)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_passthrough_callers_list_only_what_their_own_key_read(
    request: pytest.FixtureRequest,
    make_settings: SettingsFactory,
    open_store: ServerProcess,
    tmp_path: Path,
    backend: str,
) -> None:
    """Remote upstream, no UPSTREAM_API_KEY, no gateway auth: each caller's bearer is
    its upstream key, so the index holds each row under ``key:<12 hex>`` of that key
    (never the key) and a caller lists only its own key's rows; no bearer, none of them."""
    settings: dict[str, Any] = {"upstream_url": f"{open_store.base_url}/v1"}
    postgres: PostgresServer | None = None
    database_url = None
    if backend == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        database_url = create_database(postgres)
        settings["store_url"] = database_url
    try:
        async for gateway in start_gateway(make_settings(**settings)):
            async with httpx.AsyncClient(base_url=f"{open_store.base_url}/v1") as rest:
                sidebar = Sidebar(gateway, "remote", rest)
                assert (await sidebar.data(ALICE, "{ viewer { subject } }"))["viewer"] == {
                    "subject": None
                }
                alices = await sidebar.create_threads(ALICE, 2)
                bobs = await sidebar.create_threads(BOB, 1)
                # A thread made past the gateway, then read by Alice: hers from then on.
                made = await rest.post(
                    "/threads", json={}, headers={"OpenAI-Beta": "assistants=v2"}
                )
                assert made.status_code == 200, made.text
                elsewhere = made.json()["id"]
                read = await sidebar.data(
                    ALICE, "query($id: ID!) { thread(id: $id) { id } }", id=elsewhere
                )
                assert read["thread"] == {"id": elsewhere}

                alice_page = await sidebar.page(ALICE, first=100)
                assert sorted(_ids(alice_page)) == sorted([*alices, elsewhere])
                assert all(edge["node"]["metadata"] is not None for edge in alice_page["edges"])
                bob_page = await sidebar.page(BOB, first=100)
                assert _ids(bob_page) == bobs
                for someone_else in ("carol-key-2f7a", "x"):
                    assert _ids(await sidebar.page(someone_else, first=100)) == []
                # No bearer: only rows recorded without one (there are none: nothing
                # reaches the upstream without a key), whatever the others read.
                anonymous = await gateway.graphql.execute(
                    "{ viewer { subject threads(first: 100) { nodes { id } } } }"
                )
                assert not anonymous.errors, anonymous.errors
                assert anonymous.data["viewer"] == {"subject": None, "threads": {"nodes": []}}
                # Deleted past the gateway: Bob's 404 says nothing of Alice's key (her
                # row stays); her own read that finds it gone removes it from her list.
                assert (await rest.delete(f"/threads/{elsewhere}")).status_code == 200
                query_one = "query($id: ID!) { thread(id: $id) { id } }"
                assert (await sidebar.as_(BOB, query_one, id=elsewhere)).codes == ["NOT_FOUND"]
                ids_only = "{ viewer { threads(first: 100) { nodes { id } } } }"
                listed = (await sidebar.data(ALICE, ids_only))["viewer"]["threads"]["nodes"]
                assert {"id": elsewhere} in listed  # ids only: the index, no upstream call
                assert (await sidebar.as_(ALICE, query_one, id=elsewhere)).codes == ["NOT_FOUND"]
                assert sorted(_ids(await sidebar.page(ALICE, first=100))) == sorted(alices)
                if backend == "sqlite":  # the rows' holders: digests, never the keys
                    with sqlite3.connect(tmp_path / "store.sqlite3") as state:
                        holders = {
                            owner for (owner,) in state.execute("SELECT owner FROM thread_index")
                        }
                    assert holders == {
                        f"key:{token_digest(ALICE)[:12]}",
                        f"key:{token_digest(BOB)[:12]}",
                    }
    finally:
        if postgres is not None and database_url is not None:
            drop_database(postgres, database_url)
