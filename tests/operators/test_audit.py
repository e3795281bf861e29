"""The audit trail: what audit_record writes, and that nobody rewrites it — not the admin, not the database."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import InternalError

from operators.models import AuditRecord
from operators.services import audit_record
from peatio_mgmt.decimals import format_amount
from tests.factories import CoinFactory, MemberFactory

REFUSED = (IntegrityError, InternalError)


@pytest.mark.django_db
def test_audit_record_names_actor_object_transition_amount_and_currency(operator):
    actor = operator("admin")
    btc, member = CoinFactory(), MemberFactory(uid="U000000042")

    with transaction.atomic():
        record = audit_record(actor=actor, action="reject_withdraw", obj=member, from_state="accepted",
                              to_state="rejected", amount=Decimal("0.25"), currency=btc, note="address on a watch list")

    record = AuditRecord.objects.get(pk=record.pk)
    assert (record.actor, record.actor_email, record.action) == (actor, "admin@example.com", "reject_withdraw")
    assert (record.content_type.model_class(), record.object_id, record.object_repr) == (type(member), str(member.pk), "U000000042")
    assert (record.from_state, record.to_state, record.amount, record.currency_id, record.note) == (
        "accepted", "rejected", Decimal("0.25"), "btc", "address on a watch list")
    assert record.created_at is not None


@pytest.mark.django_db
def test_audit_record_takes_a_currency_by_code_and_objects_with_string_keys(operator):
    actor = operator("technical")
    btc = CoinFactory()
    with transaction.atomic():
        record = audit_record(actor=actor, action="change_wallet_gateway", obj=btc, from_state="simulated",
                              to_state="manual", currency="btc")
    assert (record.object_id, record.currency_id, record.amount) == ("btc", "btc", None)


@pytest.mark.django_db
def test_the_database_refuses_to_update_or_delete_an_audit_record(operator):
    actor = operator("admin")
    with transaction.atomic():
        record = audit_record(actor=actor, action="accept_deposit", obj=actor, from_state="submitted", to_state="accepted")

    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).update(note="rewritten")
    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).delete()
    assert AuditRecord.objects.get(pk=record.pk).note == ""


@pytest.mark.django_db
def test_an_operator_with_a_trail_cannot_be_deleted(operator):
    from django.db.models import ProtectedError

    actor = operator("admin")
    with transaction.atomic():
        audit_record(actor=actor, action="accept_deposit", obj=actor, from_state="submitted", to_state="accepted")
    with pytest.raises(ProtectedError):
        actor.delete()


@pytest.mark.django_db(transaction=True)
def test_audit_record_outside_a_transaction_is_refused(operator):
    actor = operator("admin")
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=actor, action="accept_deposit", obj=actor, from_state="submitted", to_state="accepted")
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_even_a_superuser_gets_no_add_change_or_delete_in_the_audit_admin(operator, client):
    actor = operator("superadmin")
    with transaction.atomic():
        record = audit_record(actor=actor, action="accept_deposit", obj=actor, from_state="submitted", to_state="accepted")
    client.force_login(actor)
    assert client.get(f"/admin/operators/auditrecord/{record.pk}/change/").status_code == 200  # the read-only view
    assert client.post(f"/admin/operators/auditrecord/{record.pk}/change/", {"note": "x"}).status_code == 403
    assert client.post(f"/admin/operators/auditrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/operators/auditrecord/add/").status_code == 403
    assert AuditRecord.objects.get().note == ""


# --- services record their operator's action; the preview rolls it back -------------------------------------------


@pytest.fixture
def submitted(db):
    from deposits.services import deposit_create
    from tests.factories import CurrencyFactory

    return deposit_create(uid=MemberFactory().uid, currency=CurrencyFactory(), amount=Decimal("10"), tid="P-1",
                          request_digest="d")


def test_a_service_called_without_an_operator_records_nothing(submitted):
    from deposits.services import deposit_operator_accept

    deposit_operator_accept(deposit_id=submitted.pk)  # the API and the workers act for no operator
    assert not AuditRecord.objects.exists()


def test_a_service_records_its_operator_in_its_own_transaction(operator, submitted):
    from deposits.services import deposit_operator_accept

    deposit_operator_accept(deposit_id=submitted.pk, operator=operator("admin"), reason="bank statement")
    record = AuditRecord.objects.get()
    assert (record.action, record.from_state, record.to_state, record.note) == (
        "accept", "submitted", "accepted", "reason: bank statement")


def test_the_preview_shows_the_outcome_and_writes_nothing(operator, submitted):
    from deposits.services import deposit_operator_accept
    from ledger.models import Account, Operation
    from operators.services import preview

    seen = preview(lambda: deposit_operator_accept(deposit_id=submitted.pk, operator=operator("admin")))
    assert (seen.record.from_state, seen.record.to_state, seen.account.balance) == ("submitted", "accepted", 10)
    submitted.refresh_from_db()
    assert submitted.state == "submitted"
    assert not (AuditRecord.objects.exists() or Operation.objects.exists() or Account.objects.exists())


def test_the_preview_of_a_service_given_no_operator_is_refused(submitted):
    from deposits.services import deposit_operator_accept
    from operators.services import preview

    with pytest.raises(RuntimeError, match="no audit record"):
        preview(lambda: deposit_operator_accept(deposit_id=submitted.pk))
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


# What operators change through the console's forms (operators.audited) -------------------------------------------


@pytest.mark.django_db
def test_a_limit_changed_in_the_console_is_audited_with_its_old_and_new_value(console, usd):
    from tests.operators.test_ethereum_console import currency_post

    old = usd.withdraw_limit_24h
    response = console("admin").post(f"/admin/ledger/currency/{usd.pk}/change/",
                                     currency_post(usd, withdraw_limit_24h="1000000"))
    assert response.status_code == 302, response.content.decode()[:2000]
    (record,) = AuditRecord.objects.all()
    assert (record.action, record.object_id, record.actor_email) == ("change", "usd", "admin.console@example.com")
    assert record.note == f"withdraw_limit_24h: {format_amount(old)} -> 1000000.0"


@pytest.mark.django_db
def test_wallet_settings_changed_in_the_console_are_named_not_shown(console):
    import json

    from tests.operators.test_ethereum_console import currency_post

    btc = CoinFactory()
    response = console("superadmin").post(f"/admin/ledger/currency/{btc.pk}/change/",
                                          currency_post(btc, wallet_settings=json.dumps({"rpc_password": "hunter2"})))
    assert response.status_code == 302, response.content.decode()[:2000]
    (record,) = AuditRecord.objects.all()
    assert record.note == "wallet_settings: changed" and "hunter2" not in str(record)


@pytest.mark.django_db
def test_a_role_given_a_permission_in_the_console_is_audited(console):
    from django.contrib.auth.models import Group, Permission

    support = Group.objects.get(name="support")
    before = sorted(str(p) for p in support.permissions.all())
    extra = Permission.objects.get(codename="approve_withdraw")
    response = console("superadmin").post(f"/admin/auth/group/{support.pk}/change/", {
        "name": "support", "permissions": [p.pk for p in support.permissions.all()] + [extra.pk]})
    assert response.status_code == 302, response.content.decode()[:2000]
    (record,) = AuditRecord.objects.all()
    assert record.action == "change" and record.object_repr == "support"
    assert record.note == f"permissions: [{', '.join(before)}] -> [{', '.join(sorted([*before, str(extra)]))}]"
