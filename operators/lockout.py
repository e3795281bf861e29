"""Login lockout: repeated failed logins of one email from one IP refuse that pair for a while.

Counters live in Redis with a TTL: MAX_FAILURES failures within WINDOW seconds lock the pair for LOCKOUT seconds
(counted from the failure that reached the limit); a successful login clears the counter. When Redis cannot be
reached the login is refused (fail closed): an unbounded password guesser is worse than a console that waits for
Redis.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings

from operators.redis_store import redis_client

logger = logging.getLogger(__name__)


def _key(email: str, ip: str) -> str:
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip}".encode()).hexdigest()
    return f"operators:login_failures:{digest}"


def login_locked(*, email: str, ip: str) -> bool:
    count = redis_client().get(_key(email, ip))
    return count is not None and int(count) >= settings.OPERATOR_LOGIN_MAX_FAILURES


def login_failed(*, email: str, ip: str) -> None:
    key = _key(email, ip)
    with redis_client().pipeline(transaction=True) as pipe:
        # The window starts at the first failure; SET NX + INCR in one MULTI so no counter is left without a TTL.
        pipe.set(key, 0, ex=settings.OPERATOR_LOGIN_WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    if count >= settings.OPERATOR_LOGIN_MAX_FAILURES:
        redis_client().expire(key, settings.OPERATOR_LOGIN_LOCKOUT_SECONDS)
        logger.warning("operator login locked: %s failures for %s from %s", count, email, ip)


def login_succeeded(*, email: str, ip: str) -> None:
    redis_client().delete(_key(email, ip))
