import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.operators.conftest import PASSWORD, logged_in, login

pytestmark = pytest.mark.django_db


def test_createoperator_with_password_creates_a_staff_user_in_the_role_group(client):
    call_command("createoperator", "Support.Desk@Example.com", role="support", password=PASSWORD)

    user = get_user_model().objects.get()
    assert (user.email, user.is_staff, user.is_superuser) == ("support.desk@example.com", True, False)
    assert list(user.groups.values_list("name", flat=True)) == ["support"]
    assert logged_in(login(client, "SUPPORT.desk@example.com"))


def test_createoperator_takes_the_password_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("DJANGO_OPERATOR_PASSWORD", "environment-password-1")
    call_command("createoperator", "acc@example.com", role="accountant")

    assert logged_in(login(client, "acc@example.com", "environment-password-1"))


def test_createoperator_superadmin_is_a_superuser():
    call_command("createoperator", "root@example.com", role="superadmin", password=PASSWORD)
    user = get_user_model().objects.get()
    assert user.is_superuser and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["superadmin"]


def test_createoperator_without_password_and_no_terminal_refuses(monkeypatch):
    monkeypatch.delenv("DJANGO_OPERATOR_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: False)
    with pytest.raises(CommandError, match="no password"):
        call_command("createoperator", "x@example.com", role="support")
    assert not get_user_model().objects.exists()


def test_createoperator_prompts_for_the_password_on_a_terminal(monkeypatch, client):
    monkeypatch.delenv("DJANGO_OPERATOR_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed-at-the-prompt-1")
    call_command("createoperator", "typed@example.com", role="technical")
    assert logged_in(login(client, "typed@example.com", "typed-at-the-prompt-1"))


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["not-an-email"], {"role": "support", "password": PASSWORD}, "not an email"),
        (["short@example.com"], {"role": "support", "password": "short"}, "password refused"),
    ],
)
def test_createoperator_refuses_bad_input(args, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("createoperator", *args, **options)
    assert not get_user_model().objects.exists()


def test_createoperator_refuses_an_email_taken_in_another_case():
    call_command("createoperator", "dup@example.com", role="support", password=PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        call_command("createoperator", "DUP@example.com", role="admin", password=PASSWORD)


def test_createoperator_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        call_command("createoperator", "x@example.com", role="member", password=PASSWORD)
