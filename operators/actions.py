"""State-changing admin actions: a confirmation page, then each selected row moved by one service, and every
row's outcome reported.

An action calls one service with the acting operator; the service locks the row, moves it and writes the audit
record in its own transaction (operators.services.audit_record), as the API and the workers call it without one.

The confirmation page shows each row's outcome before anything is written: the same service call run under
operators.services.preview, which reads the outcome at the audit record and rolls the transaction back — so what
the operator confirms is exactly what the service would do: the resulting state and funds, or the domain error
that refuses the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.db import IntegrityError, models
from django.http import HttpRequest
from django.template.response import TemplateResponse

from operators import services
from operators.services import Operator
from peatio_mgmt.errors import DomainError, RecordNotFound

CONFIRM_TEMPLATE = "admin/operators/confirm_action.html"
NOT_FOUND = "Couldn't find record."
# The txid shown in the preview of a row that will need one: the real one is typed on the confirmation page.
PREVIEW_TXID = "(txid to be entered)"
PREVIEW_REASON = "(reason to be entered)"

# The model whose rows an action moves (a Withdraw, a Deposit, a Beneficiary): its service takes and returns one.
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Inputs:
    """What the operator typed on the confirmation page, for one row."""

    txid: str = ""
    confirmed_risk: bool = False  # the extra checkbox of a risky move (reject/fail of a confirming withdraw)
    reason: str = ""  # why the operator does it (coin deposits: required, kept in the audit record and the row)


@dataclass(frozen=True)
class RowAction(Generic[M]):
    """One admin action: `run(row, inputs, operator)` calls the one service that does it and returns the row."""

    name: str
    verb: str  # "accept", "approve": the button and the messages say it
    run: Callable[[M, Inputs, Operator], M]
    permission: str  # "app.codename"; the ModelAdmin answers has_<codename>_permission (see OperatorActions)
    takes_txid: bool = False
    takes_reason: bool = False
    # Rows for which the service asks the extra confirmation: the page shows the box (the service enforces it).
    is_risky: Callable[[M], bool] | None = None
    risk_warning: str = ""


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


def _state(row: models.Model) -> str:
    """The state of a row an action moves: every model offering actions is a state machine with a `state` field,
    read by name as the generic model type names no field."""
    return row.serializable_value("state")


def _preview_inputs(action: RowAction[M], row: M) -> Inputs:
    """The move as if confirmed, with a stand-in where a txid or a reason is still to be typed."""
    # Only coin withdraws and deposits, both with a txid field, are of type "coin".
    needs_txid = action.takes_txid and getattr(row, "type", "") == "coin" and not row.serializable_value("txid")
    return Inputs(txid=PREVIEW_TXID if needs_txid else "", confirmed_risk=True,
                  reason=PREVIEW_REASON if action.takes_reason else "")


def perform(action: RowAction[M], *, model: type[M], pk: int, operator: Operator, inputs: Inputs,
            preview: bool = False) -> Outcome:
    """Run the action's service on one row (with `preview`: rolled back, its outcome read). A refusal — a domain
    error, or a constraint the database enforces — leaves nothing written and is reported in the outcome."""
    row = model._default_manager.select_related("member", "currency").filter(pk=pk).first()
    if row is None:
        return Outcome(row=model(pk=pk), from_state="", error=NOT_FOUND)
    outcome = Outcome(row=row, from_state=_state(row), risky=bool(action.is_risky and action.is_risky(row)))
    try:
        if preview:
            seen = services.preview(lambda: action.run(row, _preview_inputs(action, row), operator))
            outcome.from_state, outcome.to_state = seen.record.from_state, seen.record.to_state
            account = seen.account
            outcome.balance, outcome.locked = (account.balance, account.locked) if account else (Decimal(0), Decimal(0))
        else:
            outcome.to_state = _state(action.run(row, inputs, operator))
    # django-stubs give DoesNotExist to concrete models only, not to the bound of M; the admin's models are concrete
    except (RecordNotFound, model.DoesNotExist):  # type: ignore[attr-defined]
        outcome.error = NOT_FOUND
    except DomainError as error:
        outcome.error = str(error)
    except IntegrityError as error:  # a constraint the services leave to the database, e.g. a txid used twice
        outcome.error = f"Refused by the database: {str(error).splitlines()[0]}"
    return outcome


def _inputs(request: HttpRequest, pk: int) -> Inputs:
    return Inputs(txid=request.POST.get(f"txid-{pk}", "").strip(),
                  confirmed_risk=request.POST.get("confirm_risk") == "yes",
                  reason=request.POST.get("reason", "").strip()[:500])


def admin_action(row_action: RowAction, description: str):
    """A ModelAdmin action (admin actions are POSTs with CSRF): the confirmation page first, then, on its
    confirming POST (`post=yes`, with the page's token for exactly these rows, once: services.confirmation_redeem),
    each row in its own transaction, every outcome reported as a message."""

    @admin.action(description=description, permissions=[row_action.permission.split(".")[1]])
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset):
        model = modeladmin.model
        operator = request.user
        assert isinstance(operator, User)  # admin.site runs an action only for a logged-in staff user
        pks = list(queryset.order_by("pk").values_list("pk", flat=True))
        control = f"{model._meta.label_lower}.{row_action.name}"
        if request.POST.get("post") == "yes":
            try:  # the rows the page showed, confirmed once
                services.confirmation_redeem(request.POST.get(services.CONFIRMATION_FIELD), operator_id=operator.pk,
                                             control=control, shown=pks)
            except services.ConfirmationRefused as refused:
                modeladmin.message_user(request, str(refused), messages.ERROR)
                return None
            for pk in pks:
                outcome = perform(row_action, model=model, pk=pk, operator=operator,
                                  inputs=_inputs(request, pk))
                _report(modeladmin, request, row_action, outcome)
            return None  # back to the changelist, where the messages show
        outcomes = []
        for pk in pks:
            outcome = perform(row_action, model=model, pk=pk, operator=operator, inputs=Inputs(),
                              preview=True)
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
            "confirmation_field": services.CONFIRMATION_FIELD,
            "confirmation": services.confirmation_issue(operator_id=operator.pk, control=control, shown=pks),
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
