from django.contrib import admin

from ledger.models import Account, ChartAccount, Currency, Member, Operation, Transfer
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from trades.services import markets_disable_for_currency


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("uid", "email", "level", "role", "state", "created_at")
    list_filter = ("state", "role")
    search_fields = ("uid", "email")


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "type", "symbol", "precision", "enabled", "withdraw_fee", "deposit_fee", "position")
    list_filter = ("type", "enabled")
    search_fields = ("id", "name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "enabled" in form.changed_data and not obj.enabled:
            markets_disable_for_currency(currency=obj)


@admin.register(ChartAccount)
class ChartAccountAdmin(admin.ModelAdmin):
    list_display = ("code", "type", "kind", "currency_type", "scope", "description")
    list_filter = ("type", "currency_type", "scope")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("member", "currency", "balance", "locked", "updated_at")
    list_filter = ("currency",)
    search_fields = ("member__uid",)
    list_select_related = ("member",)


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "code", "currency", "member", "debit", "credit", "reference_type", "reference_id", "created_at")
    list_filter = ("type", "currency", "reference_type")
    search_fields = ("member__uid",)
    list_select_related = ("member",)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "desc", "created_at")
    list_filter = ("kind",)
    search_fields = ("key",)
