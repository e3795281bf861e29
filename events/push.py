"""One try of a push (coin-deposits-ethereum-events.md §16.4): the request signed afresh, the answer classified.

Plain http.client: redirects are never followed, the timeout covers connect and read, and no database is touched
here — the caller holds no transaction across `post_event`.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from events.config import Partner, Signing
from peatio_mgmt.management_api.signing import new_jti, sign_bytes

USER_AGENT = "peatio-mgmt-events/1"
# Statuses that refuse this event (counted toward dead-lettering); every other answer is the endpoint's failure.
REJECTIONS = frozenset({400, 409, 410, 413, 415, 422})
RETRY_AFTER_STATUSES = frozenset({429, 503})
DELIVERED, REJECTED, FAILED = "delivered", "rejected", "failed"


@dataclass(frozen=True)
class Outcome:
    kind: str
    status: int | None = None
    error: str | None = None
    retry_after: int | None = None


def event_json(seq: int, body: str) -> str:
    """The Event (management-api.md 3.8): the stored body with its id put first, as /events answers it."""
    return f'{{"id":{seq},{body[1:]}'


def signed_body(signing: Signing, partner: Partner, event: str) -> bytes:
    """The JWS (General JSON Serialization, one signature) of §16.4, with a fresh jti, iat and exp."""
    now = int(time.time())
    claims = json.dumps({"iss": signing.iss, "aud": partner.name, "jti": new_jti(), "iat": now,
                         "exp": now + signing.lifetime}, separators=(",", ":"), ensure_ascii=False)
    payload = f'{claims[:-1]},"event":{event}}}'.encode()
    return json.dumps(sign_bytes(payload, [(signing.kid, signing.private_key, signing.algorithm)]),
                      separators=(",", ":")).encode()


def post_event(signing: Signing, partner: Partner, *, seq: int, name: str, event: str) -> Outcome:
    url = urlsplit(partner.url)
    assert url.hostname, "events.config takes a partner's url only with a host"
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.hostname, url.port, timeout=settings.EVENTS_HTTP_TIMEOUT)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Peatio-Event-Id": str(seq),
               "X-Peatio-Event-Name": name, **partner.headers}
    try:
        connection.request("POST", url.path + (f"?{url.query}" if url.query else "") or "/",
                           body=signed_body(signing, partner, event), headers=headers)
        response = connection.getresponse()
        response.read(65536)  # the body is ignored; read a little so the connection closes cleanly
    except TimeoutError:
        return Outcome(FAILED, error=f"timeout after {settings.EVENTS_HTTP_TIMEOUT} s")
    except (OSError, http.client.HTTPException) as error:
        return Outcome(FAILED, error=f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return Outcome(DELIVERED, status=status)
    # not named `error`: Python unbinds the except blocks' `error` above
    refusal = f"HTTP {status} {response.reason}"[:500]
    if status in REJECTIONS:
        return Outcome(REJECTED, status=status, error=refusal)
    retry_after = response.getheader("Retry-After", "").strip()
    return Outcome(FAILED, status=status, error=refusal,
                   retry_after=int(retry_after) if status in RETRY_AFTER_STATUSES and retry_after.isdigit() else None)
