"""Helpers of the event stream tests: the outbox read back, a signing key file, a configuration file, and the
reference receiver (tools/event_receiver.py) serving on a thread of the test process."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import yaml

from events import config as events_config
from events.models import Event
from events.services import events_sequence
from peatio_mgmt.management_api.signing import generate_private_key, private_pem
from tests.sync.conftest import chart  # noqa: F401  (a fixture)
from tools.event_receiver import Receiver, serve


def outbox() -> list[dict]:
    """Every event, sequenced first, as (seq, parsed body) dicts in id order."""
    return [{"seq": seq, **json.loads(body)} for seq, body in Event.objects.order_by("id").values_list("seq", "body")]


def sequenced() -> list[dict]:
    events_sequence()
    return outbox()


def write_key(directory: Path, algorithm: str = "RS256", mode: int = 0o600):
    key = generate_private_key(algorithm)
    path = directory / f"events-{algorithm}.pem"
    path.write_text(private_pem(key))
    os.chmod(path, mode)
    return key, path


def config_document(key_file: Path, partners: dict, algorithm: str = "RS256", **signing) -> dict:
    return {"signing": {"kid": "peatio", "algorithm": algorithm, "private_key_file": str(key_file), "iss": "peatio",
                        "lifetime": 60, **signing},
            "partners": partners}


def write_config(directory: Path, document: dict) -> Path:
    path = directory / "events.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


class Partner:
    """A receiver on a local port whose answers a test can script: `faults(event_id)` -> None (apply and answer
    200), or (status, headers) to answer without applying."""

    def __init__(self, receiver: Receiver, port: int = 0):
        self.receiver, self.faults = receiver, lambda event_id: None
        from tools.event_receiver import Handler

        partner = self

        class Scripted(Handler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fault = partner.faults(int(self.headers["X-Peatio-Event-Id"]))
                if fault is not None:
                    return self.answer(*fault)
                partner.headers.append(dict(self.headers))
                partner.bodies.append(body)
                return self.answer(self.status_for(body))

        self.headers, self.bodies = [], []
        self.server = serve(receiver, port, handler=Scripted)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def signing_key(tmp_path):
    return write_key(tmp_path)


@pytest.fixture
def partner(signing_key):
    key, _ = signing_key
    endpoint = Partner(Receiver(aud="backend-1.partner.test", kid="peatio", algorithm="RS256",
                                public_key=key.public_key()))
    yield endpoint
    endpoint.stop()


@pytest.fixture
def configure_partners(tmp_path, signing_key, settings):
    """Put a configuration in force for the test: `configure_partners({name: entry})` -> Config."""
    _, key_file = signing_key

    def configure(partners: dict) -> events_config.Config:
        path = write_config(tmp_path, config_document(key_file, partners))
        settings.PARTNER_EVENTS_CONFIG = str(path)
        return events_config.reload()

    yield configure
    events_config.reload("")
