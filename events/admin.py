"""The event stream in the console (coin-deposits-ethereum-events.md §16.6): events (read-only), partners with
their lag and last error, deliveries. Retry now, rewind and replay are admin actions that show a confirmation
page first and, confirmed, call events.services — each writes its audit record in its own transaction."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Max
from django.template.response import TemplateResponse
from django.utils.html import format_html

from events import selectors, services
from events.models import DeliveryState, Event, EventDelivery, EventPartner
from events.push import event_json
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from peatio_mgmt.errors import DomainError

MANAGE = "events.manage_deliveries"
CONFIRM_TEMPLATE = "admin/events/confirm.html"


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "name", "tid", "state", "created_at", "sequenced_at")
    list_filter = ("name", "record_type")
    search_fields = ("body",)
    search_help_text = "Record tid"
    readonly_fields = ("seq", "id", "name", "record_type", "record_id", "created_at", "sequenced_at", "event")
    exclude = ("body",)
    ordering = ("-id",)
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # A tid is matched exactly inside the stored JSON (its record's "tid" member).
        if not search_term:
            return queryset, False
        return queryset.filter(body__contains=json.dumps({"tid": search_term.strip()})[1:-1]), False

    @admin.display(description="tid")
    def tid(self, event: Event) -> str:
        return json.loads(event.body)["record"]["tid"]

    @admin.display(description="state after")
    def state(self, event: Event) -> str:
        return json.loads(event.body)["record"]["state"]

    @admin.display(description="event (as pushed and pulled)")
    def event(self, event: Event):
        body = event.body if event.seq is None else event_json(event.seq, event.body)
        return format_html("<pre>{}</pre>", json.dumps(json.loads(body), indent=2, ensure_ascii=False))


def _confirmed(modeladmin, request, queryset, *, title: str, lines: list[str], form=None):
    """The confirmation page (None once the operator confirmed: the action then runs)."""
    if request.POST.get("post") == "yes" and (form is None or form.is_valid()):
        return None
    context = {**modeladmin.admin_site.each_context(request), "title": title, "opts": modeladmin.model._meta,
               "lines": lines, "form": form, "queryset": queryset, "action": request.POST.get("action"),
               "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME}
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


class RewindForm(forms.Form):
    to = forms.IntegerField(min_value=0, label="Rewind to event", help_text="Every event after it is sent again.")


@admin.register(EventPartner)
class EventPartnerAdmin(ReadOnlyAdmin):
    list_display = ("name", "url", "configured", "enabled", "cursor", "lag", "consecutive_failures",
                    "next_attempt_at", "last_error", "last_success_at")
    readonly_fields = list_display + ("last_failure_at",)
    actions = ("retry_now", "rewind")

    def get_queryset(self, request):
        self._top = Event.objects.aggregate(top=Max("seq"))["top"] or 0
        return super().get_queryset(request)

    @admin.display(description="lag")
    def lag(self, partner: EventPartner) -> int:
        return selectors.partner_lag(partner, getattr(self, "_top", None))

    def has_manage_deliveries_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE)

    @admin.action(description="Retry now (clears the backoff)", permissions=["manage_deliveries"])
    def retry_now(self, request, queryset):
        page = _confirmed(self, request, queryset, title="Confirm: retry now",
                          lines=[f"{p.name}: next try {p.next_attempt_at or 'not waiting'} -> now" for p in queryset])
        if page is not None:
            return page
        for partner in queryset:
            services.partner_retry_now(partner_id=partner.pk, actor=request.user)
            self.message_user(request, f"{partner.name}: retrying now", messages.SUCCESS)
        return None

    @admin.action(description="Rewind to event n (sends everything after it again)",
                  permissions=["manage_deliveries"])
    def rewind(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Rewind one partner at a time.", messages.ERROR)
            return None
        partner = queryset.get()
        form = RewindForm(request.POST if "to" in request.POST else None)
        page = _confirmed(self, request, queryset, title=f"Confirm: rewind {partner.name}", form=form,
                          lines=[f"{partner.name}: cursor {partner.cursor}; every event after the one you enter is "
                                 "sent again (the partner de-duplicates by event id)"])
        if page is not None:
            return page
        try:
            services.partner_rewind(partner_id=partner.pk, to=form.cleaned_data["to"], actor=request.user)
        except DomainError as error:
            self.message_user(request, f"{partner.name}: rewind refused — {error}", messages.ERROR)
        else:
            self.message_user(request, f"{partner.name}: rewound to {form.cleaned_data['to']}", messages.SUCCESS)
        return None


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("partner", "event_seq", "state", "attempts", "tries", "last_status", "last_error",
                    "first_try_at", "last_try_at", "delivered_at")
    list_filter = ("state", "partner")
    list_select_related = ("partner",)
    search_fields = ("=event_seq",)
    actions = ("replay",)

    def has_manage_deliveries_permission(self, request) -> bool:
        return request.user.has_perm(MANAGE)

    @admin.action(description="Replay the selected dead letters", permissions=["manage_deliveries"])
    def replay(self, request, queryset):
        dead = queryset.filter(state=DeliveryState.DEAD)
        page = _confirmed(self, request, queryset, title="Confirm: replay dead letters",
                          lines=[f"{d.partner.name}: event {d.event_seq} dead -> replay (sent before the stream "
                                 "resumes)" for d in dead.select_related("partner")]
                          + [f"{d.partner.name}: event {d.event_seq} is {d.state}, not replayed"
                             for d in queryset.exclude(state=DeliveryState.DEAD).select_related("partner")])
        if page is not None:
            return page
        replayed = services.deliveries_replay(delivery_ids=list(dead.values_list("pk", flat=True)),
                                              actor=request.user)
        self.message_user(request, f"{replayed} dead letter(s) queued for replay", messages.SUCCESS)
        return None
