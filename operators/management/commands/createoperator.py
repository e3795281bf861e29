"""manage.py createoperator EMAIL --role ROLE [--password P]: a staff user in the role's group."""

import getpass
import os

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from operators.roles import ROLES, SUPERADMIN

PASSWORD_ENV = "DJANGO_OPERATOR_PASSWORD"


class Command(BaseCommand):
    help = "Create an operator of the admin console: a staff user in a role group, logging in with the email."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", help=f"else ${PASSWORD_ENV}, else asked for")

    def handle(self, *args, email, role, password, **options):
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not an email address: {email!r}") from None
        User = get_user_model()
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"an operator with the email {email} already exists")
        password = password or os.environ.get(PASSWORD_ENV) or self._ask_password()
        user = User(username=email, email=email, is_staff=True, is_superuser=role == SUPERADMIN)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("password refused: " + " ".join(error.messages)) from None
        user.set_password(password)
        with transaction.atomic():
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write(f"operator {email} created with the role {role}")

    def _ask_password(self) -> str:
        if not os.isatty(0):
            raise CommandError(f"no password: pass --password or set {PASSWORD_ENV} (stdin is not a terminal)")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
        return password
