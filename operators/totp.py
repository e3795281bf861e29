"""TOTP (RFC 6238) over HOTP (RFC 4226) with the standard library: the operators' second factor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP = 30
DIGITS = 6


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP)


def totp(key: bytes, at: float | None = None, *, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    return hotp(key, time_step(at), digits=digits, digest=digest)


def decode_secret(secret: str) -> bytes:
    """Base32 as authenticator apps show it: case and padding are forgiven."""
    secret = secret.strip().replace(" ", "").upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def new_secret() -> str:
    """160 random bits (RFC 4226 §4 recommends them), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def matching_step(secret: str, code: str, *, at: float | None = None, window: int = 1) -> int | None:
    """The time step (now ± window, for clock drift) whose code is `code`, or None."""
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = decode_secret(secret)
    now = time_step(at)
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps import (Key Uri Format)."""
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP})
    return f"otpauth://totp/{quote(issuer)}:{quote(account)}?{query}"
