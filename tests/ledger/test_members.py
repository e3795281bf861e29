"""POST /members and PUT /members/update below HTTP (management-api-extensions.md §7.3–7.5, §5.4), and the Member
entity (§6.2)."""

import threading

import pytest
from django.db import connection

from ledger.models import Member
from ledger.representations import render_member
from ledger.selectors import member_get
from ledger.services import member_create, member_update
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from tests.factories import MemberFactory


def refused(call, **kwargs):
    with pytest.raises(BusinessRuleError) as error:
        call(**kwargs)
    return error.value.messages


@pytest.mark.django_db
def test_member_create_normalises_and_renders_the_member():
    member = member_create(uid="U553190244", email="Dave@Example.com", level=1, state="pending", group=" VIP-1 ")
    body = render_member(member)
    assert list(body) == ["uid", "email", "level", "role", "group", "state", "created_at"]
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "uid": "U553190244", "email": "dave@example.com", "level": 1, "role": "member", "group": "vip-1",
        "state": "pending"}
    assert body["created_at"].endswith("Z")
    assert Member.objects.get(pk=member.pk).group == "vip-1"


@pytest.mark.django_db
def test_member_create_with_the_stored_values_is_a_retry_and_writes_nothing():
    first = member_create(uid="U553190244", email="dave@example.com", level=1, group="vip-1")
    before = Member.objects.values().get(pk=first.pk)
    again = member_create(uid="u553190244", email="DAVE@example.com", level=1, group="VIP-1")
    assert again.pk == first.pk and again.uid == "U553190244"
    assert Member.objects.values().get(pk=first.pk) == before
    assert Member.objects.count() == 1


@pytest.mark.django_db
def test_a_seeded_member_is_confirmed_by_a_create_stating_its_values():
    alice = MemberFactory(uid="U487205863", email="alice@example.com", level=3)
    assert member_create(uid="U487205863", email="alice@example.com", level=3).pk == alice.pk


@pytest.mark.django_db
def test_member_create_with_other_values_for_a_taken_uid_is_refused():
    member_create(uid="U553190244", email="dave@example.com", level=1)
    assert refused(member_create, uid="u553190244", email="dave@example.com", level=2) == ["Uid has already been taken"]


@pytest.mark.django_db
def test_member_create_lists_every_failing_check_in_order():
    MemberFactory(email="alice@example.com")
    assert refused(member_create, uid="U553190245", email="ALICE@example.com") == ["Email has already been taken"]
    assert refused(member_create, uid=" ", email="not-an-address") == ["Uid can't be blank", "Email is invalid"]
    long_email = "a" * 250 + "@example.com"
    assert refused(member_create, uid="U" * 33, email=long_email) == [
        "Uid is too long (maximum is 32 characters)", "Email is too long (maximum is 255 characters)"]
    assert not Member.objects.exclude(email="alice@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_creations_make_one_member_and_all_answer_it():
    barrier, answers, errors = threading.Barrier(20), [], []

    def create():
        try:
            barrier.wait()
            answers.append(member_create(uid="U553190244", email="dave@example.com", level=1).pk)
        except Exception as error:  # reported on the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Member.objects.count() == 1
    assert answers == [Member.objects.get().pk] * 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_with_different_fields_one_wins_the_others_are_told_the_uid_is_taken():
    barrier, outcomes = threading.Barrier(10), []

    def create(level):
        try:
            barrier.wait()
            member_create(uid="U553190244", email="dave@example.com", level=level)
            outcomes.append("created")
        except BusinessRuleError as error:
            outcomes.append(error.messages)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(level,)) for level in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert sorted(map(str, outcomes)).count(str(["Uid has already been taken"])) == 9


@pytest.mark.django_db
def test_member_get_ignores_case_and_404s_an_unknown_uid():
    alice = MemberFactory(uid="U487205863")
    assert member_get(uid="u487205863") == alice
    with pytest.raises(RecordNotFound):
        member_get(uid="U000000000")


@pytest.mark.django_db
def test_member_update_writes_the_given_fields():
    member = member_create(uid="U553190244", email="dave@example.com", level=1, state="pending", group="vip-1")
    updated = member_update(uid="u553190244", state="active", level=2)
    stored = Member.objects.get(pk=member.pk)
    assert (stored.state, stored.level, stored.group, stored.email) == ("active", 2, "vip-1", "dave@example.com")
    assert updated.updated_at > member.updated_at
    member_update(uid="U553190244", email="DAVE2@example.com", group=" VIP-2")
    assert Member.objects.values_list("email", "group").get(pk=member.pk) == ("dave2@example.com", "vip-2")


@pytest.mark.django_db
def test_member_update_to_the_stored_values_writes_nothing():
    member = member_create(uid="U553190244", email="dave@example.com", level=1)
    again = member_update(uid="U553190244", email="dave@example.com", level=1, state="active", group="vip-0")
    assert Member.objects.get(pk=member.pk).updated_at == member.updated_at == again.updated_at
    # After an update the original create no longer matches: it is a conflict now.
    member_update(uid="U553190244", level=2)
    assert refused(member_create, uid="U553190244", email="dave@example.com", level=1) == ["Uid has already been taken"]


@pytest.mark.django_db
def test_member_update_refuses_a_taken_or_malformed_email_and_404s_an_unknown_uid():
    MemberFactory(email="bob@example.com")
    member = member_create(uid="U553190244", email="dave@example.com")
    assert refused(member_update, uid="U553190244", email="bob@example.com") == ["Email has already been taken"]
    assert refused(member_update, uid="U553190244", email="nope") == ["Email is invalid"]
    assert Member.objects.get(pk=member.pk).email == "dave@example.com"
    with pytest.raises(RecordNotFound):
        member_update(uid="U000000000", state="banned")


@pytest.mark.django_db(transaction=True)
def test_member_update_locks_the_member_row(side_connection):
    member = member_create(uid="U553190244", email="dave@example.com")
    other = side_connection()
    other.execute("BEGIN")
    other.execute("SELECT 1 FROM members WHERE id = %s FOR UPDATE", [member.pk])
    done = threading.Event()

    def update():
        try:
            member_update(uid="U553190244", level=5)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=update)
    thread.start()
    assert not done.wait(0.5)  # waiting for the row lock
    other.execute("ROLLBACK")
    thread.join(10)
    assert Member.objects.get(pk=member.pk).level == 5
