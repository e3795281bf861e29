"""Operators: the people working in the admin console, what they did, and their second factor.

Tables and who writes them
- AuditRecord: one row per operator action (who, when, which object, from-state -> to-state, amount, note),
  written only by operators.services.audit_record, which the service doing the action calls with the acting
  operator as the last write of its own transaction, so an action and its record commit together or not at all.
  Read-only in the admin for every role.
- OperatorTOTP: an operator's TOTP secret (RFC 6238), written only by the setup page (operators.views).
Operators themselves are django.contrib.auth users (staff) in the role groups of operators.roles.

What the database enforces
- audit_records: a trigger refuses UPDATE and DELETE (migration 0001): the trail is append-only.
- audit_records.actor: ON DELETE PROTECT — an operator with a trail is deactivated, never deleted.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Now

from ledger.models import MONEY, Currency


class AuditRecord(models.Model):
    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The actor's email at the time: the trail stays readable whatever later happens to the user row.
    actor_email = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    # Text: currencies have string primary keys.
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        db_table = "audit_records"
        ordering = ["-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_records_object")]

    def __str__(self) -> str:
        transition = f" {self.from_state} -> {self.to_state}" if self.from_state or self.to_state else ""
        return f"{self.actor_email} {self.action} {self.object_repr}{transition}"


class OperatorTOTP(models.Model):
    """An operator's TOTP secret; the second factor is required at login once `confirmed`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)  # base32, as authenticator apps take it
    confirmed = models.BooleanField(default=False)
    # The last time step whose code was accepted: a code is good once (RFC 6238 §5.2).
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "operator_totp"
        verbose_name = "operator TOTP"

    def __str__(self) -> str:
        return f"TOTP of {self.user}"
