"""Read-your-writes with a lagging replica: a partner's reads go to the primary for a while after its writes.

The rule: every request of a `write_*` scope records each of its signers' kids in Redis for
DATABASE_REPLICA_PIN_SECONDS (default 10); a request of a `read_*` scope signed by any kid recorded there reads the
primary, the others read the replica. So a partner who created a withdraw and asks for it by tid at once gets it,
from the primary, from any web server; another partner, who cannot know of that withdraw, may see it a little
later. It holds as long as the replica's replay lag stays below the pin time (docs/deploy.md: alert on it).

Redis unreachable when reading the pins: the primary (never a stale answer); when recording one: a warning, and
the partner's reads may lag for as long as Redis is away.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from peatio_mgmt.management_api.replay import client

logger = logging.getLogger(__name__)

KEY_PREFIX = "peatio:management_api:wrote:"


def pin(kids) -> None:
    """The partner (its signers' kids) just wrote: its reads go to the primary for the pin time."""
    try:
        pipeline = client().pipeline(transaction=False)
        for kid in kids:
            pipeline.set(KEY_PREFIX + kid, b"1", ex=settings.DATABASE_REPLICA_PIN_SECONDS)
        pipeline.execute()
    except redis.RedisError as error:
        logger.warning("read-your-writes pin not recorded (%s): this partner's reads may lag", error)


def pinned(kids) -> bool:
    """True when any of the kids wrote within the pin time (or when Redis cannot say)."""
    try:
        return any(client().mget([KEY_PREFIX + kid for kid in kids]))
    except redis.RedisError:
        return True
