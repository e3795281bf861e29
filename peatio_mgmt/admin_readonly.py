"""The admin's read-only view of money records.

Balances, postings, deposits, withdraws, orders and trades change only through services (domain.md §4, §12):
the admin may show them but never add, edit or delete one.
"""

from django.contrib import admin


class ReadOnly:
    """No add, change or delete through the admin, whoever asks: for model admins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass
