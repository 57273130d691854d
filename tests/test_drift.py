"""The structure comparison behind ``--radix-verify``, without pytest or a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_radix.drift import Answer, Change, compare, compare_structure, request_label


def kinds(recorded: Any, live: Any) -> list[tuple[str, str | None, str | None, str | None]]:
    return [
        (c.kind, c.path, c.recorded, c.live) for c in compare_structure("GET /x", recorded, live)
    ]


def test_values_never_matter_only_paths_and_types() -> None:
    assert kinds({"a": 1, "b": ["x"]}, {"a": 99.5, "b": ["y", "z"]}) == []


def test_a_removed_object_is_one_change_not_one_per_field() -> None:
    recorded = {"keep": 1, "gone": {"x": 1, "y": {"z": True}}}
    assert kinds(recorded, {"keep": 2}) == [("removed", "$.gone", "object", None)]
    assert kinds({"keep": 2}, recorded) == [("added", "$.gone", None, "object")]


def test_array_elements_are_merged_and_types_compared() -> None:
    recorded = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
    live = [{"id": "a", "n": "1"}, {"id": "b", "n": None}]
    assert kinds(recorded, live) == [("type", "$[*].n", "number", "null|string")]


@pytest.mark.parametrize(
    ("recorded", "live", "expected"),
    [
        ({"a": "x"}, {"a": None}, ("nullable", "$.a", "string", "null")),
        ({"a": None}, {"a": "x"}, ("nullable", "$.a", "null", "string")),
        ([{"a": 1}, {"a": None}], [{"a": 1}], ("nullable", "$[*].a", "null|number", "number")),
    ],
)
def test_becoming_or_stopping_being_null_is_nullable(
    recorded: Any, live: Any, expected: tuple[str, str, str, str]
) -> None:
    assert kinds(recorded, live) == [expected]


def test_an_empty_array_says_nothing_about_its_elements() -> None:
    assert kinds({"items": [{"a": 1}]}, {"items": []}) == []
    assert kinds({"items": []}, {"items": [{"a": 1}]}) == []


def test_odd_keys_are_quoted_in_paths() -> None:
    assert kinds({}, {"a b": 1, "$date": "x"}) == [
        ("added", "$.$date", None, "string"),
        ("added", '$["a b"]', None, "number"),
    ]


def test_status_and_media_type_come_before_the_structure() -> None:
    body = json.dumps({"a": 1}).encode()
    ok = Answer(200, "application/json; charset=utf-8", body)
    assert compare("GET /x", ok, Answer(200, "Application/JSON", b"{}")) == [
        Change("GET /x", "removed", "$.a", "number", None)
    ]
    assert compare("GET /x", ok, Answer(404, "application/json", b"{}")) == [
        Change("GET /x", "status", None, "200", "404")
    ]
    assert compare("GET /x", ok, Answer(200, "text/html", b"<p>")) == [
        Change("GET /x", "media-type", None, "application/json", "text/html")
    ]
    assert compare("GET /x", Answer(200, "text/plain", b"a"), Answer(200, "text/plain", b"b")) == []


def test_request_label_is_relative_to_the_base_url_path() -> None:
    assert request_label("get", "https://h/api/export?page=2", "https://h/api/") == (
        "GET /export?page=2"
    )
    assert request_label("POST", "http://127.0.0.1:1/auth", "http://127.0.0.1:1") == "POST /auth"
