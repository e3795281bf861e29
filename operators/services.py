"""Writes of the console: the audit trail, the preview of an operator's action, the confirmations of money-moving
controls, and the operators' second factor.

The audit record is written by the service that does the action (Zulip's `do_*` actions and their audit log): a
service takes the acting operator (None for the API and the workers, which record nothing) and records as the
last write of its own transaction, so an action and its record commit together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import connection, models, transaction

from ledger.models import Account, Currency
from operators import totp
from operators.models import AuditRecord, OperatorTOTP
from operators.redis_store import redis_client

# Who does an action: a console user (the project keeps Django's User model, AUTH_USER_MODEL unset); services take
# None for the API and the workers.
Operator = User


@dataclass(frozen=True)
class Preview:
    """What an operator's action would write: its audit record (from and to state), the row as moved, and the
    member's account of the row's currency after the move (None when the row names no member)."""

    record: AuditRecord
    obj: models.Model
    account: Account | None


class _Previewed(Exception):
    def __init__(self, preview: Preview):
        super().__init__("previewed: rolled back")
        self.preview = preview


_previewing: ContextVar[bool] = ContextVar("operators_previewing", default=False)


def preview(run: Callable[[], object]) -> Preview:
    """Run `run` — one service called with the acting operator — and roll back everything it wrote.

    The service's audit record is its last write: there, still inside the service's transaction, the outcome is
    read and an exception rolls the transaction back (after-commit hooks, such as queuing a send, are dropped
    with it). What the operator confirms is what the service would do; a domain error of the service is raised.
    """
    token = _previewing.set(True)
    try:
        run()
    except _Previewed as previewed:
        return previewed.preview
    finally:
        _previewing.reset(token)
    # Only a service that never calls audit_record gets here, and it has committed: every operator service records.
    raise RuntimeError("the previewed service never called audit_record: it is not an operator's action")


def _member_account(obj: models.Model) -> Account | None:
    member_id, currency_id = getattr(obj, "member_id", None), getattr(obj, "currency_id", None)
    if member_id is None or currency_id is None:
        return None
    return Account.objects.filter(member_id=member_id, currency_id=currency_id).first()


def audit_record(
    *,
    actor: Operator | None,
    action: str,
    obj: models.Model,
    from_state: str | None,
    to_state: str | None,
    amount: Decimal | None = None,
    currency: Currency | str | None = None,
    note: str = "",
) -> AuditRecord | None:
    """Record an operator action; called by the service doing it, as the last write of its transaction, so both
    commit or neither does. No actor (the API, a worker): nothing is recorded. Inside `preview`: the outcome is
    read and the transaction rolled back."""
    if actor is None:
        if _previewing.get():  # raised inside the service's transaction: nothing of it is written
            raise RuntimeError("a previewed service must be given the operator: it recorded no audit record")
        return None
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the action it records")
    record = AuditRecord.objects.create(
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
    if _previewing.get():
        raise _Previewed(Preview(record=record, obj=obj, account=_member_account(obj)))
    return record


def _use_code(device: OperatorTOTP, code: str) -> bool:
    """True when code is the device's current code and was not used before (conditional update: once only)."""
    step = totp.matching_step(device.secret, code)
    if step is None:
        return False
    return OperatorTOTP.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step) == 1


def totp_check(*, user: Operator, code: str) -> bool:
    """The login's second factor: True when the user has none enabled, or the code is good."""
    device = OperatorTOTP.objects.filter(user=user, confirmed=True).first()
    return device is None or _use_code(device, code or "")


@transaction.atomic
def totp_begin(*, user: Operator) -> OperatorTOTP:
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
def totp_enable(*, user: Operator, code: str) -> bool:
    """Require the second factor from now on, once the operator proved their app holds the secret."""
    device = OperatorTOTP.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not _use_code(device, code):
        return False
    OperatorTOTP.objects.filter(pk=device.pk).update(confirmed=True)
    audit_record(actor=user, action="enable_totp", obj=user, from_state="off", to_state="on")
    return True


@transaction.atomic
def totp_disable(*, user: Operator, code: str) -> bool:
    """Stop requiring the second factor; takes a current code, so a stolen session alone cannot do it."""
    device = OperatorTOTP.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not _use_code(device, code):
        return False
    device.delete()
    audit_record(actor=user, action="disable_totp", obj=user, from_state="on", to_state="off")
    return True


# --- confirmations ---------------------------------------------------------------------------------------------
# A confirmation is bound to what its page showed, and used once. The confirmation page of a money-moving control
# (an admin action, a correcting posting) carries a token: signed with the secret key, it names the operator, the
# control and what was previewed (the rows, the posting), with a nonce. The confirming POST is carried out only with
# a valid token for exactly what it asks (a row swapped in or an amount changed since the preview is refused, as is
# a POST that skipped the page) and only once: the nonce is taken in Redis before anything is done, so a double
# submit or a replayed form does nothing.

CONFIRMATION_SALT = "operators.confirmation"
CONFIRMATION_MAX_AGE = 30 * 60  # seconds: a page left open longer is previewed again
CONFIRMATION_USED_KEY = "peatio:operators:confirmation:"
CONFIRMATION_FIELD = "confirmation"  # the form field that carries the token
CONFIRMATION_REFUSED = ("This confirmation does not match what its page showed, was already used, or has expired: "
                        "nothing was done. Check it again.")


class ConfirmationRefused(Exception):
    def __init__(self):
        super().__init__(CONFIRMATION_REFUSED)


def confirmation_issue(*, operator_id: int, control: str, shown: list) -> str:
    """The token of a confirmation page: `shown` is what it previewed, as JSON values (ids, codes, amount texts)."""
    return signing.dumps({"operator": operator_id, "control": control, "shown": shown, "nonce": secrets.token_hex(16)},
                         salt=CONFIRMATION_SALT, compress=True)


def confirmation_redeem(token: str | None, *, operator_id: int, control: str, shown: list) -> None:
    """Take the token of a confirming POST for exactly this operator, control and preview, once; raises
    ConfirmationRefused otherwise (nothing may then be done)."""
    try:
        data = signing.loads(token or "", salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature:
        raise ConfirmationRefused() from None
    if (data.get("operator"), data.get("control"), data.get("shown")) != (operator_id, control, shown):
        raise ConfirmationRefused()
    if not redis_client().set(CONFIRMATION_USED_KEY + data["nonce"], 1, nx=True, ex=CONFIRMATION_MAX_AGE):
        raise ConfirmationRefused()
