"""The admin login form: email + password (+ the TOTP code when enabled), with the lockout."""

import logging

import redis
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from operators import lockout
from operators.services import totp_check

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    # REMOTE_ADDR: behind a reverse proxy this is the proxy's address unless the deployment rewrites it.
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


class OperatorLoginForm(AdminAuthenticationForm):
    username = forms.CharField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}))
    code = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=6,
        help_text="The 6-digit code of your authenticator app, when two-factor authentication is on.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # One message for every failure: a wrong code must not tell that the password was right.
        "invalid_login": "Please enter the correct email, password and (when two-factor authentication is on) "
        "authentication code of a staff account.",
        "locked": "Too many failed logins: this login is locked for a while. Try again later.",
        "unavailable": "Login is unavailable right now. Try again in a minute.",
    }

    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        ip = client_ip(self.request)
        try:
            if lockout.login_locked(email=email, ip=ip):
                raise ValidationError(self.error_messages["locked"], code="locked")
            user = authenticate(self.request, username=email, password=password)
            if user is None or not user.is_staff or not totp_check(user=user, code=self.cleaned_data.get("code", "")):
                lockout.login_failed(email=email, ip=ip)
                raise self.get_invalid_login_error()
            lockout.login_succeeded(email=email, ip=ip)
        except redis.RedisError:
            logger.exception("operator login refused: the lockout counters cannot be reached")
            raise ValidationError(self.error_messages["unavailable"], code="unavailable") from None
        self.user_cache = user
        self.confirm_login_allowed(user)
        return self.cleaned_data
