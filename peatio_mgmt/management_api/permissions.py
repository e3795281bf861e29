"""Permission classes of the management API (management-api.md §2.4 step 6, §2.7): in this order, after the JWS
authentication, the scope's mandatory signers, then the replay check of the token's jti."""

from __future__ import annotations

import time

from rest_framework.permissions import BasePermission

from peatio_mgmt.management_api import config as api_config
from peatio_mgmt.management_api import replay
from peatio_mgmt.management_api.authentication import FAILED_TO_VERIFY
from peatio_mgmt.management_api.exceptions import Refusal
from peatio_mgmt.management_api.jws import jti_of


class MandatorySigners(BasePermission):
    """Every mandatory signer of the action's scope signed the request."""

    def has_permission(self, request, view) -> bool:
        kids = request.user.kids
        missing = api_config.current().scopes[view.scope].mandatory - kids
        if missing:
            raise Refusal(401, "Not enough signatures for the action.",
                          reason=f"verified {sorted(kids)}, missing {sorted(missing)}")
        return True


class FreshToken(BasePermission):
    """With `verify_jti`, a token is accepted once: its jti is recorded in Redis, shared by every worker."""

    def has_permission(self, request, view) -> bool:
        options = api_config.current().jwt
        if not options.verify_jti:
            return True
        claims = request.auth
        jti = jti_of(claims)
        assert jti is not None  # with verify_jti the authentication refused a token without one (jws.py)
        try:
            first = replay.record_once(jti, replay.ttl_of(claims, options.exp_leeway, int(time.time())))
        except replay.StoreUnavailable as error:
            raise Refusal(503, "Service unavailable.", reason=f"replay store: {error}") from None
        if not first:
            raise Refusal(401, FAILED_TO_VERIFY, reason="jti replayed")
        return True
