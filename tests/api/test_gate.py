"""The gate's checks, in the contract's order, with their exact statuses, bodies and headers (§2.3)."""

import json
import logging
import time

import pytest
from django.test import Client

from peatio_mgmt.management_api.pagination import PagePagination
from peatio_mgmt.management_api.signing import b64url, sign
from peatio_mgmt.management_api.tools import ToolViewSet
from tests.api_client import PREFIX, SIGNERS, signed_body, signing_key

pytestmark = pytest.mark.django_db


def answer(response):
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_signed_request_reaches_the_route(send):
    response = send("timestamp")
    status, body = answer(response)
    assert status == 201
    assert abs(body["timestamp"] - time.time()) < 5


@pytest.mark.parametrize("path", ["timestamp", "timestamp/"])
def test_route_answers_with_and_without_one_trailing_slash(send, path):
    assert send(path).status_code == 201


@pytest.mark.parametrize("path", ["", "nope", "timestamp//", "deposits/get/x", "TIMESTAMP", "swagger/x"])
def test_unknown_path_under_the_prefix_is_not_found(send, path):
    assert answer(send(path)) == (404, {"error": "Not found."})


def test_the_prefix_itself_without_its_slash_is_not_found_in_json(http, gate_config):
    assert answer(http.post(PREFIX.rstrip("/"), "{}", content_type="application/json")) == (404, {"error": "Not found."})


def test_unknown_path_is_checked_before_the_verb(http, gate_config):
    assert answer(http.get(PREFIX + "nope")) == (404, {"error": "Not found."})


@pytest.mark.parametrize("verb", ["GET", "PATCH", "OPTIONS"])
def test_verbs_other_than_post_put_delete_are_refused(send, verb):
    assert answer(send("timestamp", verb=verb)) == (405, {"error": "Only POST, PUT, and DELETE verbs are allowed."})


def test_head_fails_the_verb_check_with_an_empty_body(send):
    response = send("timestamp", verb="HEAD")
    assert response.status_code == 405
    assert response.content == b""


@pytest.mark.parametrize(("path", "verb", "allow"), [
    ("timestamp", "DELETE", "POST"), ("timestamp", "PUT", "POST"), ("deposits/state", "POST", "PUT"),
    ("withdraws/action", "DELETE", "PUT"),
])
def test_wrong_verb_of_the_route_answers_405_with_allow(send, path, verb, allow):
    response = send(path, verb=verb)
    assert answer(response) == (405, {"error": "Method not allowed."})
    assert response["Allow"] == allow


def test_query_parameters_are_refused_after_the_verb(send):
    assert answer(send("timestamp?a=1")) == (400, {"error": "Query parameters are not allowed."})
    assert answer(send("timestamp?flag")) == (400, {"error": "Query parameters are not allowed."})
    assert send("timestamp?a=1", verb="DELETE").status_code == 405


def test_a_bare_question_mark_passes(send):
    assert send("timestamp?").status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", ""])
def test_only_json_bodies_are_accepted(send, content_type):
    assert answer(send(content_type=content_type)) == (400, {"error": "Only JSON body is accepted."})


@pytest.mark.parametrize("content_type", ["Application/JSON", "application/json; charset=utf-8", " application/json ;x=1"])
def test_json_media_type_is_case_insensitive_with_parameters(send, content_type):
    assert send(content_type=content_type).status_code == 201


def test_query_string_is_checked_before_content_type(send):
    assert answer(send("timestamp?a", content_type="text/plain"))[0] == 400
    assert answer(send("timestamp?a", content_type="text/plain"))[1] == {"error": "Query parameters are not allowed."}


def test_body_above_one_mebibyte_is_refused_quickly(send):
    body = b"x" * (1024 * 1024 + 1)
    started = time.perf_counter()
    assert answer(send(body=body)) == (413, {"error": "Request body is too large."})
    assert time.perf_counter() - started < 0.5


def test_content_type_is_checked_before_the_size(send):
    assert answer(send(body=b"x" * (1024 * 1024 + 1), content_type="text/plain"))[0] == 400


def test_huge_content_length_is_refused_without_reading_the_body(http, gate_config):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body must not be read")

        readline = read

    request = {"REQUEST_METHOD": "POST", "PATH_INFO": PREFIX + "timestamp", "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(50 * 1024 * 1024), "wsgi.input": Unreadable()}
    assert answer(http.request(**request)) == (413, {"error": "Request body is too large."})


def test_body_of_exactly_one_mebibyte_is_read(send):
    # Padding inside the JSON object: a valid token of exactly 1 MiB.
    token = json.loads(signed_body({}))
    text = json.dumps({**token, "pad": ""})
    text = json.dumps({**token, "pad": "x" * (1024 * 1024 - len(text))})
    assert len(text) == 1024 * 1024
    assert send(body=text).status_code == 201


def signature_entry(kid="backend-1.test"):
    return {"protected": b64url(b'{"alg":"RS256"}'), "header": {"kid": kid}, "signature": "AA"}


@pytest.mark.parametrize("body", [
    b"not json", b"\xff\xfe{}", b"[]", b'"payload"', b"{}", b'{"payload": "e30", "signatures": {}}',
    b'{"payload": 1, "signatures": []}', b'{"signatures": []}', b'{"payload": "e30"}',
    b'{"payload": "e30", "signatures": [1]}', b'{"payload": "e30", "signatures": [{"protected": "e30"}]}',
    b'{"payload": "e30", "signatures": [{"protected": "e30", "signature": "AA", "header": {"kid": 1}}]}',
    b'{"payload": "e30", "signatures": [{"protected": "e30", "signature": "AA", "header": "kid"}]}',
    b'{"payload": "e30", "signatures": [{"protected": 1, "signature": "AA", "header": {"kid": "a"}}]}',
    b'{"payload": "e30", "signatures": [], "x": NaN}', b"[" * 100_000,
])
def test_body_not_of_the_token_shape_cannot_be_parsed(send, body):
    assert answer(send(body=body)) == (400, {"error": "Couldn't parse JWT."})


def test_more_than_16_signatures_cannot_be_parsed(send):
    body = {"payload": "e30", "signatures": [signature_entry()] * 17}
    assert answer(send(body=body)) == (400, {"error": "Couldn't parse JWT."})


def test_16_signatures_are_a_valid_shape(send):
    token = json.loads(signed_body({}))
    token["signatures"] += [signature_entry("someone-else")] * 14
    assert send(body=token).status_code == 201


def test_empty_signatures_are_a_valid_shape_without_enough_signatures(send):
    body = {"payload": b64url(b'{"data": {}}'), "signatures": []}
    assert answer(send(body=body)) == (401, {"error": "Not enough signatures for the action."})


@pytest.mark.parametrize("payload", ["%%%", "W10", b64url(b"not json"), b64url(b'"text"'), b64url(b"\xff")])
def test_payload_that_is_not_base64url_json_object_fails_verification(send, payload):
    body = sign({}, [(kid, signing_key(kid, alg), alg) for kid, alg in SIGNERS.items()])
    body["payload"] = payload
    assert answer(send(body=body)) == (401, {"error": "Failed to verify JWT."})


@pytest.mark.parametrize("data", [[1], "text", 1, True])
def test_data_that_is_not_an_object_is_invalid(send, data):
    assert answer(send(data=data)) == (422, {"error": "data is invalid"})


def test_data_null_or_absent_means_no_parameters(send):
    now = int(time.time())
    body = sign({"iat": now, "jti": "absent-data-" + str(time.time_ns())},
                [(kid, signing_key(kid, alg), alg) for kid, alg in SIGNERS.items()])
    assert send(body=body).status_code == 201
    assert send(data=None).status_code == 201


def test_list_result_sets_pagination_headers(send, monkeypatch):
    def listing(view, request):
        paginator = PagePagination()
        paginator.page, paginator.limit, paginator.total = 2, 1, 7
        return paginator.get_paginated_response([{"n": 1}])

    monkeypatch.setattr(ToolViewSet, "timestamp", listing)
    response = send("timestamp")
    assert answer(response) == (201, [{"n": 1}])
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("7", "2", "1")


def test_unexpected_error_answers_500_without_details(send, monkeypatch, caplog):
    def broken(view, request):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(ToolViewSet, "timestamp", broken)
    response = send("timestamp")
    assert answer(response) == (500, {"error": "Internal server error."})
    assert b"secret" not in response.content
    assert "secret detail" in caplog.text


def test_csrf_protection_does_not_apply(gate_config):
    client = Client(enforce_csrf_checks=True)
    response = client.post(PREFIX + "timestamp", signed_body({}), content_type="application/json")
    assert response.status_code == 201


def test_one_log_line_per_request_without_token(send, caplog):
    body = signed_body({})
    with caplog.at_level(logging.INFO, logger="peatio_mgmt.management_api"):
        send(body=body)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("management_api ")]
    assert len(lines) == 1
    assert "route=timestamp status=201 kids=backend-1.test,backend-2.test duration_ms=" in lines[0]
    token = json.loads(body)
    assert token["payload"] not in caplog.text
    assert token["signatures"][0]["signature"] not in caplog.text


def test_failure_reason_goes_to_the_log_only(send, caplog):
    with caplog.at_level(logging.INFO, logger="peatio_mgmt.management_api"):
        response = send(signers={"backend-1.test": "RS256"})
    assert answer(response) == (401, {"error": "Not enough signatures for the action."})
    assert "missing ['backend-2.test']" in caplog.text
