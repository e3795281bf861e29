from django.contrib import admin

from deposits.models import Deposit
from peatio_mgmt.admin_readonly import ReadOnlyAdmin


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ("tid", "member", "currency", "type", "amount", "fee", "state", "txid", "created_at", "completed_at")
    list_filter = ("state", "currency", "type")
    search_fields = ("tid", "member__uid", "txid")
    list_select_related = ("member",)
