import json

import pytest
from django.test import Client

from peatio_mgmt.management_api import config
from tests.api_client import PREFIX, config_document, install_config, signed_body


@pytest.fixture
def configure(tmp_path):
    """configure(document) writes the YAML file and puts it in force for the test."""
    yield lambda document: install_config(document, tmp_path)
    config.reload()


@pytest.fixture
def gate_config(configure):
    """Default test keychain: RS256 + ES256, both mandatory everywhere, jti replay refused, leeway 30."""
    return configure(config_document())


@pytest.fixture
def http():
    return Client()


@pytest.fixture
def send(http, gate_config):
    """send(path, body=None, *, verb="POST", content_type=..., data=...) -> the raw Django test response."""

    def send(path="timestamp", body=None, *, verb="POST", content_type="application/json", data=None, **claims):
        if body is None:
            body = signed_body(data if data is not None else {}, **claims)
        elif not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return http.generic(verb, PREFIX + path, body, content_type=content_type)

    return send
