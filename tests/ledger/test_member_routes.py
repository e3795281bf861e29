"""POST /members, POST /members/get, PUT /members/update over HTTP (management-api-extensions.md §5.4, §5.5,
§7.3–7.5): answers, every parameter message in order, retries and conflicts, 20 concurrent creations."""

import pytest

from ledger.models import Member
from tests.api_client import PREFIX, signed_body
from tests.deposits.test_deposit_routes import run_threads
from tests.ledger.conftest import ALICE, alice, bob  # noqa: F401  (fixtures)

DAVE = {"uid": "U553190244", "email": "Dave@Example.com", "level": 1, "state": "pending", "group": "VIP-1"}


def test_create_answers_the_member_and_a_retry_answers_it_again(api):
    created = api.post("members", DAVE)
    assert created.status_code == 201
    body = created.json()
    assert list(body) == ["uid", "email", "level", "role", "group", "state", "created_at"]
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "uid": "U553190244", "email": "dave@example.com", "level": 1, "role": "member", "group": "vip-1",
        "state": "pending"}
    again = api.post("members", DAVE)
    assert (again.status_code, again.json()) == (201, body)
    assert Member.objects.count() == 1


def test_a_seeded_member_is_confirmed_by_a_create_with_the_same_values(api, alice):  # noqa: F811
    answer = api.post("members", {"uid": ALICE, "email": alice.email.upper(), "level": 3})
    assert answer.status_code == 201 and answer.json()["uid"] == ALICE


def test_conflicts(api, alice, bob):  # noqa: F811
    api.post("members", DAVE)
    assert api.post("members", {"uid": "u553190244", "email": "dave@example.com", "level": 2}).json() == {
        "errors": ["Uid has already been taken"]}
    assert api.post("members", {"uid": "U553190245", "email": alice.email.upper()}).json() == {
        "errors": ["Email has already been taken"]}
    assert api.post("members", {"uid": " ", "email": "not-an-address"}).json() == {
        "errors": ["Uid can't be blank", "Email is invalid"]}
    long = api.post("members", {"uid": "U" * 33, "email": "x" * 250 + "@example.com"})
    assert long.status_code == 422 and long.json() == {"errors": [
        "Uid is too long (maximum is 32 characters)", "Email is too long (maximum is 255 characters)"]}


def test_create_parameter_messages_in_order(api):
    assert api.post("members", {"email": "x@example.com", "level": -1, "role": "owner", "group": "vip 1"}).json() == {
        "error": "uid is missing, level does not have a valid value, role does not have a valid value, "
                 "group does not have a valid value"}
    assert api.post("members", {}).json() == {"error": "uid is missing, email is missing"}
    assert api.post("members", {"uid": "U1", "email": "a@b.c", "level": "x", "state": "Active"}).json() == {
        "error": "level is invalid, state does not have a valid value"}
    assert api.post("members", {"uid": "U1", "email": "a@b.c", "level": 2**31}).json() == {
        "error": "level does not have a valid value"}
    assert api.post("members", {"uid": "U1", "email": "a@b.c", "state": "s" * 17}).json() == {
        "error": "state does not have a valid value"}


def test_get_finds_a_member_ignoring_case(api, alice):  # noqa: F811
    answer = api.post("members/get", {"uid": ALICE.lower()})
    assert answer.status_code == 201 and answer.json()["uid"] == ALICE and answer.json()["group"] == "vip-0"
    assert api.post("members/get", {"uid": "U000000000"}).json() == {"error": "Couldn't find record."}
    assert api.post("members/get", {}).json() == {"error": "uid is missing"}


def test_update_changes_the_given_fields(api, bob):  # noqa: F811
    api.post("members", DAVE)
    answer = api.put("members/update", {"uid": "U553190244", "state": "active", "level": 2})
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("level", "state", "group", "email")} == {
        "level": 2, "state": "active", "group": "vip-1", "email": "dave@example.com"}
    same = api.put("members/update", {"uid": "U553190244", "state": "active", "group": " VIP-1 "})
    assert (same.status_code, same.json()) == (200, answer.json())
    # After the update the original create no longer matches.
    assert api.post("members", DAVE).json() == {"errors": ["Uid has already been taken"]}
    assert api.put("members/update", {"uid": "U553190244", "email": bob.email}).json() == {
        "errors": ["Email has already been taken"]}
    assert api.put("members/update", {"uid": "U000000000", "state": "banned"}).status_code == 404


def test_update_parameter_messages_in_order(api):
    assert api.put("members/update", {"uid": "U553190244"}).json() == {
        "error": "email, level, state, group are missing, at least one parameter must be provided"}
    assert api.put("members/update", {}).json() == {
        "error": "uid is missing, email, level, state, group are missing, at least one parameter must be provided"}
    assert api.put("members/update", {"uid": "U1", "level": -1, "state": "", "group": "a" * 33}).json() == {
        "error": "level does not have a valid value, state does not have a valid value, group does not have a valid value"}


def test_wrong_verbs_answer_405_with_the_routes_verb(api):
    put = api.client.generic("PUT", PREFIX + "members", signed_body({}), content_type="application/json")
    assert (put.status_code, put["Allow"]) == (405, "POST")
    post = api.client.generic("POST", PREFIX + "members/update", signed_body({}), content_type="application/json")
    assert (post.status_code, post["Allow"]) == (405, "PUT")


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_creations_make_one_member_and_answer_alike(api):
    answers = run_threads(20, lambda i: api.post("members", DAVE))
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert Member.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_with_one_uid_and_other_fields_create_one(api):
    answers = run_threads(10, lambda i: api.post("members", {**DAVE, "level": i}))
    assert sorted(a.status_code for a in answers) == [201] + [422] * 9
    assert all(a.json() == {"errors": ["Uid has already been taken"]} for a in answers if a.status_code == 422)
    assert Member.objects.count() == 1
