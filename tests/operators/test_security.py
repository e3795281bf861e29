"""CSRF everywhere in the admin, and state changes only by POST."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from operators.models import OperatorTOTP


def admin_views(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from admin_views(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("admin/"):
            yield route, entry.callback


def test_no_admin_view_is_csrf_exempt():
    views = list(admin_views())
    assert any(route == "admin/reports/balance-sheet/" for route, _ in views)
    assert any(route.startswith("admin/login") for route, _ in views)
    assert [route for route, view in views if getattr(view, "csrf_exempt", False)] == []


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(operator):
    client = Client(enforce_csrf_checks=True)
    user = operator("support")
    client.force_login(user)
    assert client.post("/admin/two-factor/", {"action": "begin"}).status_code == 403
    assert not OperatorTOTP.objects.filter(user=user).exists()
    assert client.post("/admin/login/", {"username": "support@example.com", "password": "x"}).status_code == 403
