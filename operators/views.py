"""The console's own admin pages: dashboard, accounting reports, two-factor setup.

Every view is wrapped in admin.site.admin_view (operators.urls): active staff only, CSRF-protected, never cached.
Pages that change state do it on POST only and redirect after.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ledger.money import format_amount
from operators import reports, selectors, services, totp
from operators.charts import bar_chart
from operators.models import OperatorTOTP

REPORTS_PERMISSION = "operators.view_reports"
TOTP_ISSUER = "Peatio back office"


def dashboard(request: HttpRequest) -> TemplateResponse:
    """The admin index with the exchange's state on top: what waits for an operator, and the books check."""
    user = request.user
    context: dict[str, object] = {}
    if user.has_perm("deposits.view_deposit"):
        context["deposit_counts"] = selectors.deposit_counts_by_state()
    if user.has_perm("withdraws.view_withdraw"):
        context["withdraw_counts"] = selectors.withdraw_counts_by_state()
        context["withdraws_waiting"] = selectors.withdraws_waiting_for_operator()
    context["ledger_last_check"] = selectors.ledger_last_check()
    context["can_view_reports"] = user.has_perm(REPORTS_PERMISSION)
    response = admin.site.index(request, extra_context=context)
    response.template_name = "admin/dashboard.html"
    return response


# Reports --------------------------------------------------------------------------------------------------------


class BadPeriod(ValueError):
    pass


def _date(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadPeriod(f"{name}: expected a date as YYYY-MM-DD, got {raw!r}") from None
    if day == date.max:  # a period ends at the start of the next day, which no date can name
        raise BadPeriod(f"{name}: the last day a report can end on is {date.max - timedelta(days=1)}")
    return day


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _report(request: HttpRequest, template: str, context: dict, status: int = 200) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context}, status=status)


def _csv(filename: str, header: list[str], rows: list[list[str]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


@require_http_methods(["GET", "HEAD"])
def balance_sheet(request: HttpRequest) -> HttpResponse:
    """Per currency Σ assets, liabilities, revenues, expenses of the postings up to the end of `to` (or now)."""
    if not request.user.has_perm(REPORTS_PERMISSION):
        raise PermissionDenied
    title = "Balance sheet"
    try:
        to = _date(request, "to")
    except BadPeriod as error:
        return _report(request, "operators/balance_sheet.html", {"title": title, "error": error}, status=400)
    rows = reports.balance_sheet(until=_start_of(to + timedelta(days=1)) if to else None)
    if _wants_csv(request):
        return _csv(
            f"balance-sheet-{to or 'now'}.csv",
            ["currency", "assets", "liabilities", "revenues", "expenses", "difference"],
            [[r.currency, *map(format_amount, (r.assets, r.liabilities, r.revenues, r.expenses, r.difference))] for r in rows],
        )
    chart = bar_chart([
        (r.currency, [("assets", r.assets), ("liabilities", r.liabilities), ("revenues", r.revenues), ("expenses", r.expenses)])
        for r in rows
    ])
    return _report(request, "operators/balance_sheet.html", {"title": title, "rows": rows, "to": to, "chart": chart})


@require_http_methods(["GET", "HEAD"])
def income_statement(request: HttpRequest) -> HttpResponse:
    """Per currency revenues, expenses and profit posted from the start of `from` to the end of `to` (this month)."""
    if not request.user.has_perm(REPORTS_PERMISSION):
        raise PermissionDenied
    title = "Income statement"
    try:
        to = _date(request, "to") or datetime.now(UTC).date()
        start = _date(request, "from") or to.replace(day=1)
        if start > to:
            raise BadPeriod(f"from ({start}) is after to ({to})")
    except BadPeriod as error:
        return _report(request, "operators/income_statement.html", {"title": title, "error": error}, status=400)
    rows = reports.income_statement(start=_start_of(start), end=_start_of(to + timedelta(days=1)))
    if _wants_csv(request):
        return _csv(
            f"income-statement-{start}-{to}.csv",
            ["currency", "revenues", "expenses", "profit"],
            [[r.currency, *map(format_amount, (r.revenues, r.expenses, r.profit))] for r in rows],
        )
    chart = bar_chart([(r.currency, [("revenues", r.revenues), ("expenses", r.expenses), ("profit", r.profit)]) for r in rows])
    return _report(
        request, "operators/income_statement.html", {"title": title, "rows": rows, "from": start, "to": to, "chart": chart}
    )


# Two-factor setup -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """The operator's own second factor: generate a secret, prove the app holds it (enable), or disable it."""
    user = request.user
    assert isinstance(user, User)  # admin.site.admin_view lets only a logged-in operator in
    if request.method == "POST":
        action, code = request.POST.get("action"), request.POST.get("code", "")
        if action == "begin":
            try:
                services.totp_begin(user=user)
            except ValueError as error:
                messages.error(request, str(error))
        elif action == "enable":
            if services.totp_enable(user=user, code=code):
                messages.success(request, "Two-factor authentication is on: the login now asks for the code.")
            else:
                messages.error(request, "That code is not the current one: check the app and the device's clock.")
        elif action == "disable":
            if services.totp_disable(user=user, code=code):
                messages.success(request, "Two-factor authentication is off.")
            else:
                messages.error(request, "That code is not the current one.")
        return redirect(reverse("operators_two_factor"))

    device = OperatorTOTP.objects.filter(user=user).first()
    pending = device if device is not None and not device.confirmed else None
    context = {
        "title": "Two-factor authentication",
        "enabled": device is not None and device.confirmed,
        "pending": pending,
        "uri": totp.provisioning_uri(pending.secret, account=user.email, issuer=TOTP_ISSUER) if pending else None,
    }
    return _report(request, "operators/two_factor.html", context)
