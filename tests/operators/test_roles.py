"""The permission matrix: each role's group holds exactly its permissions, and nobody rewrites the books."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from ledger.models import Operation
from operators.models import AuditRecord
from operators.roles import NEVER, ROLES, SUPERADMIN, role_permissions

pytestmark = pytest.mark.django_db

# The matrix written out in full, independently of operators.roles: a change there must change this.
EXPECTED = {
    "admin": {
        "deposits.view_deposit", "deposits.add_deposit", "deposits.change_deposit", "deposits.accept_deposit",
        "withdraws.view_withdraw", "withdraws.add_withdraw", "withdraws.change_withdraw", "withdraws.approve_withdraw",
        "ledger.view_currency", "ledger.add_currency", "ledger.change_currency",
        "trades.view_market", "trades.add_market", "trades.change_market",
        "ledger.view_operation", "ledger.post_correction", "ledger.view_chartaccount", "ledger.view_transfer",
        "operators.view_reports",
        "ledger.view_member", "ledger.view_account", "trades.view_order", "trades.view_trade",
        "operators.view_auditrecord", "deposits.view_paymentaddress", "deposits.view_depositscancursor",
        "withdraws.view_ethereumtransaction",
        "withdraws.view_beneficiary", "withdraws.archive_beneficiary",
        "events.view_event", "events.view_eventpartner", "events.view_eventdelivery", "events.manage_deliveries",
    },
    "accountant": {
        "ledger.view_operation", "ledger.view_chartaccount", "ledger.view_transfer", "operators.view_reports",
        "ledger.view_member", "deposits.view_deposit", "withdraws.view_withdraw", "ledger.view_account",
        "deposits.add_deposit", "operators.view_auditrecord", "deposits.view_paymentaddress",
        "deposits.view_depositscancursor", "withdraws.view_ethereumtransaction",
        "withdraws.view_beneficiary", "events.view_event",
    },
    "compliance": {
        "ledger.view_operation", "ledger.view_chartaccount", "ledger.view_transfer", "operators.view_reports",
        "ledger.view_member", "deposits.view_deposit", "withdraws.view_withdraw", "ledger.view_account",
        "operators.view_auditrecord", "deposits.view_paymentaddress", "deposits.view_depositscancursor",
        "withdraws.view_ethereumtransaction",
        "withdraws.view_beneficiary", "events.view_event",
    },
    "support": {
        "ledger.view_member", "deposits.view_deposit", "withdraws.view_withdraw", "ledger.view_account",
        "operators.view_auditrecord", "deposits.view_paymentaddress", "deposits.view_depositscancursor",
        "withdraws.view_ethereumtransaction",
        "withdraws.view_beneficiary", "events.view_event",
    },
    "technical": {
        "ledger.view_operation", "ledger.view_chartaccount", "ledger.view_transfer", "operators.view_reports",
        "ledger.view_currency", "ledger.add_currency", "ledger.change_currency", "ledger.change_wallet_gateway",
        "trades.view_market", "trades.add_market", "trades.change_market", "operators.view_auditrecord",
        "deposits.view_depositscancursor",
        # no events.view_event: an event shows a deposit or a withdraw, which technical does not read (§16.6)
        "events.view_eventpartner", "events.view_eventdelivery", "events.manage_deliveries",
    },
}

BOOKS_REWRITES = {
    "ledger.add_operation", "ledger.change_operation", "ledger.delete_operation",
    "operators.add_auditrecord", "operators.change_auditrecord", "operators.delete_auditrecord",
}


def group_permissions(role: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list("content_type__app_label", "codename")
    }


def all_permissions() -> set[str]:
    return {f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_group_holds_exactly_its_permissions(role):
    assert group_permissions(role) == EXPECTED[role]


def test_superadmin_group_holds_everything_but_what_nobody_may_do():
    held = group_permissions(SUPERADMIN)
    assert {"ledger.delete_currency", "auth.change_user", "withdraws.approve_withdraw", "ledger.post_correction",
            "operators.view_reports", "deposits.change_deposit"} <= held
    assert not held & NEVER
    assert held == role_permissions(SUPERADMIN, all_permissions())


@pytest.mark.parametrize("role", ROLES)
def test_no_role_may_add_change_or_delete_postings_or_audit_records(role):
    assert not group_permissions(role) & BOOKS_REWRITES


@pytest.mark.parametrize("role", ROLES)
def test_no_role_may_delete_money_records(role):
    money_deletes = {"deposits.delete_deposit", "withdraws.delete_withdraw", "ledger.delete_account",
                     "ledger.delete_transfer", "trades.delete_order", "trades.delete_trade"}
    assert not group_permissions(role) & money_deletes


def test_support_cannot_change_a_withdraw_nor_see_operations(operator):
    support = operator("support")
    assert support.has_perm("withdraws.view_withdraw")
    assert not support.has_perm("withdraws.change_withdraw")
    assert not support.has_perm("withdraws.approve_withdraw")
    assert not support.has_perm("ledger.view_operation")
    assert not support.has_perm("operators.view_reports")


def test_admin_manages_withdraws_but_only_reads_members(operator):
    admin_user = operator("admin")
    assert admin_user.has_perms(["withdraws.change_withdraw", "withdraws.approve_withdraw", "deposits.accept_deposit"])
    assert admin_user.has_perm("ledger.view_member") and not admin_user.has_perm("ledger.change_member")
    assert not admin_user.has_perm("ledger.change_wallet_gateway")


def test_technical_manages_wallet_gateways_but_not_deposits(operator):
    technical = operator("technical")
    assert technical.has_perms(["ledger.change_currency", "ledger.change_wallet_gateway", "trades.change_market"])
    assert not technical.has_perm("deposits.view_deposit")


def test_accountant_creates_deposits_but_cannot_accept_them(operator):
    accountant = operator("accountant")
    assert accountant.has_perm("deposits.add_deposit")
    assert not accountant.has_perm("deposits.accept_deposit")
    assert not accountant.has_perm("deposits.change_deposit")


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_refuses_to_change_or_delete_postings_and_audit_records(operator, role):
    request = RequestFactory().get("/admin/")
    request.user = operator(role)
    guarded = [admin.site._registry[m] for m in (Operation, AuditRecord) if m in admin.site._registry]
    assert AuditRecord in admin.site._registry  # the Operation admin comes with the ledger's admin module
    for model_admin in guarded:
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert not model_admin.has_add_permission(request)


def test_every_role_reads_the_audit_trail_in_the_admin(operator, client):
    for role in ROLES:
        client.force_login(operator(role))
        assert client.get("/admin/operators/auditrecord/").status_code == 200
        assert client.get("/admin/operators/auditrecord/add/").status_code == 403


def test_roles_are_reinstalled_exactly_after_a_manual_drift(operator):
    from django.apps import apps

    from operators.roles import install_roles

    Group.objects.get(name="support").permissions.add(Permission.objects.get(codename="change_withdraw"))
    install_roles(apps)
    assert group_permissions("support") == EXPECTED["support"]
