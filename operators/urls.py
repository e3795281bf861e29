"""The console's pages, mounted under admin/ before the admin's own URLs (peatio_mgmt.urls)."""

from django.contrib import admin
from django.urls import path

from operators import views

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="operators_dashboard"),
    path("reports/balance-sheet/", admin.site.admin_view(views.balance_sheet), name="operators_balance_sheet"),
    path("reports/income-statement/", admin.site.admin_view(views.income_statement), name="operators_income_statement"),
    path("two-factor/", admin.site.admin_view(views.two_factor), name="operators_two_factor"),
]
