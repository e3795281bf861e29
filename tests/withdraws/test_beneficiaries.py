"""Beneficiaries below HTTP (management-api-extensions.md §7.10–7.13, §8.3, §8.4): creation with safe retries,
the list, state changes under a row lock, withdraws paid to a beneficiary, and what the database refuses."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from peatio_mgmt.errors import BusinessRuleError, IllegalTransition, RecordNotFound
from tests.factories import CoinFactory, MemberFactory, fund_member
from withdraws import services
from withdraws.beneficiaries import beneficiary_create, beneficiary_digest, beneficiary_list, beneficiary_state_change
from withdraws.models import Beneficiary, Withdraw
from withdraws.representations import render_beneficiary

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def create(**params):
    params.setdefault("name", "Cold storage")
    digest_params = {k: v for k, v in params.items()}
    return beneficiary_create(**params, request_digest=beneficiary_digest(**digest_params))


def refused(call, **params):
    with pytest.raises(BusinessRuleError) as error:
        call(**params)
    return error.value.messages


@pytest.mark.django_db
def test_create_renders_the_beneficiary_and_a_repeat_is_a_retry(member, btc):
    first = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, description="Hardware wallet")
    body = render_beneficiary(Beneficiary.objects.select_related("member").get(pk=first.pk))
    assert list(body) == ["id", "uid", "currency", "name", "description", "rid", "data", "state", "created_at",
                          "updated_at"]
    assert {k: v for k, v in body.items() if not k.endswith("_at")} == {
        "id": first.pk, "uid": member.uid, "currency": "btc", "name": "Cold storage", "description": "Hardware wallet",
        "rid": BTC_ADDRESS, "data": {}, "state": "pending"}
    again = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, description="Hardware wallet")
    assert again.pk == first.pk and Beneficiary.objects.count() == 1
    # Still a retry after activation: the digest is of the creating request.
    beneficiary_state_change(beneficiary_id=first.pk, uid=member.uid, state="active")
    assert create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, description="Hardware wallet").state == "active"


@pytest.mark.django_db
def test_same_destination_with_another_request_is_taken_until_archived(member, btc):
    first = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS)
    assert refused(create, uid=member.uid, currency=btc, rid=BTC_ADDRESS, name="Exchange account") == [
        "Rid has already been taken"]
    beneficiary_state_change(beneficiary_id=first.pk, uid=member.uid, state="archived")
    # Archived: the rid is free, and even the original request creates a new beneficiary.
    second = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS)
    assert second.pk != first.pk and second.state == "pending"


@pytest.mark.django_db
def test_coin_destination_may_come_from_data_address(member):
    eth = CoinFactory(id="eth", name="Ethereum", symbol="Ξ", address_format="ethereum")
    beneficiary = create(uid=member.uid, currency=eth, name="Ledger", data={"address": ETH_ADDRESS})
    assert (beneficiary.rid, beneficiary.data) == (ETH_ADDRESS, {"address": ETH_ADDRESS})


@pytest.mark.django_db
def test_fiat_beneficiary_keeps_its_data_and_may_start_active(member, usd):
    data = {"full_name": "Alice Example", "bank_name": "Commerzbank", "bic": "COBADEFFXXX"}
    beneficiary = create(uid=member.uid, currency=usd, name="Main bank account", rid="DE89370400440532013000",
                         data=data, state="active")
    stored = Beneficiary.objects.get(pk=beneficiary.pk)
    assert (stored.data, stored.state, stored.description) == (data, "active", None)


@pytest.mark.django_db
def test_create_lists_every_failing_check_in_order(member, btc, usd):
    assert refused(create, uid="U999999999", currency=btc, name="", rid="not-an-address") == [
        "Member must exist", "Name can't be blank", "Rid is invalid"]
    usd.enabled = False
    usd.save()
    assert refused(create, uid=member.uid, currency=usd, name=" ", description="d" * 256, data={"k": "v" * 5000}) == [
        "Currency is disabled", "Name can't be blank", "Description is too long (maximum is 255 characters)",
        "Rid can't be blank", "Data is too long (maximum is 4096 characters)"]
    assert refused(create, uid=member.uid, currency=btc, name="n" * 65, rid="x" * 96) == [
        "Name is too long (maximum is 64 characters)", "Rid is too long (maximum is 95 characters)"]
    assert not Beneficiary.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_creations_make_one_beneficiary_and_all_answer_it(member, btc):
    barrier, answers, errors = threading.Barrier(10), [], []

    def run():
        try:
            barrier.wait()
            answers.append(create(uid=member.uid, currency=btc, rid=BTC_ADDRESS).pk)
        except Exception as error:  # reported on the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert answers == [Beneficiary.objects.get().pk] * 10


@pytest.mark.django_db
def test_state_changes_follow_the_transitions_and_repeat_without_writing(member, usd):
    beneficiary = create(uid=member.uid, currency=usd, rid="IBAN1")
    active = beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid.lower(), state="active")
    assert active.state == "active" and active.updated_at > beneficiary.updated_at
    again = beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid, state="active")
    assert again.updated_at == active.updated_at
    archived = beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid, state="archived")
    assert archived.state == "archived"
    assert beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid, state="archived").updated_at == \
        archived.updated_at
    with pytest.raises(IllegalTransition) as error:
        beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid, state="active")
    assert error.value.messages == ["Cannot activate beneficiary in state archived"]
    pending = create(uid=member.uid, currency=usd, rid="IBAN2")
    assert beneficiary_state_change(beneficiary_id=pending.pk, uid=member.uid, state="archived").state == "archived"


@pytest.mark.django_db
def test_state_change_of_another_members_beneficiary_is_not_found(member, usd):
    beneficiary = create(uid=member.uid, currency=usd, rid="IBAN1")
    other = MemberFactory()
    for beneficiary_id, uid in ((beneficiary.pk, other.uid), (beneficiary.pk, "U000000000"), (beneficiary.pk + 1, member.uid)):
        with pytest.raises(RecordNotFound):
            beneficiary_state_change(beneficiary_id=beneficiary_id, uid=uid, state="archived")


@pytest.mark.django_db
def test_list_filters_newest_first(member, usd, btc):
    other = MemberFactory()
    a = create(uid=member.uid, currency=usd, rid="IBAN1")
    b = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    c = create(uid=other.uid, currency=usd, rid="IBAN1")
    assert list(beneficiary_list()) == [c, b, a]
    assert list(beneficiary_list(member=member)) == [b, a]
    assert list(beneficiary_list(currency=usd)) == [c, a]
    assert list(beneficiary_list(state="active")) == [b]


@pytest.mark.django_db
def test_database_keeps_beneficiaries_immutable_undeleted_and_on_their_transitions(member, usd):
    beneficiary = create(uid=member.uid, currency=usd, rid="IBAN1")
    for statement in ("UPDATE beneficiaries SET rid = 'IBAN2'", "UPDATE beneficiaries SET data = '{\"a\": 1}'",
                      "DELETE FROM beneficiaries", "UPDATE beneficiaries SET state = 'archived'",
                      "INSERT INTO beneficiaries (member_id, currency_id, name, rid, data, request_digest, created_at,"
                      f" updated_at) VALUES ({member.pk}, 'usd', 'x', 'IBAN9', '[]', repeat('a', 64), now(), now())"):
        if statement.endswith("'archived'"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)  # pending -> archived is allowed ...
            with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("UPDATE beneficiaries SET state = 'active'")  # ... archived -> active is not
            continue
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert Beneficiary.objects.get(pk=beneficiary.pk).rid == "IBAN1"


# Withdraws to a beneficiary (§7.13) --------------------------------------------------------------------------------


def withdraw(member, currency, **params):
    return services.withdraw_create(uid=member.uid, currency=currency, amount=Decimal("0.05"), request_digest="d",
                                    **params)


@pytest.mark.django_db
def test_withdraw_to_an_active_beneficiary_takes_its_rid(member, btc):
    fund_member(member, btc, 1)
    beneficiary = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    made = withdraw(member, btc, beneficiary_id=beneficiary.pk, tid="bob-out-77")
    stored = Withdraw.objects.get(pk=made.pk)
    assert (stored.rid, stored.beneficiary_id, stored.state, stored.sum) == (BTC_ADDRESS, beneficiary.pk, "submitted",
                                                                            Decimal("0.05"))


@pytest.mark.django_db
def test_withdraw_to_a_beneficiary_refused_with_the_contracts_messages(member, btc, usd):
    fund_member(member, btc, 1)
    other = MemberFactory()
    others = create(uid=other.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    pending_usd = create(uid=member.uid, currency=usd, rid="IBAN1")
    assert refused(withdraw, member=member, currency=btc, beneficiary_id=others.pk) == ["Beneficiary must exist"]
    assert refused(withdraw, member=member, currency=btc, beneficiary_id=pending_usd.pk) == [
        "Beneficiary currency and withdraw currency don't match", "Beneficiary is not active"]
    archived = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    beneficiary_state_change(beneficiary_id=archived.pk, uid=member.uid, state="archived")
    assert refused(withdraw, member=member, currency=btc, beneficiary_id=archived.pk, tid="T-1") == [
        "Beneficiary is not active"]
    assert refused(services.withdraw_create, uid="U000000000", currency=btc, amount=Decimal("0"),
                   beneficiary_id=others.pk, request_digest="d") == [
        "Member must exist", "Beneficiary must exist", "Sum must be greater than 0.0", "Amount must be greater than 0.0",
        "Sum must be greater than or equal to 0.001"]
    assert not Withdraw.objects.exists()


@pytest.mark.django_db
def test_a_retried_withdraw_is_answered_even_after_its_beneficiary_was_archived(member, btc):
    fund_member(member, btc, 1)
    beneficiary = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    first = withdraw(member, btc, beneficiary_id=beneficiary.pk, tid="T-1")
    beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=member.uid, state="archived")
    assert withdraw(member, btc, beneficiary_id=beneficiary.pk, tid="T-1").pk == first.pk
    assert Withdraw.objects.get(pk=first.pk).rid == BTC_ADDRESS  # archiving touches no withdraw


@pytest.mark.django_db
def test_database_refuses_a_withdraw_whose_destination_is_not_its_beneficiarys(member, btc):
    fund_member(member, btc, 1)
    beneficiary = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    made = withdraw(member, btc, beneficiary_id=beneficiary.pk)
    with pytest.raises(IntegrityError, match="withdraws_beneficiary_destination_fk"), transaction.atomic():
        Withdraw.objects.filter(pk=made.pk).update(rid="bc1qother")
    with pytest.raises(IntegrityError), transaction.atomic():
        Withdraw.objects.filter(pk=made.pk).update(member=MemberFactory())
    Withdraw.objects.filter(pk=made.pk).update(beneficiary=None, rid="bc1qother")  # MATCH SIMPLE: no key, no check


@pytest.mark.django_db(transaction=True)
def test_withdraw_holds_its_beneficiary_so_an_archive_waits_for_it(member, btc, side_connection):
    fund_member(member, btc, 1)
    beneficiary = create(uid=member.uid, currency=btc, rid=BTC_ADDRESS, state="active")
    blocker = side_connection()
    blocker.execute("BEGIN")  # holds the member's account row: the withdraw stops after locking the beneficiary
    blocker.execute("SELECT 1 FROM accounts WHERE member_id = %s FOR UPDATE", [member.pk])
    outcomes = {}

    def run(name, call):
        try:
            outcomes[name] = call()
        except Exception as error:  # reported on the main thread
            outcomes[name] = error
        finally:
            connection.close()

    making = threading.Thread(target=run, args=("withdraw", lambda: withdraw(member, btc, beneficiary_id=beneficiary.pk)))
    making.start()
    making.join(0.5)
    archiving = threading.Thread(target=run, args=("archive", lambda: beneficiary_state_change(
        beneficiary_id=beneficiary.pk, uid=member.uid, state="archived")))
    archiving.start()
    archiving.join(0.5)
    assert archiving.is_alive()  # waits for the withdraw's FOR SHARE lock
    blocker.execute("ROLLBACK")
    making.join(10)
    archiving.join(10)
    assert isinstance(outcomes["withdraw"], Withdraw) and outcomes["archive"].state == "archived"
    assert Withdraw.objects.get().beneficiary_id == beneficiary.pk
