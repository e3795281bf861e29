"""Replay rejection (management-api.md §2.4 step 6): each jti is recorded once in Redis, shared by all workers."""

from __future__ import annotations

import hashlib
import math

import redis
from django.conf import settings

KEY_PREFIX = "peatio:management_api:jti:"
NO_EXP_TTL = 24 * 3600


class StoreUnavailable(Exception):
    """503 Service unavailable.: the replay store cannot be reached, so no token is accepted (fail closed)."""


_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _client


def ttl_of(claims: dict, exp_leeway: int, now: int) -> int:
    """Until the token expires (exp + exp_leeway - now, at least 1 s), or 24 hours without exp."""
    exp = claims.get("exp")
    if exp is None:
        return NO_EXP_TTL
    return max(1, math.ceil(exp + exp_leeway - now))


def record_once(jti: str, ttl: int) -> bool:
    """True when the jti was not recorded before (and now is); False for a replay."""
    # Hashed: a jti is partner-chosen text of any length.
    key = KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()
    try:
        return bool(client().set(key, b"1", nx=True, ex=ttl))
    except redis.RedisError as error:
        raise StoreUnavailable(str(error)) from error
