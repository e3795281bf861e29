"""GET /api/v2/management/swagger: the OpenAPI document of the 20 routes."""

import json

import pytest

from peatio_mgmt.management_api.routes import ROUTES

PREFIX = "/api/v2/management/"


@pytest.fixture
def document(http, db):
    response = http.get(PREFIX + "swagger")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_every_route_is_documented_with_its_verb_and_success_status(document):
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {PREFIX + path for path in ROUTES}
    for path, route in ROUTES.items():
        operations = document["paths"][PREFIX + path]
        assert list(operations) == [route.verb.lower()]
        responses = operations[route.verb.lower()]["responses"]
        assert str(201 if route.verb == "POST" else 200) in responses
        assert {"400", "401", "404", "405", "413", "422", "500"} <= set(responses)


def test_request_body_is_the_jws_with_the_routes_data(document):
    operation = document["paths"][PREFIX + "accounts/balance"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["payload", "signatures"]
    data = schema["properties"]["payload"]["x-claims"]["properties"]["data"]
    assert data["required"] == ["uid", "currency"]
    success = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert set(success["properties"]) == {"uid", "balance", "locked"}


def test_timestamp_response_is_described(document):
    success = document["paths"][PREFIX + "timestamp"]["post"]["responses"]["201"]
    assert success["content"]["application/json"]["schema"]["properties"]["timestamp"]["type"] == "integer"


def test_routes_without_an_importable_handler_are_still_listed(document, monkeypatch, http):
    monkeypatch.setitem(ROUTES, "bogus", type(ROUTES["timestamp"])("bogus", "PUT", "tools", "no.such.module.view"))
    paths = json.loads(http.get(PREFIX + "swagger").content)["paths"]
    assert "responses" in paths[PREFIX + "bogus"]["put"]
    assert "200" in paths[PREFIX + "bogus"]["put"]["responses"]


def test_swagger_is_only_served_to_get(http):
    response = http.post(PREFIX + "swagger", "{}", content_type="application/json")
    assert (response.status_code, response.json()) == (404, {"error": "Not found."})
