"""Operators log in with their email, matched ignoring case."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = (username or kwargs.get("email") or "").strip()
        if not email or password is None:
            return None
        users = list(get_user_model()._default_manager.filter(email__iexact=email)[:2])
        if len(users) != 1:
            # Hash anyway, so an unknown email takes as long as a wrong password (as ModelBackend does).
            get_user_model()().set_password(password)
            return None
        user = users[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
