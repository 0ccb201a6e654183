"""Ids, cursors and run ids are checked before any request: no path traversal, no injection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from gateway.upstream import ID_PATTERN, InvalidIdError, UpstreamSession
from gateway.upstream._ids import check_id, path_segment
from tests.upstream.conftest import MakeClient
from tests.upstream.helpers import open_session

BAD_IDS = [
    "../x",
    "a/b",
    "%2F",
    "..",
    "x" * 200,
    "x" * 65,
    "",
    "thréad_1",
    "msg_1 ",
    "a\nb",
    "a?b=c",
    "a#b",
    "٣",  # an Arabic-Indic digit: \d would accept it
]

Call = Callable[[UpstreamSession, Any], Awaitable[Any]]

# (parameter name reported, how to call with the bad value in that place)
PLACES: list[tuple[str, Call]] = [
    ("thread_id", lambda s, bad: s.get_thread(bad)),
    ("thread_id", lambda s, bad: s.modify_thread(bad, {})),
    ("thread_id", lambda s, bad: s.delete_thread(bad)),
    ("thread_id", lambda s, bad: s.create_message(bad, {"role": "user", "content": "x"})),
    ("thread_id", lambda s, bad: s.list_messages(bad, {})),
    ("thread_id", lambda s, bad: s.get_message(bad, "msg_1")),
    ("message_id", lambda s, bad: s.get_message("thread_abc", bad)),
    ("message_id", lambda s, bad: s.modify_message("thread_abc", bad, {})),
    ("message_id", lambda s, bad: s.delete_message("thread_abc", bad)),
    ("after", lambda s, bad: s.list_messages("thread_abc", {"after": bad})),
    ("before", lambda s, bad: s.list_messages("thread_abc", {"before": bad})),
    ("run_id", lambda s, bad: s.list_messages("thread_abc", {"run_id": bad})),
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize(("param", "call"), PLACES)
async def test_invalid_ids_are_refused_before_any_request(
    upstream: respx.MockRouter, make_client: MakeClient, bad: str, param: str, call: Call
) -> None:
    route = upstream.route().respond(200, json={})
    session = open_session(make_client())
    with pytest.raises(InvalidIdError) as caught:
        await call(session, bad)
    assert route.call_count == 0
    assert session.calls == 0
    assert caught.value.param == param
    assert caught.value.value == bad
    assert len(str(caught.value)) < 80


@pytest.mark.parametrize("bad", [None, 42, b"thread_1", ["thread_1"]], ids=repr)
def test_non_strings_are_invalid_ids(bad: object) -> None:
    with pytest.raises(InvalidIdError):
        check_id("thread_id", bad)


def test_the_message_truncates_a_huge_value() -> None:
    huge = "A" * 1_000_000 + "/"
    error = InvalidIdError("thread_id", huge)
    assert len(str(error)) < 80
    assert str(error).startswith("invalid thread_id: 'AAAA")


@given(st.from_regex(ID_PATTERN, fullmatch=True))
def test_every_well_formed_id_is_its_own_path_segment(value: str) -> None:
    assert check_id("thread_id", value) == value
    assert path_segment("thread_id", value) == value


@given(st.text(max_size=80))
def test_anything_accepted_is_a_plain_path_segment(value: str) -> None:
    try:
        segment = path_segment("thread_id", value)
    except InvalidIdError:
        return
    assert segment == value
    assert "/" not in segment
    assert "%" not in segment
    assert segment not in (".", "..")
    assert 1 <= len(segment) <= 64
