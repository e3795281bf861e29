"""How tests call the management API: `api.post(path, data)` / `api.put(path, data)` -> response.

Real requests through the gate: the data is put in a JWS signed by the two keys of a test keychain (RS256 and
ES256, both mandatory for every scope, unique jti each time, replay store on) and POSTed/PUT with Django's test
client to /api/v2/management/<path>. The response has `.status_code`, `.headers` (Total / Page / Per-Page) and
`.json()` with numbers kept exact (Decimal).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from django.test import Client

from peatio_mgmt.management_api import config as api_config
from peatio_mgmt.management_api.config import SCOPES
from peatio_mgmt.management_api.signing import generate_private_key, keychain_value, new_jti, sign

PREFIX = "/api/v2/management/"
SIGNERS = {"backend-1.test": "RS256", "backend-2.test": "ES256"}


@cache
def signing_key(kid: str, algorithm: str):
    """A private key per (kid, algorithm), generated once per test process."""
    return generate_private_key(algorithm)


def keychain_entry(kid: str, algorithm: str) -> dict:
    return {"algorithm": algorithm, "value": keychain_value(signing_key(kid, algorithm))}


def config_document(signers: dict[str, str] = SIGNERS, **jwt_options) -> dict:
    """A configuration in the file's format: every scope permitted to and mandatory for all `signers`."""
    kids = list(signers)
    return {
        "keychain": {kid: keychain_entry(kid, algorithm) for kid, algorithm in signers.items()},
        "jwt": {"verify_iat": True, "leeway": 30, "verify_jti": True, **jwt_options},
        "scopes": {scope: {"permitted_signers": kids, "mandatory_signers": kids} for scope in sorted(SCOPES)},
    }


@cache
def config_directory() -> Path:
    return Path(tempfile.mkdtemp(prefix="management-api-"))


def install_config(document: dict, directory: Path | None = None) -> Path:
    """Write `document` as the YAML configuration file and put it in force; returns the file's path."""
    path = (directory or config_directory()) / "management_api.yml"
    path.write_text(yaml.safe_dump(document))
    api_config.reload(path)
    return path


def signed_body(data, *, signers: dict[str, str] = SIGNERS, **claims) -> str:
    now = int(time.time())
    payload = {"iat": now, "exp": now + 60, "jti": new_jti(), **claims, "data": data}
    return json.dumps(sign(payload, [(kid, signing_key(kid, alg), alg) for kid, alg in signers.items()]))


class ApiResponse:
    def __init__(self, response):
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers

    def json(self):
        return json.loads(self.content, parse_float=Decimal)

    @property
    def pagination(self) -> dict:
        """The list headers of management-api.md §1.7."""
        return {name: self.headers[name] for name in ("Total", "Page", "Per-Page")}


class ApiClient:
    def __init__(self):
        install_config(config_document())
        # One Django test client per thread: race tests call the API from several threads at once.
        self.local = threading.local()

    @property
    def client(self) -> Client:
        if not hasattr(self.local, "client"):
            self.local.client = Client()
        return self.local.client

    def call(self, verb: str, path: str, data: dict | None = None) -> ApiResponse:
        url = PREFIX + path.strip("/")
        send = self.client.post if verb == "POST" else self.client.put
        return ApiResponse(send(url, signed_body(data), content_type="application/json"))

    def post(self, path: str, data: dict | None = None) -> ApiResponse:
        return self.call("POST", path, data)

    def put(self, path: str, data: dict | None = None) -> ApiResponse:
        return self.call("PUT", path, data)
