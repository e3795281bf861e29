"""JWS authentication of the management API (management-api.md §2.4 steps 1-5), a DRF authentication class.

The body is the JWS (general JSON serialization); its signatures are checked against the keys the route's scope
permits (`jws.py`, algorithm pinned per key; `config.py`, the keychain). The authenticated "user" is the set of
kids whose signatures verified, `request.auth` the verified claims. The scope's mandatory signers and the replay
check come after, in the permission classes (`permissions.py`), as the contract orders them.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from rest_framework.authentication import BaseAuthentication

from peatio_mgmt.management_api import config as api_config
from peatio_mgmt.management_api.exceptions import Refusal
from peatio_mgmt.management_api.jws import Malformed, NotVerified, parse_token, verify

FAILED_TO_VERIFY = "Failed to verify JWT."


class Signers(NamedTuple):
    """The partners whose signatures verified (request.user)."""

    kids: frozenset[str]
    is_authenticated: bool = True


def verified_claims(scope: str, body: bytes) -> tuple[dict, frozenset[str]]:
    """Checks 6-7 on the body: the claims and the kids whose signatures verified, or a Refusal."""
    try:
        token = parse_token(body)
    except Malformed as error:
        raise Refusal(400, "Couldn't parse JWT.", reason=str(error)) from None
    try:
        return verify(token, scope, api_config.current(), int(time.time()))
    except NotVerified as error:
        raise Refusal(401, FAILED_TO_VERIFY, reason=str(error)) from None


class JWSAuthentication(BaseAuthentication):
    def authenticate(self, request) -> tuple[Signers, dict]:
        view = request.parser_context["view"]
        claims, kids = verified_claims(view.scope, request._request.body)
        return Signers(kids), claims
