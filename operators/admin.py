from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from operators.audited import AuditedChanges
from operators.forms import OperatorLoginForm
from operators.models import AuditRecord

# The default admin site is the console: email login (with lockout and TOTP), the dashboard as its index
# (operators.urls), the other apps' ModelAdmins registered on it as usual.
admin.site.login_form = OperatorLoginForm
admin.site.login_template = "operators/login.html"
admin.site.site_header = "Peatio back office"
admin.site.site_title = "Peatio back office"
admin.site.index_title = "Dashboard"
admin.site.site_url = None  # no public site behind the console: no "View site" link


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """The audit trail: readable by every role, written only by operators.services.audit_record."""

    list_display = ("created_at", "actor_email", "action", "content_type", "object_repr", "from_state", "to_state",
                    "amount", "currency")
    list_filter = ("action", "content_type", "currency")
    search_fields = ("actor_email", "object_repr", "object_id", "note")
    date_hierarchy = "created_at"
    list_select_related = ("content_type",)
    show_full_result_count = False

    def get_changelist_instance(self, request):
        # A year or month of the date hierarchy beyond any date overflows where Django builds the range: the admin's
        # answer to a filter it cannot apply (the list again, "?e=1"), not a 500.
        try:
            return super().get_changelist_instance(request)
        except OverflowError:
            raise IncorrectLookupParameters() from None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Operators and their roles (groups): who may do what is in the audit trail like what they do.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class OperatorAdmin(AuditedChanges, UserAdmin):
    audit_secret_fields = ("password", "password1", "password2", "usable_password")


@admin.register(Group)
class RoleAdmin(AuditedChanges, GroupAdmin):
    pass
