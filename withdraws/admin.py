from django.contrib import admin

from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from withdraws.models import Withdraw


@admin.register(Withdraw)
class WithdrawAdmin(ReadOnlyAdmin):
    list_display = ("tid", "member", "currency", "type", "sum", "fee", "amount", "state", "rid", "txid", "created_at")
    list_filter = ("state", "currency", "type")
    search_fields = ("tid", "member__uid", "rid", "txid")
    list_select_related = ("member",)
