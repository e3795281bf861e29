"""The smallest honest double-entry model: a balance row per holder and an append-only journal."""

from django.db import models
from django.db.models import Q


class Balance(models.Model):
    holder = models.CharField(max_length=32, unique=True)
    amount = models.DecimalField(max_digits=32, decimal_places=16)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="wallet_balance_gte_0")]


class Journal(models.Model):
    balance = models.ForeignKey(Balance, on_delete=models.PROTECT)
    debit = models.DecimalField(max_digits=32, decimal_places=16, default=0)
    credit = models.DecimalField(max_digits=32, decimal_places=16, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
