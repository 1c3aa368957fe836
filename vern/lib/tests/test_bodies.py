"""One reader for JSON request bodies: deep nesting, other encodings and large bodies are refused, never a crash."""

from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vern.lib.bodies import MAX_DEPTH, BodyRefused, nesting_depth, parse_json, read_body

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner),
    max_leaves=30,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@pytest.mark.parametrize("opening,closing", [(b"[", b"]"), (b'{"a":', b"}"), (b'[{"a":', b"}]")])
def test_100000_nested_brackets_are_refused_with_400_before_the_parser_recurses(opening, closing):
    body = opening * 100_000 + b"1" + closing * 100_000
    with pytest.raises(BodyRefused) as refused:
        parse_json(body)
    assert (refused.value.reason, refused.value.status) == ("request", 400)
    # Without the bound the standard parser gives up on this body with RecursionError (a 500).
    with pytest.raises(RecursionError):
        json.loads(body)


def test_only_opening_brackets_are_refused_too():
    with pytest.raises(BodyRefused):
        parse_json(b"[" * 100_000)


def test_nesting_up_to_the_bound_is_read_and_one_more_is_not():
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) == json.loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    with pytest.raises(BodyRefused):
        parse_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert MAX_DEPTH < sys.getrecursionlimit() // 4


def test_brackets_inside_strings_do_not_count():
    body = json.dumps({"message": "[" * 10_000 + '\\"{' * 100, "k": ["]]]"]}).encode()
    assert parse_json(body)["message"].startswith("[[[")


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8, which UTF-8 forbids
        '{"a": "b"}'.encode("utf-16"),  # json.loads would read UTF-16 and UTF-32 from bytes
        '{"a": "b"}'.encode("utf-32"),
        b"",
        b"{not json",
    ],
)
def test_other_bytes_than_utf8_json_are_refused_with_400(body):
    with pytest.raises(BodyRefused) as refused:
        parse_json(body)
    assert refused.value.status == 400


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_the_depth_counted_is_the_depth_of_the_value(value):
    text = json.dumps(value)
    assert nesting_depth(text, 1000) == depth_of(value)
    if depth_of(value) <= MAX_DEPTH:
        assert parse_json(text.encode()) == value


class Counting(io.BytesIO):
    """A body stream that remembers how much was read of it."""


def test_a_body_over_the_limit_is_refused_with_413_and_read_to_its_end():
    body = b"x" * 100_000
    stream = Counting(body)
    with pytest.raises(BodyRefused) as refused:
        read_body({"CONTENT_LENGTH": str(len(body))}, stream, 4096)
    assert (refused.value.reason, refused.value.status) == ("too_large", 413)
    assert stream.tell() == len(body)  # drained: the client is not reset while it still sends


def test_a_body_without_length_is_read_when_the_server_ends_it_and_refused_over_the_limit():
    environ = {"wsgi.input_terminated": True, "wsgi.input": Counting(b"y" * 100_000)}
    with pytest.raises(BodyRefused) as refused:
        read_body(environ, io.BytesIO(), 4096)
    assert refused.value.status == 413 and environ["wsgi.input"].tell() == 100_000
    small = {"wsgi.input_terminated": True, "wsgi.input": io.BytesIO(b"[1]")}
    assert read_body(small, io.BytesIO(), 4096) == b"[1]"
    assert read_body({"wsgi.input": io.BytesIO(b"[1]")}, io.BytesIO(), 4096) == b""  # as Django reads it


def test_a_length_that_says_less_than_was_sent_gets_no_more_than_it_says():
    stream = io.BytesIO(b'{"a": 1}' + b"z" * 100_000)
    assert read_body({"CONTENT_LENGTH": "8"}, stream, 4096) == b'{"a": 1}'
    assert stream.tell() == 8


def test_a_length_that_is_not_a_number_is_refused_with_400():
    with pytest.raises(BodyRefused) as refused:
        read_body({"CONTENT_LENGTH": "-5"}, io.BytesIO(b"[]"), 4096)
    assert refused.value.status == 400
