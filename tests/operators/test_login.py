"""The admin login: email (any case) + password, staff only, lockout after repeated failures."""

import pytest
from django.conf import settings

from ledger.models import Member
from operators.lockout import _key
from operators.redis_store import redis_client
from tests.operators.conftest import logged_in, login

pytestmark = pytest.mark.django_db


def test_login_page_labels_the_field_email(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b'<label for="id_username" class="required">Email:</label>' in response.content


def test_operator_logs_in_with_email_in_any_case(operator, client):
    operator("support", "Desk@Example.com")
    assert logged_in(login(client, "dESK@example.COM"))
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("next_url", [None, "https://evil.example/"])
def test_a_login_without_a_local_next_lands_on_the_dashboard(operator, client, next_url):
    from tests.operators.conftest import PASSWORD

    operator("support", "desk@example.com")
    data = {"username": "desk@example.com", "password": PASSWORD, **({"next": next_url} if next_url else {})}
    response = client.post("/admin/login/", data)
    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_wrong_password_is_refused(operator, client):
    operator("support")
    response = login(client, "support@example.com", "wrong-password-123")
    assert response.status_code == 200
    assert b"Please enter the correct email, password" in response.content


def test_non_staff_user_cannot_log_in(operator, client):
    user = operator("support")
    user.is_staff = False
    user.save()
    assert not logged_in(login(client, "support@example.com"))


def test_anonymous_is_sent_to_the_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_five_failures_lock_the_email_and_ip_even_for_the_right_password(operator, client):
    operator("support")
    for _ in range(settings.OPERATOR_LOGIN_MAX_FAILURES):
        assert not logged_in(login(client, "support@example.com", "wrong-password-123"))

    response = login(client, "support@example.com")
    assert not logged_in(response)
    assert b"Too many failed logins" in response.content
    ttl = redis_client().ttl(_key("support@example.com", "127.0.0.1"))
    assert settings.OPERATOR_LOGIN_LOCKOUT_SECONDS - 5 <= ttl <= settings.OPERATOR_LOGIN_LOCKOUT_SECONDS
    # Another address is not locked, and the lock ends with the counter's expiry.
    assert logged_in(login(client, "support@example.com", ip="10.1.2.3"))
    redis_client().delete(_key("support@example.com", "127.0.0.1"))
    assert logged_in(login(client, "SUPPORT@example.com"))


def test_the_lock_is_per_email_ignoring_case(operator, client):
    operator("support")
    for _ in range(settings.OPERATOR_LOGIN_MAX_FAILURES):
        login(client, "Support@Example.com", "wrong-password-123")
    assert b"Too many failed logins" in login(client, "support@example.com").content


def test_fewer_failures_than_the_limit_do_not_lock_and_a_success_resets_them(operator, client):
    operator("support")
    for _ in range(settings.OPERATOR_LOGIN_MAX_FAILURES - 1):
        login(client, "support@example.com", "wrong-password-123")
    assert logged_in(login(client, "support@example.com"))
    assert redis_client().get(_key("support@example.com", "127.0.0.1")) is None


def test_failures_start_a_window_that_expires(operator, client):
    operator("support")
    login(client, "support@example.com", "wrong-password-123")
    ttl = redis_client().ttl(_key("support@example.com", "127.0.0.1"))
    assert 0 < ttl <= settings.OPERATOR_LOGIN_WINDOW_SECONDS


def test_login_refused_when_redis_is_unreachable(operator, client, monkeypatch):
    import redis

    operator("support")

    def down(**kwargs):
        raise redis.ConnectionError("down")

    monkeypatch.setattr("operators.lockout.login_locked", down)
    response = login(client, "support@example.com")
    assert not logged_in(response)
    assert b"Login is unavailable right now" in response.content


def test_exchange_members_are_not_operators(client, member):
    # A member of the exchange (ledger.Member) has no password here: the console knows only staff users.
    assert Member.objects.filter(email=member.email).exists()
    assert not logged_in(login(client, member.email))
