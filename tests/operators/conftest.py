import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ledger.chart import install_default_chart
from ledger.models import ChartAccount
from operators.redis_store import redis_client
from operators.roles import SUPERADMIN
from operators.selectors import LEDGER_LAST_CHECK_KEY

PASSWORD = "correct-horse-battery-staple"


def _clear_redis():
    client = redis_client()
    keys = list(client.scan_iter("operators:*")) + [LEDGER_LAST_CHECK_KEY]
    client.delete(*keys)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher's cost is the point in production and minutes here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clean_redis():
    """Login counters and the books check's record live in Redis: every test starts and ends without them."""
    _clear_redis()
    yield
    _clear_redis()


@pytest.fixture
def chart_of_accounts():
    """The default chart for a transactional test: another transactional test's flush empties the rows the ledger's
    data migration installed (the role groups come back by themselves: operators re-installs them on post_migrate)."""
    install_default_chart(ChartAccount)


def create_operator(role: str, email: str | None = None, password: str = PASSWORD):
    email = email or f"{role}@example.com"
    user = get_user_model().objects.create_user(
        username=email, email=email, password=password, is_staff=True, is_superuser=role == SUPERADMIN
    )
    user.groups.set([Group.objects.get(name=role)])
    return user


@pytest.fixture
def operator(db):
    """operator(role, email=None) -> a staff user in the role's group, password PASSWORD."""
    return create_operator


def login(client, email: str, password: str = PASSWORD, code: str = "", ip: str = "127.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "code": code, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.fixture
def console(db):
    """console(role) -> a Django test Client logged in as an operator of the role, made by `manage.py createoperator`."""
    from django.core.management import call_command
    from django.test import Client

    def make(role: str):
        email = f"{role}.console@example.com"
        call_command("createoperator", email, role=role, password=PASSWORD, stdout=io.StringIO())
        client = Client()
        assert logged_in(login(client, email))
        client.user = get_user_model().objects.get(email=email)
        return client

    return make
