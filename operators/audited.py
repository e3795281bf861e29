"""ModelAdmin mixin: what an operator creates or changes through a change form is in the audit trail.

Limits, fees and gateways decide which withdraws are paid without an operator and where the coins come from; a
member's state, an operator's groups decide who may do what. Django's own history names the fields changed, not
their values, and can be edited away with the admin's rows. So the save writes an audit record too (`change` or
`create`), naming each changed field with its old and new value, in the transaction of the save (the admin's
change form runs in one). Fields that may hold secrets (`audit_secret_fields`) are named, not shown.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from operators.services import audit_record
from peatio_mgmt.decimals import format_amount


def _shown(value) -> str:
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, (list, tuple, models.QuerySet)):
        return "[" + ", ".join(sorted(str(item) for item in value)) + "]"
    return "" if value is None else str(value)


class AuditedChanges:
    audit_secret_fields: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        changes = []
        for name in form.changed_data:  # a form may count a field changed whose value is the same (a JSON {})
            old, new = _shown(form.initial.get(name)) if change else "", _shown(form.cleaned_data.get(name))
            if old != new:
                changes.append(f"{name}: changed" if name in self.audit_secret_fields else f"{name}: {old} -> {new}")
        super().save_model(request, obj, form, change)  # a ModelAdmin's, after this mixin
        if changes:
            audit_record(actor=request.user, action="change" if change else "create", obj=obj, from_state=None,
                         to_state=None, note="; ".join(changes))
