"""manage.py management_api_keygen / management_api_token: a partner's keys and signed bodies work at the gate."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from peatio_mgmt.management_api import config

pytestmark = pytest.mark.django_db


def keygen(tmp_path, kid, algorithm):
    out = StringIO()
    key_path = tmp_path / f"{kid}.pem"
    call_command("management_api_keygen", kid=kid, algorithm=algorithm, out=str(key_path), stdout=out, stderr=StringIO())
    return key_path, yaml.safe_load(out.getvalue())["keychain"][kid]


def test_keygen_entry_and_token_verify_at_the_gate(tmp_path, configure, send):
    key1, entry1 = keygen(tmp_path, "backend-1", "RS256")
    key2, entry2 = keygen(tmp_path, "backend-2", "ES384")
    assert entry1["algorithm"] == "RS256" and entry2["algorithm"] == "ES384"
    configure({
        "keychain": {"backend-1": entry1, "backend-2": entry2},
        "jwt": {"verify_jti": True, "verify_iat": True},
        "scopes": {"tools": {"permitted_signers": ["backend-1", "backend-2"],
                             "mandatory_signers": ["backend-1", "backend-2"]}},
    })
    out = StringIO()
    call_command("management_api_token", "--kid", "backend-1", "--key", str(key1), "--kid", "backend-2",
                 "--key", str(key2), "--data", '{"amount": 1.10}', "--exp", "60", "--jti", stdout=out)
    body = out.getvalue()
    assert send(body=body).status_code == 201
    assert send(body=body).status_code == 401  # the jti is spent


def test_keygen_prints_the_private_key_without_out(tmp_path):
    out = StringIO()
    call_command("management_api_keygen", kid="k", algorithm="ES256", stdout=out)
    text = out.getvalue()
    assert "-----BEGIN PRIVATE KEY-----" in text
    assert config.parse(yaml.safe_load(text[text.index("keychain:"):])).keychain["k"].algorithm == "ES256"


def test_token_algorithm_can_be_overridden(tmp_path, configure, send):
    key, entry = keygen(tmp_path, "k", "PS256")
    configure({"keychain": {"k": entry}, "scopes": {"tools": {"permitted_signers": ["k"], "mandatory_signers": ["k"]}}})
    out = StringIO()
    call_command("management_api_token", "--kid", "k", "--key", str(key), "--alg", "PS256", stdout=out)
    assert json.loads(out.getvalue())["signatures"][0]["protected"] == "eyJhbGciOiJQUzI1NiJ9"
    assert send(body=out.getvalue()).status_code == 201
