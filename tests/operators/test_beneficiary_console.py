"""Beneficiaries and member groups in the console (management-api-extensions.md §8.1, §8.3): read-only lists for
the roles that read members, an *archive* action for admins with a confirmation page and an audit record."""

import pytest

from operators.models import AuditRecord
from tests.factories import MemberFactory
from tests.operators.test_admin_actions import confirm, token_of
from withdraws.beneficiaries import beneficiary_create, beneficiary_digest
from withdraws.models import Beneficiary

BENEFICIARIES = "/admin/withdraws/beneficiary/"
MEMBERS = "/admin/ledger/member/"


@pytest.fixture
def beneficiary(member, usd):
    params = {"uid": member.uid, "currency": usd, "name": "Main bank account", "rid": "DE89370400440532013000",
              "state": "active"}
    return beneficiary_create(**params, request_digest=beneficiary_digest(**params))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "accountant", "compliance", "support"])
def test_roles_that_read_members_read_beneficiaries_without_changing_them(console, role, beneficiary):
    client = console(role)
    page = client.get(BENEFICIARIES)
    assert page.status_code == 200 and "DE89370400440532013000" in page.content.decode()
    assert client.get(f"{BENEFICIARIES}add/").status_code == 403
    detail = client.get(f"{BENEFICIARIES}{beneficiary.pk}/change/").content.decode()
    assert 'name="rid"' not in detail and 'name="state"' not in detail
    assert client.post(f"{BENEFICIARIES}{beneficiary.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ('value="archive_selected"' in page.content.decode()) == (role == "admin")


@pytest.mark.django_db
def test_technical_cannot_read_beneficiaries(console, beneficiary):
    assert console("technical").get(BENEFICIARIES).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["accountant", "compliance", "support"])
def test_only_admins_may_archive(console, role, beneficiary):
    console(role).post(BENEFICIARIES, {"action": "archive_selected", "_selected_action": [beneficiary.pk], "post": "yes"})
    assert Beneficiary.objects.get(pk=beneficiary.pk).state == "active"
    assert not AuditRecord.objects.exists()


@pytest.mark.django_db
def test_archive_confirms_first_then_archives_with_an_audit_record(console, beneficiary):
    client = console("admin")
    confirmation = client.post(BENEFICIARIES, {"action": "archive_selected", "_selected_action": [beneficiary.pk]})
    text = confirmation.content.decode()
    assert confirmation.status_code == 200 and "Yes, archive" in text and "Main bank account" in text
    assert "archived" in text  # the preview's outcome
    assert Beneficiary.objects.get(pk=beneficiary.pk).state == "active" and not AuditRecord.objects.exists()

    done = client.post(BENEFICIARIES, {"action": "archive_selected", "_selected_action": [beneficiary.pk], "post": "yes",
                                       "confirmation": token_of(confirmation)}, follow=True)
    assert "active -&gt; archived" in done.content.decode() or "active -> archived" in done.content.decode()
    assert Beneficiary.objects.get(pk=beneficiary.pk).state == "archived"
    record = AuditRecord.objects.get()
    assert (record.action, record.from_state, record.to_state, record.object_id, record.actor_email, record.amount) == (
        "archive", "active", "archived", str(beneficiary.pk), "admin.console@example.com", None)

    # Archiving an archived one changes nothing (the API's PUT is idempotent): recorded as archived -> archived.
    confirm(client, BENEFICIARIES, "archive_selected", [beneficiary])
    assert Beneficiary.objects.get(pk=beneficiary.pk).state == "archived"


@pytest.mark.django_db
def test_member_list_shows_and_filters_by_group(console):
    MemberFactory(uid="UVIP1", group="vip-1")
    MemberFactory(uid="UVIP0")
    client = console("support")
    page = client.get(MEMBERS).content.decode()
    assert "vip-1" in page and "vip-0" in page
    filtered = client.get(MEMBERS, {"group": "vip-1"}).content.decode()
    assert "UVIP1" in filtered and "UVIP0" not in filtered
