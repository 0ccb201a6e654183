"""``gateway.http_edge._redirects``: same-host redirects become relative."""

from __future__ import annotations

from gateway.http_edge._redirects import _relative


def test_same_host_location_becomes_its_path_and_query() -> None:
    assert _relative(b"http://evil.example/graphql?x=1", b"evil.example") == b"/graphql?x=1"
    assert _relative(b"https://Evil.Example:8443/a", b"evil.example:8443") == b"/a"


def test_network_path_cannot_be_produced() -> None:
    assert _relative(b"http://h//evil.example/x", b"h") == b"/evil.example/x"


def test_other_locations_are_kept() -> None:
    assert _relative(b"https://other.example/x", b"h") == b"https://other.example/x"
    assert _relative(b"/already/relative", b"h") == b"/already/relative"
