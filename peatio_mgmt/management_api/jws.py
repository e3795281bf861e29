"""Multi-signature JWS (General JSON Serialization) as jwt-multisig writes it: shape, signatures, claims.

management-api.md §2.4 steps 1-5. `parse_token` checks the shape (failure: Malformed, 400); `verify` decodes the
payload, checks the signatures of the scope's permitted signers with the algorithm pinned to each key, then the
registered claims (failure: NotVerified, 401). The reason of a failure is for the log only.
"""

from __future__ import annotations

import base64
import json
import re
import time
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

from peatio_mgmt.management_api.config import Config, Scope

MAX_SIGNATURES = 16


class Malformed(Exception):
    """400 Couldn't parse JWT."""


class NotVerified(Exception):
    """401 Failed to verify JWT.; the message says why (log only)."""


class Signature(NamedTuple):
    kid: str
    protected: str
    signature: str


class Token(NamedTuple):
    payload: str
    signatures: list[Signature]


# Nesting of arrays and objects: a token needs 3 levels, claims with a transfer's accounts 4; beyond this the JSON is
# refused before json.loads, which recurses once per level (RecursionError at best, a dead thread at worst).
MAX_DEPTH = 32
# A protected header is a few dozen characters ({"alg":"RS256"}); longer ones are not decoded nor cached.
MAX_PROTECTED = 1024
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeep(ValueError):
    pass


def check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Raise TooDeep when arrays/objects nest deeper than `limit` (brackets inside strings do not count).

    Cheap first: text with at most `limit` opening brackets cannot nest deeper. Otherwise the strings are removed
    and the depth is the running sum over the remaining brackets — C-speed passes, no recursion.
    """
    if text.count("[") + text.count("{") <= limit:
        return
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > limit:
        raise TooDeep(f"JSON nested deeper than {limit}")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | Decimal:
    # int() refuses more than 4300 digits (ValueError); no 64-bit integer needs 40, so a longer one stays an exact
    # Decimal, which every Integer parameter refuses as "is invalid" and a String reads as its digits.
    return int(text) if len(text) <= 40 else Decimal(text)


def loads(text: str | bytes):
    """JSON with numbers kept exact (Decimal), NaN/Infinity refused, nesting bounded; bytes must be UTF-8.

    Raises ValueError (UnicodeDecodeError, JSONDecodeError, TooDeep) for anything else.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    check_depth(text)
    return json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_refuse_constant)


def b64url_decode(text: str) -> bytes:
    """base64url without padding (padding tolerated); any other character is an error."""
    text = text.rstrip("=")
    if "+" in text or "/" in text:
        raise ValueError("not base64url")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def parse_token(body: bytes) -> Token:
    """Step 1: the body is a JSON object with a string `payload` and at most 16 well-formed signatures."""
    try:
        document = loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Malformed("body is not UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise Malformed("body is not an object")
    payload, signatures = document.get("payload"), document.get("signatures")
    if not isinstance(payload, str) or not isinstance(signatures, list) or len(signatures) > MAX_SIGNATURES:
        raise Malformed("payload or signatures missing or malformed")
    parsed = []
    for item in signatures:
        if not isinstance(item, dict):
            raise Malformed("signature is not an object")
        protected, signature, header = item.get("protected"), item.get("signature"), item.get("header")
        kid = header.get("kid") if isinstance(header, dict) else None
        if not (isinstance(protected, str) and isinstance(signature, str) and isinstance(kid, str)):
            raise Malformed("signature without string protected, signature or header.kid")
        parsed.append(Signature(kid=kid, protected=protected, signature=signature))
    return Token(payload=payload, signatures=parsed)


def verify(token: Token, scope_name: str, config: Config, now: int | None = None) -> tuple[dict, frozenset[str]]:
    """Steps 2-5: the claims and the set of kids whose signatures verified; raises NotVerified."""
    scope: Scope | None = config.scopes.get(scope_name)
    if scope is None:
        raise NotVerified(f"scope {scope_name} is not configured")
    try:
        claims = loads(b64url_decode(token.payload))
    except (ValueError, RecursionError):
        raise NotVerified("payload is not base64url of UTF-8 JSON") from None
    if not isinstance(claims, dict):
        raise NotVerified("payload is not a JSON object")
    verified = set()
    payload = token.payload.encode()  # base64url, so ASCII: it decoded above
    for signature in token.signatures:
        if signature.kid in scope.permitted:
            _verify_signature(signature, payload, config)
            verified.add(signature.kid)
    if verified:
        check_claims(claims, config, int(time.time()) if now is None else now)
    return claims, frozenset(verified)


def _verify_signature(signature: Signature, payload: bytes, config: Config) -> None:
    key = config.keychain[signature.kid]
    if protected_alg(signature.protected) != key.algorithm:
        raise NotVerified(f"kid {signature.kid}: protected header must be an object with alg {key.algorithm}, no crit")
    try:
        raw = b64url_decode(signature.signature)
    except ValueError:
        raise NotVerified(f"kid {signature.kid}: signature not base64url") from None
    # The signing input is the two strings exactly as sent (both ASCII: they decoded as base64url).
    signing_input = signature.protected.encode() + b"." + payload
    if not key.verifier.verify(signing_input, key.public_key, raw):
        raise NotVerified(f"kid {signature.kid}: signature does not verify")


def protected_alg(protected: str) -> str | None:
    """The `alg` of a protected header that is a JSON object without `crit`; None for anything else."""
    if len(protected) > MAX_PROTECTED:
        return None  # before the cache: 1024 entries of a megabyte each would be a gigabyte per worker
    return _protected_alg(protected)


@lru_cache(maxsize=1024)  # a partner sends the same few headers again and again; bounded against floods
def _protected_alg(protected: str) -> str | None:
    try:
        header = loads(b64url_decode(protected))
    except (ValueError, RecursionError):
        return None
    if not isinstance(header, dict) or "crit" in header or not isinstance(header.get("alg"), str):
        return None
    return header["alg"]


def _is_number(value) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def check_claims(claims: dict, config: Config, now: int) -> None:
    """Step 5: registered claims with the configured options and leeways."""
    options = config.jwt
    if "exp" in claims:
        exp = claims["exp"]
        if not _is_number(exp):
            raise NotVerified("exp is not a number")
        if exp <= now - options.exp_leeway:
            raise NotVerified("token expired")
    if options.verify_not_before and "nbf" in claims:
        nbf = claims["nbf"]
        if not _is_number(nbf) or nbf > now + options.nbf_leeway:
            raise NotVerified("token not yet valid (nbf)")
    if options.verify_iat and "iat" in claims:
        iat = claims["iat"]
        if not _is_number(iat) or iat > now + options.iat_leeway:
            raise NotVerified("iat is not a number or in the future")
    if options.iss is not None:
        iss = claims.get("iss")
        if not isinstance(iss, str) or iss not in options.iss:
            raise NotVerified("iss does not match")
    if options.aud is not None:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in options.aud for a in audiences):
            raise NotVerified("aud does not match")
    if options.sub is not None and claims.get("sub") != options.sub:
        raise NotVerified("sub does not match")
    if options.verify_jti and jti_of(claims) is None:
        raise NotVerified("jti missing or blank")


def jti_of(claims: dict) -> str | None:
    """The jti as text (a number is read as its text); None when absent or blank."""
    jti = claims.get("jti")
    if _is_number(jti):
        jti = str(jti)
    return jti if isinstance(jti, str) and jti.strip() else None
