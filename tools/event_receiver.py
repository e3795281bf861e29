"""A reference receiver of the partner event stream (coin-deposits-ethereum-events.md §16.4): copy it and replace
`apply` with your own code.

It verifies each POST as the exchange signs it (JWS General JSON Serialization, the exchange's public key under
its kid, the algorithm pinned to the key, `aud` = your partner name, `iss`, `exp`), de-duplicates by `event.id`
and applies an event only when its id is greater than the last one applied for the same `record.tid` (dead
letters and replays may arrive late; each event is a full snapshot, so ignoring an older one is always right).
It answers 200 once the event is applied or known, 401 when the token does not verify, 400 for a body that is not
a token. Needs PyJWT and cryptography (what jwt-multisig verifiers already use) and the standard library.

    python tools/event_receiver.py --port 8900 --aud backend-1.partner.example \
        --kid peatio --algorithm RS256 --public-key <the value `manage.py events_public_key` prints>

prints one JSON line per applied event. Keep `seen` and `last_by_tid` in your database, in the transaction that
applies the event, so that a crash between applying and answering is de-duplicated on the retry.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import get_default_algorithms

LEEWAY = 30


class NotVerified(Exception):
    pass


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_from_keychain_value(value: str):
    """The keychain `value` (URL-safe base64 of a PEM public key, or the PEM itself) as a key object."""
    pem = value.encode() if "-----BEGIN" in value else b64url_decode(value.strip())
    return load_pem_public_key(pem)


class Receiver:
    """Verification, de-duplication and in-order application, without HTTP (the handler below calls `receive`)."""

    def __init__(self, *, aud: str, kid: str, algorithm: str, public_key, iss: str = "peatio"):
        self.aud, self.kid, self.algorithm, self.public_key, self.iss = aud, kid, algorithm, public_key, iss
        self.verifier = get_default_algorithms()[algorithm]
        self.lock = threading.Lock()
        self.seen: set[int] = set()  # event ids received (keep them in your database)
        self.last_by_tid: dict[str, int] = {}  # per record: the id of the last event applied
        self.received: list[int] = []  # every verified arrival, duplicates included (for tests and logs)
        self.applied: list[dict] = []

    def verify(self, body: bytes) -> dict:
        """The claims of a verified token; NotVerified (401) or ValueError (400, not a token) otherwise."""
        token = json.loads(body)
        payload, signatures = token["payload"], token["signatures"]
        signature = next((s for s in signatures if s.get("header", {}).get("kid") == self.kid), None)
        if signature is None:
            raise NotVerified(f"no signature by {self.kid}")
        if json.loads(b64url_decode(signature["protected"])).get("alg") != self.algorithm:
            raise NotVerified(f"alg is not {self.algorithm}")
        signing_input = f"{signature['protected']}.{payload}".encode()
        if not self.verifier.verify(signing_input, self.public_key, b64url_decode(signature["signature"])):
            raise NotVerified("signature does not verify")
        claims = json.loads(b64url_decode(payload))
        now = time.time()
        if claims.get("aud") != self.aud or claims.get("iss") != self.iss:
            raise NotVerified("aud or iss is not ours")
        if not claims.get("exp", 0) > now - LEEWAY or claims.get("iat", now) > now + LEEWAY:
            raise NotVerified("expired or issued in the future")
        return claims

    def receive(self, body: bytes) -> dict:
        event = self.verify(body)["event"]
        with self.lock:
            self.received.append(event["id"])
            if event["id"] in self.seen:
                return event  # a duplicate: already applied (or knowingly skipped)
            self.seen.add(event["id"])
            tid = event["record"]["tid"]
            if event["id"] > self.last_by_tid.get(tid, 0):
                self.last_by_tid[tid] = event["id"]
                self.apply(event)
        return event

    def apply(self, event: dict) -> None:
        """Your code: bring your copy of `event["record"]` up to date."""
        self.applied.append(event)
        print(json.dumps(event, separators=(",", ":")), flush=True)


class Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.answer(self.status_for(self.rfile.read(int(self.headers.get("Content-Length", 0)))))

    def status_for(self, body: bytes) -> int:
        try:
            self.server.receiver.receive(body)
        except NotVerified:
            return 401
        except (ValueError, KeyError, TypeError):
            return 400
        return 200

    def answer(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def serve(receiver: Receiver, port: int, host: str = "127.0.0.1", handler=Handler) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.receiver = receiver
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--aud", required=True, help="your partner name in the exchange's file")
    parser.add_argument("--kid", default="peatio")
    parser.add_argument("--algorithm", default="RS256")
    parser.add_argument("--public-key", required=True, help="the keychain value: base64 of the PEM public key")
    parser.add_argument("--iss", default="peatio")
    args = parser.parse_args()
    receiver = Receiver(aud=args.aud, kid=args.kid, algorithm=args.algorithm, iss=args.iss,
                        public_key=public_key_from_keychain_value(args.public_key))
    serve(receiver, args.port).serve_forever()


if __name__ == "__main__":
    main()
