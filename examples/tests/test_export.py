"""An example suite, as a team testing against the Radix Data API would write it.

It replays from the committed cassettes in ``tests/cassettes`` with no credentials and no
network. ``python examples/record.py`` records them again against the bundled fake server.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests

FIELDS = {
    "propertyId",
    "organizationId",
    "subjectAverage",
    "compsAverage",
    "subjectAverageByUnitType",
    "compsAverageByUnitType",
    "createdAt",
}


@pytest.fixture(scope="session")
def benchmarks(radix_session_factory: Any) -> list[dict[str, Any]]:
    """The export, fetched once for the whole suite (recorded in its own cassette)."""
    response = radix_session_factory().get("/export")
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()
    return data


def test_export_answers_json(radix_session: requests.Session) -> None:
    response = radix_session.get("/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), list)


def test_every_record_has_the_documented_fields(benchmarks: list[dict[str, Any]]) -> None:
    assert benchmarks
    for record in benchmarks:
        assert record.keys() >= FIELDS


@pytest.mark.parametrize("unit_type", ["studio", "1BR", "2BR", "3BR"])
def test_averages_by_unit_type_are_positive(
    benchmarks: list[dict[str, Any]], unit_type: str
) -> None:
    for record in benchmarks:
        assert record["subjectAverageByUnitType"][unit_type] > 0
        assert record["compsAverageByUnitType"][unit_type] > 0


def test_created_at_is_an_extended_json_date(benchmarks: list[dict[str, Any]]) -> None:
    for record in benchmarks:
        assert set(record["createdAt"]) == {"$date"}
        assert record["createdAt"]["$date"].endswith("Z")


def test_the_token_is_a_jwt_for_our_client(radix_token: str, radix_credentials: Any) -> None:
    claims = jwt.decode(radix_token, options={"verify_signature": False})
    assert claims["sub"] == radix_credentials.client_id
