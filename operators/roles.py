"""The operator roles and exactly the permissions each holds: the one place the matrix lives.

A role is a Django group of the same name. `install_roles` makes every group hold exactly the permissions of its
row here — run after every `migrate`/`flush` (post_migrate, operators.apps),
so the groups in the database never drift from this table.

Words of the issue and how they map
- read   = view_<model>
- manage = view/add/change_<model>; delete is never granted on a money record (deposits, withdraws, accounts,
  transfers, orders, trades): nothing that money refers to is ever deleted.
- the books = the journal (operations), the chart of accounts, transfers and the accounting reports.
- Postings (ledger.Operation) are never added, changed or deleted through the admin by anyone: the admin's add
  form would bypass the ledger core (no account update, no lock). A correction is a new posting made through the
  ledger core by an admin action guarded by ledger.post_correction.
- Audit records are readable by every role and writable by none (operators.services.audit_record writes them).
- wallet gateways = the currency's wallet_gateway / wallet_settings fields, guarded by ledger.change_wallet_gateway
  on top of ledger.change_currency (an admin manages currencies but not where their money is sent from).
"""

from __future__ import annotations

SUPERADMIN, ADMIN, ACCOUNTANT, COMPLIANCE, SUPPORT, TECHNICAL = (
    "superadmin", "admin", "accountant", "compliance", "support", "technical",
)

# (app_label, model, codename, name): permissions beyond Django's add/change/delete/view, attached to the model
# they act on so that the permission string reads naturally ("deposits.accept_deposit").
CUSTOM_PERMISSIONS = [
    ("deposits", "deposit", "accept_deposit", "Can accept a deposit (credits the member)"),
    ("withdraws", "withdraw", "approve_withdraw", "Can approve a withdraw (pays it out)"),
    ("ledger", "operation", "post_correction", "Can post a correcting entry to the journal"),
    ("ledger", "currency", "change_wallet_gateway", "Can change a currency's wallet gateway and settings"),
    ("withdraws", "beneficiary", "archive_beneficiary", "Can archive a member's beneficiary"),
    ("operators", "auditrecord", "view_reports", "Can view the accounting reports"),
]


def read(*models: str) -> set[str]:
    """'app.model' -> {'app.view_model'}."""
    return {f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in models}


def manage(*models: str) -> set[str]:
    """'app.model' -> view, add and change of the model (never delete)."""
    return {f"{m.split('.')[0]}.{action}_{m.split('.')[1]}" for m in models for action in ("view", "add", "change")}


BOOKS = read("ledger.operation", "ledger.chartaccount", "ledger.transfer") | {"operators.view_reports"}
AUDIT = read("operators.auditrecord")
# Coin deposits (domain.md §14.7): every role that reads deposits reads their addresses and the scan cursors, and
# the signed ethereum transactions (domain.md §15.8).
COIN_DEPOSITS = read("deposits.paymentaddress", "deposits.depositscancursor", "withdraws.ethereumtransaction")

# The partner event stream (coin-deposits-ethereum-events.md §16.6): the events are read by every role that reads
# deposits or withdraws; partners and deliveries are handled (retry now, rewind, replay) by technical and admin.
EVENTS = read("events.event")
# Events show deposits and withdraws: read by the roles that read those (§16.6), not by every manager of deliveries.
EVENT_DELIVERIES = read("events.eventpartner", "events.eventdelivery") | {"events.manage_deliveries"}

# Permissions no role holds, superadmin's group included (a superuser bypasses groups: the ModelAdmins refuse).
NEVER = {
    "ledger.add_operation", "ledger.change_operation", "ledger.delete_operation",
    "operators.add_auditrecord", "operators.change_auditrecord", "operators.delete_auditrecord",
    "deposits.delete_deposit", "withdraws.delete_withdraw", "ledger.delete_account", "ledger.delete_transfer",
    "trades.delete_order", "trades.delete_trade",
    # Beneficiaries change only through their services (archive action); rows are never deleted.
    "withdraws.add_beneficiary", "withdraws.change_beneficiary", "withdraws.delete_beneficiary",
    # A second factor's secret is its owner's alone: only the setup page reads and writes it.
    "operators.add_operatortotp", "operators.change_operatortotp", "operators.delete_operatortotp",
    "operators.view_operatortotp",
    # The outbox and delivery state change only through events.services (the console's actions call them).
    *(f"events.{action}_{model}" for action in ("add", "change", "delete")
      for model in ("event", "eventpartner", "eventdelivery")),
}

# Superadmin's group holds every permission of these apps except NEVER (resolved against the database).
SUPERADMIN_APPS = ("ledger", "deposits", "withdraws", "trades", "operators", "auth", "events")

# Beneficiaries are read-only in the console; archiving is an action (management-api-extensions.md §8.3).
BENEFICIARIES = read("withdraws.beneficiary")

ROLE_PERMISSIONS: dict[str, set[str]] = {
    ADMIN: manage("deposits.deposit", "withdraws.withdraw", "ledger.currency", "trades.market")
    | {"deposits.accept_deposit", "withdraws.approve_withdraw", "ledger.post_correction"}
    | BOOKS
    | read("ledger.member", "ledger.account", "trades.order", "trades.trade")
    | COIN_DEPOSITS
    | BENEFICIARIES | {"withdraws.archive_beneficiary"}
    | EVENTS | EVENT_DELIVERIES
    | AUDIT,
    ACCOUNTANT: BOOKS
    | BENEFICIARIES
    | read("ledger.member", "deposits.deposit", "withdraws.withdraw", "ledger.account")
    # "create fiat deposits": the deposit add form offers fiat currencies only (deposits admin). Coin deposits of
    # manual-gateway currencies (domain.md §14.7) are recorded by holders of add_deposit who also hold
    # accept_deposit (admin, superadmin): deposits.admin.RECORD_COIN.
    | {"deposits.add_deposit"}
    | COIN_DEPOSITS
    | EVENTS
    | AUDIT,
    COMPLIANCE: BOOKS | BENEFICIARIES | read("ledger.member", "deposits.deposit", "withdraws.withdraw", "ledger.account")
    | COIN_DEPOSITS | EVENTS | AUDIT,
    SUPPORT: BENEFICIARIES | read("ledger.member", "deposits.deposit", "withdraws.withdraw", "ledger.account")
    | COIN_DEPOSITS | EVENTS | AUDIT,
    TECHNICAL: BOOKS
    | manage("ledger.currency", "trades.market")
    | {"ledger.change_wallet_gateway"}
    | read("deposits.depositscancursor")
    | EVENT_DELIVERIES
    | AUDIT,
}

ROLES = (SUPERADMIN, ADMIN, ACCOUNTANT, COMPLIANCE, SUPPORT, TECHNICAL)


def role_permissions(role: str, available: set[str]) -> set[str]:
    """The permission strings ('app.codename') of a role, given every permission string that exists."""
    if role == SUPERADMIN:
        return {p for p in available if p.split(".")[0] in SUPERADMIN_APPS} - NEVER
    return ROLE_PERMISSIONS[role]


def install_roles(apps, verbosity: int = 0) -> None:
    """Create the custom permissions and make every role's group hold exactly its permissions.

    `apps` is an app registry (the migration's historical one or the live one): this runs inside migrations.
    """
    from django.contrib.auth.management import create_permissions

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    # Django creates the default permissions only after all migrations ran (post_migrate); the groups need them now.
    # (create_permissions skips an app config without models_module, which a migration's registry leaves unset.)
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=verbosity)
        finally:
            app_config.models_module = models_module

    for app_label, model, codename, name in CUSTOM_PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        Permission.objects.update_or_create(content_type=content_type, codename=codename, defaults={"name": name})

    by_string = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.values_list("pk", "content_type__app_label", "codename")
    }
    for role in ROLES:
        wanted = role_permissions(role, set(by_string))
        missing = wanted - set(by_string)
        if missing:
            raise LookupError(f"role {role}: unknown permissions {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_string[p] for p in wanted])
