"""Beneficiaries (management-api-extensions.md §7.10–7.13, §8.3): a member's registered payout destinations.

Services (the only writers of beneficiaries): `beneficiary_create`, `beneficiary_state_change`; the withdraw
creation's helpers `beneficiary_lock_for_withdraw` and `beneficiary_withdraw_failures`. Selector:
`beneficiary_list`. Locks: the state change locks the row FOR UPDATE; a withdraw made with a beneficiary reads it
FOR SHARE before the member's account row (lock order: beneficiary, then account rows), so a concurrent archive
waits for the withdraw and the withdraw never pays to a destination archived under it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from ledger.models import Currency, Member
from ledger.selectors import member_get_by_uid
from operators.services import Operator, audit_record
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.exact_json import decimal_number, dumps
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.state_machine import StateMachine
from withdraws import addresses
from withdraws.filters import BeneficiaryFilter
from withdraws.models import Beneficiary
from withdraws.models import BeneficiaryState as S

MEMBER_MUST_EXIST = "Member must exist"
CURRENCY_DISABLED = "Currency is disabled"
NAME_BLANK = "Name can't be blank"
NAME_TOO_LONG = "Name is too long (maximum is 64 characters)"
DESCRIPTION_TOO_LONG = "Description is too long (maximum is 255 characters)"
RID_BLANK = "Rid can't be blank"
RID_TOO_LONG = "Rid is too long (maximum is 95 characters)"
RID_INVALID = "Rid is invalid"
RID_TAKEN = "Rid has already been taken"
DATA_TOO_LONG = "Data is too long (maximum is 4096 characters)"
BENEFICIARY_MUST_EXIST = "Beneficiary must exist"
BENEFICIARY_CURRENCY_MISMATCH = "Beneficiary currency and withdraw currency don't match"
BENEFICIARY_NOT_ACTIVE = "Beneficiary is not active"

USABLE = (S.PENDING, S.ACTIVE)
UNIQUE_RID_INDEX = "beneficiaries_usable_rid_uniq"
CREATE_ATTEMPTS = 3

# PUT /beneficiaries/state: the target state names the event; a move to the current state changes nothing.
TRANSITIONS = {
    "activate": (frozenset({S.PENDING}), S.ACTIVE),
    "archive": (frozenset({S.PENDING, S.ACTIVE}), S.ARCHIVED),
}
EVENT_TO: dict[str, str] = {S.ACTIVE: "activate", S.ARCHIVED: "archive"}
BENEFICIARY_MACHINE = StateMachine("beneficiary", TRANSITIONS, frozenset())


def canonical_data(data: dict) -> str:
    """The canonical JSON of `data` (sorted keys, no spaces, numbers with exactly their digits) whose length the
    4096-character rule measures."""
    return dumps(data, decimal_number, sort_keys=True)


def beneficiary_destination(*, currency: Currency, rid: str | None, data: dict) -> str | None:
    """R of §7.10: `rid` when given; else, for a coin, `data.address` when it is a string (upstream's form)."""
    if rid is not None:
        return rid
    address = data.get("address")
    return address if currency.is_coin and isinstance(address, str) else None


def beneficiary_digest(*, uid: str, currency: Currency, name: str, rid: str | None = None, data: dict | None = None,
                       description: str | None = None, state: str = S.PENDING) -> str:
    """The request digest of POST /beneficiaries/new (§5.4): the declared parameters with defaults applied
    (data {}, state pending), absent optionals omitted, the currency as its lowercase code, keys sorted."""
    return request_digest({"uid": uid, "currency": currency, "name": name, "rid": rid,
                           "data": data if data is not None else {}, "description": description, "state": state})


def _usable(member: Member, currency: Currency, rid: str) -> Beneficiary | None:
    return Beneficiary.objects.filter(member=member, currency=currency, rid=rid, state__in=USABLE).first()


@transaction.atomic(durable=True)
def beneficiary_create(*, uid: str, currency: Currency, name: str, rid: str | None = None, data: dict | None = None,
                       description: str | None = None, state: str = S.PENDING, request_digest: str) -> Beneficiary:
    """POST /beneficiaries/new (§7.10). A request with the digest of the member's pending or active beneficiary
    of the same currency and destination answers that beneficiary, nothing written (a retry, §5.4).

    BusinessRuleError lists every failing check in this order: Member must exist, Currency is disabled, Name can't
    be blank, Name is too long (maximum is 64 characters), Description is too long (maximum is 255 characters), Rid
    can't be blank, Rid is too long (maximum is 95 characters), Rid is invalid, Rid has already been taken, Data is
    too long (maximum is 4096 characters). The insert runs in a savepoint: a concurrent creation that wins the
    partial unique index makes this one wait for it and then judge the request against its row.
    """
    data = {} if data is None else data
    destination = beneficiary_destination(currency=currency, rid=rid, data=data)
    member = member_get_by_uid(uid)
    for _ in range(CREATE_ATTEMPTS):
        taken = _usable(member, currency, destination) if member is not None and destination is not None else None
        if taken is not None and taken.request_digest == request_digest:
            return taken
        failures = []
        if member is None:
            failures.append(MEMBER_MUST_EXIST)
        if not currency.enabled:
            failures.append(CURRENCY_DISABLED)
        if not name.strip():
            failures.append(NAME_BLANK)
        if len(name) > 64:
            failures.append(NAME_TOO_LONG)
        if description is not None and len(description) > 255:
            failures.append(DESCRIPTION_TOO_LONG)
        if destination is None or not destination.strip():
            failures.append(RID_BLANK)
        elif len(destination) > 95:
            failures.append(RID_TOO_LONG)
        elif currency.is_coin and currency.address_format and not addresses.is_valid_address(currency.address_format,
                                                                                              destination):
            failures.append(RID_INVALID)
        if taken is not None:
            failures.append(RID_TAKEN)
        if len(canonical_data(data)) > 4096:
            failures.append(DATA_TOO_LONG)
        if failures:
            raise BusinessRuleError(*failures)
        assert member is not None and destination is not None  # else Member must exist / Rid can't be blank
        try:
            with transaction.atomic():
                return Beneficiary.objects.create(member=member, currency=currency, name=name, description=description,
                                                  rid=destination, data=data, state=state,
                                                  request_digest=request_digest)
        except IntegrityError as error:
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != UNIQUE_RID_INDEX:
                raise
    raise BusinessRuleError(RID_TAKEN)


@transaction.atomic(durable=True)
def beneficiary_state_change(*, beneficiary_id: int, uid: str, state: str,
                             operator: Operator | None = None) -> Beneficiary:
    """PUT /beneficiaries/state (§7.12), and an operator's archive (§8.3, audited): `active` or `archived`, the row
    locked FOR UPDATE.

    RecordNotFound unless a beneficiary with this id belongs to the member with this uid (ignoring case).
    IllegalTransition `Cannot activate beneficiary in state archived`. The current state again changes nothing
    (updated_at kept; an operator's action is still recorded). Archiving touches no withdraw: their rid was copied
    at creation.
    """
    beneficiary = (
        Beneficiary.objects.select_for_update(of=("self",)).select_related("member", "currency")
        .filter(pk=beneficiary_id, member__uid__iexact=uid).first()
    )
    if beneficiary is None:
        raise RecordNotFound()
    previous = beneficiary.state
    if previous != state:
        BENEFICIARY_MACHINE.fire(beneficiary, EVENT_TO[state])
        beneficiary.save(update_fields=["state", "updated_at"])
    audit_record(actor=operator, action=EVENT_TO[state], obj=beneficiary, from_state=previous, to_state=state,
                 currency=beneficiary.currency_id)
    return beneficiary


def beneficiary_list(*, member: Member | None = None, currency: Currency | None = None,
                     state: str | None = None) -> QuerySet:
    """Beneficiaries matching every given filter (all states when `state` is None), newest first, member joined."""
    filters = {"member": member, "currency": currency, "state": state}
    return BeneficiaryFilter(filters, queryset=Beneficiary.objects.select_related("member").order_by("-id")).qs


# Withdraws made with a beneficiary (§7.13) -------------------------------------------------------------------------


def beneficiary_lock_for_withdraw(*, beneficiary_id: int, member: Member | None) -> Beneficiary | None:
    """The member's beneficiary with this id, read FOR SHARE (held until commit: a concurrent state change waits),
    or None — never one of another member, and never any when the member does not exist."""
    if member is None:
        return None
    return next(iter(Beneficiary.objects.raw(
        "SELECT * FROM beneficiaries WHERE id = %s AND member_id = %s FOR SHARE", [beneficiary_id, member.pk])), None)


def beneficiary_withdraw_failures(beneficiary: Beneficiary | None, currency: Currency) -> list[str]:
    """The checks that replace the rid checks of /withdraws/new, in order."""
    if beneficiary is None:
        return [BENEFICIARY_MUST_EXIST]
    failures = []
    if beneficiary.currency_id != currency.pk:
        failures.append(BENEFICIARY_CURRENCY_MISMATCH)
    if beneficiary.state != S.ACTIVE:
        failures.append(BENEFICIARY_NOT_ACTIVE)
    return failures
