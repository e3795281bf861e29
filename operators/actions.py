"""State-changing admin actions: a confirmation page, then each selected row moved by the domain's own services,
its audit record written in the same transaction, and every row's outcome reported.

Services are `@transaction.atomic(durable=True)`: they refuse to run inside another transaction. An operator's
action and its audit record must commit together, so the console opens the durable transaction itself and runs
the service's body inside it (`functools.wraps`, which the atomic decorator uses, keeps the body as
`__wrapped__`): the same code, the same row locks, and still the outermost transaction.

The confirmation page shows each row's outcome before anything is written: the action runs in a transaction
that is rolled back (`preview`), so what the operator confirms is exactly what the services would do — the
resulting state and funds, or the domain error that refuses the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ledger.models import Account
from operators.services import audit_record
from peatio_mgmt.errors import DomainError, RecordNotFound

CONFIRM_TEMPLATE = "admin/operators/confirm_action.html"
# The txid shown in the preview of a row that will need one: the real one is typed on the confirmation page.
PREVIEW_TXID = "(txid to be entered)"
PREVIEW_REASON = "(reason to be entered)"


def body(service: Callable) -> Callable:
    """The body of a durable service, to run inside the console's own durable transaction (module docstring)."""
    return service.__wrapped__  # type: ignore[attr-defined]  # set by functools.wraps; typing keeps the callable's type


@dataclass(frozen=True)
class Inputs:
    """What the operator typed on the confirmation page, for one row."""

    txid: str = ""
    confirmed_risk: bool = False  # the extra checkbox of a risky move (reject/fail of a confirming withdraw)
    reason: str = ""  # why the operator does it (coin deposits: required, kept in the audit record and the row)


@dataclass(frozen=True)
class RowAction:
    """One admin action: `run(row, inputs)` moves the locked row by calling services and returns it."""

    name: str
    verb: str  # "accept", "approve": the button and the messages say it
    # the ModelAdmin's model in and out (Deposit, Withdraw, Beneficiary: the fields `perform` reads are theirs)
    run: Callable[[Any, Inputs], Any]
    permission: str  # "app.codename"; the ModelAdmin answers has_<codename>_permission (see OperatorActions)
    takes_txid: bool = False
    risky_states: frozenset[str] = frozenset()  # from these states the extra confirmation is required
    risk_warning: str = ""
    takes_reason: bool = False
    is_risky: Callable[[Any], bool] | None = None  # a risk that depends on more than the state


@dataclass
class Outcome:
    row: models.Model
    from_state: str
    to_state: str = ""
    balance: Decimal | None = None
    locked: Decimal | None = None
    error: str = ""
    needs_txid: bool = False
    risky: bool = False


class _Refused(DomainError):
    """The operator did not tick the extra confirmation a risky move needs."""


class _Preview(Exception):
    """Raised to roll the preview's transaction back after reading its outcome."""


def _error_text(error: DomainError) -> str:
    if isinstance(error, RecordNotFound):
        return "Couldn't find record."
    return str(error)


def perform(action: RowAction, *, model: type[models.Model], pk: int, actor, inputs: Inputs,
            preview: bool = False) -> Outcome:
    """Run the action on one row in one durable transaction with its audit record; with `preview`, roll back.

    A domain error leaves nothing written and is reported in the outcome.
    """
    outcome: Outcome  # set once the row is read, before anything that raises the errors handled below
    try:
        with transaction.atomic(durable=True):
            row: Any = model._default_manager.select_for_update(of=("self",)).select_related("member", "currency").get(pk=pk)
            risky = row.state in action.risky_states or bool(action.is_risky and action.is_risky(row))
            outcome = Outcome(row=row, from_state=row.state, risky=risky)
            if preview:
                # The preview shows the move as if confirmed, with a stand-in where a txid is still to be typed.
                needs_txid = action.takes_txid and getattr(row, "type", "") == "coin" and not row.txid
                inputs = Inputs(txid=PREVIEW_TXID if needs_txid else "", confirmed_risk=True,
                                reason=PREVIEW_REASON if action.takes_reason else "")
            if outcome.risky and not inputs.confirmed_risk:
                raise _Refused(action.risk_warning)
            moved = action.run(row, inputs)
            account = Account.objects.filter(member_id=moved.member_id, currency_id=moved.currency_id).first()
            outcome.to_state = moved.state
            outcome.balance, outcome.locked = (account.balance, account.locked) if account else (Decimal(0), Decimal(0))
            audit_record(actor=actor, action=action.name, obj=moved, from_state=outcome.from_state,
                         to_state=moved.state, amount=_amount(moved), currency=moved.currency_id,
                         note=_note(action, moved, inputs))
            if preview:
                raise _Preview
    except _Preview:
        pass
    except model.DoesNotExist:  # type: ignore[attr-defined]  # each concrete model has its own (Model: none)
        return Outcome(row=model(pk=pk), from_state="", error="Couldn't find record.")
    except DomainError as error:
        outcome.error = _error_text(error)
    except IntegrityError as error:  # a constraint the services leave to the database, e.g. a txid used twice
        outcome.error = f"Refused by the database: {str(error).splitlines()[0]}"
    return outcome


def _note(action: RowAction, row: Any, inputs: Inputs) -> str:
    parts = []
    if action.takes_txid and row.txid:
        parts.append(f"txid {row.txid}")
    if action.takes_reason and inputs.reason:
        parts.append(f"reason: {inputs.reason}")
    if inputs.confirmed_risk and action.is_risky:
        parts.append("risk confirmed")
    return "; ".join(parts)


def _amount(row: models.Model) -> Decimal | None:
    """A withdraw is audited with its sum (what leaves the member's balance), a deposit with its amount; a record
    that moves no money (a beneficiary) with none."""
    return getattr(row, "sum", None) or getattr(row, "amount", None)


def _inputs(request: HttpRequest, pk: int) -> Inputs:
    return Inputs(txid=request.POST.get(f"txid-{pk}", "").strip(),
                  confirmed_risk=request.POST.get("confirm_risk") == "yes",
                  reason=request.POST.get("reason", "").strip()[:500])


def admin_action(row_action: RowAction, description: str):
    """A ModelAdmin action (admin actions are POSTs with CSRF): the confirmation page first, then, on its
    confirming POST (`post=yes`), each row in its own transaction, every outcome reported as a message."""

    @admin.action(description=description, permissions=[row_action.permission.split(".")[1]])
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset):
        model = modeladmin.model
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        if request.POST.get("post") == "yes":
            for pk in pks:
                outcome = perform(row_action, model=model, pk=pk, actor=request.user, inputs=_inputs(request, pk))
                _report(modeladmin, request, row_action, outcome)
            return None  # back to the changelist, where the messages show
        outcomes = []
        for pk in pks:
            outcome = perform(row_action, model=model, pk=pk, actor=request.user, inputs=Inputs(), preview=True)
            outcome.needs_txid = row_action.takes_txid and getattr(outcome.row, "type", "") == "coin"
            outcomes.append(outcome)
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Confirm: {row_action.verb} {len(outcomes)} {model._meta.verbose_name_plural}",
            "opts": model._meta,
            "action_name": row_action.name + "_selected",
            "verb": row_action.verb,
            "outcomes": outcomes,
            "is_withdraw": model._meta.model_name == "withdraw",
            "is_beneficiary": model._meta.model_name == "beneficiary",
            "takes_txid": row_action.takes_txid,
            "takes_reason": row_action.takes_reason,
            "any_risky": any(o.risky and not o.error for o in outcomes),
            "risk_warning": row_action.risk_warning,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    action.__name__ = row_action.name + "_selected"
    return action


def _report(modeladmin: admin.ModelAdmin, request: HttpRequest, action: RowAction, outcome: Outcome) -> None:
    if outcome.error:
        modeladmin.message_user(request, f"{outcome.row}: {action.verb} refused — {outcome.error}", messages.ERROR)
    else:
        modeladmin.message_user(
            request, f"{outcome.row}: {outcome.from_state} -> {outcome.to_state}", messages.SUCCESS
        )


class OperatorActions:
    """ModelAdmin mixin: `row_actions` become admin actions, each offered to users holding its permission."""

    row_actions: tuple[tuple[RowAction, str], ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.actions = [admin_action(row_action, description) for row_action, description in cls.row_actions]
        for row_action, _ in cls.row_actions:
            permission = row_action.permission
            setattr(cls, f"has_{permission.split('.')[1]}_permission",
                    lambda self, request, permission=permission: request.user.has_perm(permission))
