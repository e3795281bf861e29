"""Replay rejection (management-api.md §2.4 step 6): each jti is recorded once in Redis, shared by all workers."""

from __future__ import annotations

import hashlib
import math

import redis
from django.conf import settings

KEY_PREFIX = "peatio:management_api:jti:"
NO_EXP_TTL = 24 * 3600
# A token valid for longer than this is remembered this long (Redis refuses expiries beyond 64-bit milliseconds).
MAX_TTL = 10 * 365 * 24 * 3600


class StoreUnavailable(Exception):
    """503 Service unavailable.: the replay store cannot be reached, so no token is accepted (fail closed)."""


_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _client


def ttl_of(claims: dict, exp_leeway: int, now: int) -> int:
    """Until the token expires (exp + exp_leeway - now, between 1 s and MAX_TTL), or 24 hours without exp.

    `exp` is any JSON number (an int or an exact Decimal such as 1e999999999): it is compared before any
    arithmetic, so an absurd one costs nothing (math.ceil of 1e999999999 would build a billion-digit int).
    """
    exp = claims.get("exp")
    if exp is None:
        return NO_EXP_TTL
    if exp >= now - exp_leeway + MAX_TTL:
        return MAX_TTL
    if exp <= now - exp_leeway:
        return 1
    return max(1, math.ceil(exp) + exp_leeway - now)


def record_once(jti: str, ttl: int) -> bool:
    """True when the jti was not recorded before (and now is); False for a replay."""
    # Hashed: a jti is partner-chosen text of any length.
    key = KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()
    try:
        return bool(client().set(key, b"1", nx=True, ex=ttl))
    except redis.RedisError as error:
        raise StoreUnavailable(str(error)) from error
