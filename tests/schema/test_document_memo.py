"""``DocumentMemo``: facts about a parsed document, kept by identity, bounded."""

from __future__ import annotations

from graphql import parse

from gateway.schema.document_memo import DocumentMemo


def test_a_fact_is_worked_out_once_per_document() -> None:
    memo = DocumentMemo(max_document_chars=1000)
    document = parse("{ __typename }")
    calls: list[str] = []

    def tokens() -> int:
        calls.append("tokens")
        return 3

    assert memo.fact(document, "tokens", tokens) == 3
    assert memo.fact(document, "tokens", tokens) == 3
    assert calls == ["tokens"] and memo.hits == 1
    # Another document of the same text is another object: its facts are its own.
    assert memo.fact(parse("{ __typename }"), "tokens", lambda: 4) == 4


def test_the_memo_is_bounded_and_keeps_nothing_for_long_documents() -> None:
    memo = DocumentMemo(max_document_chars=40, size=2)
    documents = [parse(f"{{ a{n}: __typename }}") for n in range(3)]
    for n, document in enumerate(documents):
        memo.fact(document, "n", lambda n=n: n)  # type: ignore[misc]
    # The oldest left: worked out again.
    assert memo.fact(documents[0], "n", lambda: "again") == "again"
    assert memo.fact(documents[2], "n", lambda: "again") == 2
    long = parse("{ __typename }" + " " * 40)
    assert memo.fact(long, "n", lambda: 1) == 1
    assert memo.fact(long, "n", lambda: 2) == 2  # never kept
    assert memo.hits == 1
