"""Writes of the console: the audit trail and the operators' second factor."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from ledger.models import Currency
from operators import totp
from operators.models import AuditRecord, OperatorTOTP


def audit_record(
    *,
    actor: User,
    action: str,
    obj: models.Model,
    from_state: str | None,
    to_state: str | None,
    amount: Decimal | None = None,
    currency: Currency | str | None = None,
    note: str = "",
) -> AuditRecord:
    """Record an operator action; called inside the action's transaction so both commit or neither does."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    return AuditRecord.objects.create(
        actor=actor,
        actor_email=actor.email,
        action=action,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        from_state=from_state or "",
        to_state=to_state or "",
        amount=amount,
        currency_id=currency.pk if isinstance(currency, Currency) else currency,
        note=note,
    )


def _use_code(device: OperatorTOTP, code: str) -> bool:
    """True when code is the device's current code and was not used before (conditional update: once only)."""
    step = totp.matching_step(device.secret, code)
    if step is None:
        return False
    return OperatorTOTP.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step) == 1


def totp_check(*, user: User, code: str) -> bool:
    """The login's second factor: True when the user has none enabled, or the code is good."""
    device = OperatorTOTP.objects.filter(user=user, confirmed=True).first()
    return device is None or _use_code(device, code or "")


@transaction.atomic
def totp_begin(*, user: User) -> OperatorTOTP:
    """A fresh secret, not yet required at login; refused while one is enabled (disable it first)."""
    device = OperatorTOTP.objects.select_for_update().filter(user=user).first()
    if device is not None and device.confirmed:
        raise ValueError("two-factor authentication is already enabled")
    if device is None:
        return OperatorTOTP.objects.create(user=user, secret=totp.new_secret())
    device.secret, device.last_used_step = totp.new_secret(), 0
    device.save(update_fields=["secret", "last_used_step"])
    return device


@transaction.atomic
def totp_enable(*, user: User, code: str) -> bool:
    """Require the second factor from now on, once the operator proved their app holds the secret."""
    device = OperatorTOTP.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not _use_code(device, code):
        return False
    OperatorTOTP.objects.filter(pk=device.pk).update(confirmed=True)
    audit_record(actor=user, action="enable_totp", obj=user, from_state="off", to_state="on")
    return True


@transaction.atomic
def totp_disable(*, user: User, code: str) -> bool:
    """Stop requiring the second factor; takes a current code, so a stolen session alone cannot do it."""
    device = OperatorTOTP.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not _use_code(device, code):
        return False
    device.delete()
    audit_record(actor=user, action="disable_totp", obj=user, from_state="on", to_state="off")
    return True
