"""The configuration file (§2.6) and the startup refusals (§2.7), each naming the offending entry."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from peatio_mgmt.management_api import config
from peatio_mgmt.management_api.signing import private_pem, public_pem, sign
from tests.api_client import keychain_entry, signing_key

ROOT = Path(__file__).resolve().parents[2]


def base(**changes):
    document = {
        "keychain": {"alex": keychain_entry("alex", "RS256"), "bo": keychain_entry("bo", "ES256")},
        "jwt": {"leeway": 10},
        "scopes": {"tools": {"permitted_signers": ["alex", "bo"], "mandatory_signers": ["alex"]}},
    }
    document.update(changes)
    return document


def write(tmp_path, document) -> Path:
    path = tmp_path / "management_api.yml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return path


def refusal(tmp_path, document) -> str:
    with pytest.raises(config.ConfigError) as error:
        config.load(write(tmp_path, document))
    return str(error.value)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_peatio_format_loads(tmp_path):
    loaded = config.load(write(tmp_path, base()))
    assert set(loaded.keychain) == {"alex", "bo"}
    assert loaded.keychain["alex"].algorithm == "RS256"
    assert loaded.scopes["tools"].mandatory == {"alex"}
    assert (loaded.jwt.exp_leeway, loaded.jwt.nbf_leeway, loaded.jwt.iat_leeway) == (10, 10, 10)


@pytest.mark.parametrize("encode", [
    lambda pem: base64.urlsafe_b64encode(pem.encode()).decode().rstrip("="),
    lambda pem: base64.b64encode(pem.encode()).decode(),
    lambda pem: pem,
])
def test_key_value_encodings_accepted(tmp_path, encode):
    pem = public_pem(signing_key("alex", "RS256"))
    document = base()
    document["keychain"]["alex"]["value"] = encode(pem)
    assert config.load(write(tmp_path, document)).keychain["alex"]


def test_pkcs1_rsa_public_key_accepted(tmp_path):
    pem = signing_key("alex", "RS256").public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    assert "RSA PUBLIC KEY" in pem
    document = base()
    document["keychain"]["alex"]["value"] = b64(pem)
    assert config.load(write(tmp_path, document)).keychain["alex"]


def test_leeway_overrides(tmp_path):
    loaded = config.load(write(tmp_path, base(jwt={"leeway": 5, "exp_leeway": 0, "iat_leeway": 9})))
    assert (loaded.jwt.exp_leeway, loaded.jwt.nbf_leeway, loaded.jwt.iat_leeway) == (0, 5, 9)


def test_unknown_jwt_option_and_scope_are_ignored_with_a_warning(tmp_path, caplog):
    document = base(jwt={"verify_everything": True})
    document["scopes"]["superpowers"] = {"permitted_signers": ["nobody"]}
    loaded = config.load(write(tmp_path, document))
    assert "superpowers" not in loaded.scopes
    assert "jwt.verify_everything" in caplog.text and "scopes.superpowers" in caplog.text


def test_verify_iss_without_iss_checks_nothing_with_a_warning(tmp_path, caplog):
    assert config.load(write(tmp_path, base(jwt={"verify_iss": True}))).jwt.iss is None
    assert "jwt.verify_iss" in caplog.text


def test_not_yaml_names_the_file(tmp_path):
    assert str(tmp_path / "management_api.yml") in refusal(tmp_path, "keychain: [unclosed")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", ""])
def test_top_level_not_a_mapping_names_the_file(tmp_path, text):
    assert refusal(tmp_path, text).startswith(str(tmp_path / "management_api.yml"))


def with_key(**entry):
    document = base()
    document["keychain"]["alex"] = {**document["keychain"]["alex"], **entry}
    return document


@pytest.mark.parametrize("value", ["bm90IGEga2V5", "%%%not base64%%%", "", b64("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")])
def test_value_that_is_not_a_pem_public_key(tmp_path, value):
    assert refusal(tmp_path, with_key(value=value)).startswith("keychain.alex.value: ")


def test_private_key_in_the_keychain_is_refused(tmp_path):
    message = refusal(tmp_path, with_key(value=b64(private_pem(signing_key("alex", "RS256")))))
    assert message == "keychain.alex: private key given, a public key is required"


@pytest.mark.parametrize("algorithm", [None, "XY256", "none", "HS256", "HS384", "HS512", "ES256K", "EdDSA"])
def test_missing_unknown_none_or_hmac_algorithm_is_refused(tmp_path, algorithm):
    document = with_key(algorithm=algorithm)
    if algorithm is None:
        del document["keychain"]["alex"]["algorithm"]
    assert refusal(tmp_path, document).startswith("keychain.alex.algorithm: ")


@pytest.mark.parametrize(("algorithm", "key"), [
    ("ES256", lambda: signing_key("alex", "RS256")),
    ("RS256", lambda: signing_key("bo", "ES256")),
    ("PS256", lambda: signing_key("bo", "ES256")),
    ("ES256", lambda: signing_key("x", "ES384")),
    ("ES512", lambda: signing_key("bo", "ES256")),
])
def test_key_type_must_fit_the_algorithm(tmp_path, algorithm, key):
    message = refusal(tmp_path, with_key(algorithm=algorithm, value=b64(public_pem(key()))))
    assert message.startswith("keychain.alex: ") and algorithm in message


@pytest.mark.parametrize("mandatory", [None, []])
def test_scope_without_mandatory_signers_is_refused(tmp_path, mandatory):
    document = base()
    document["scopes"]["tools"]["mandatory_signers"] = mandatory
    assert refusal(tmp_path, document).startswith("scopes.tools.mandatory_signers: ")


def test_mandatory_signer_must_be_permitted(tmp_path):
    document = base()
    document["scopes"]["tools"] = {"permitted_signers": ["bo"], "mandatory_signers": ["alex"]}
    assert refusal(tmp_path, document).startswith("scopes.tools.mandatory_signers: alex")


@pytest.mark.parametrize("list_name", ["permitted_signers", "mandatory_signers"])
def test_signer_not_in_the_keychain_is_refused(tmp_path, list_name):
    document = base()
    document["scopes"]["tools"][list_name].append("carol")
    assert refusal(tmp_path, document) == f"scopes.tools.{list_name}: carol is not in the keychain"


@pytest.mark.parametrize("option", ["leeway", "exp_leeway", "nbf_leeway", "iat_leeway"])
@pytest.mark.parametrize("value", [-1, "30", 1.5, True])
def test_leeway_must_be_a_non_negative_integer(tmp_path, option, value):
    assert refusal(tmp_path, base(jwt={option: value})).startswith(f"jwt.{option}: ")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "/nonexistent/management_api.yml"])
def test_missing_configuration_refuses_every_request(http, path, caplog):
    config.reload(path)
    try:
        assert "file not found" in caplog.text
        body = sign({"data": {}}, [("alex", signing_key("alex", "RS256"), "RS256")])
        response = http.post("/api/v2/management/timestamp", json.dumps(body), content_type="application/json")
        assert (response.status_code, response.json()) == (401, {"error": "Failed to verify JWT."})
    finally:
        config.reload()


@pytest.mark.django_db
def test_empty_keychain_without_scopes_refuses_every_request(configure, send):
    configure({"keychain": {}, "scopes": {}})
    body = sign({"data": {}}, [("alex", signing_key("alex", "RS256"), "RS256")])
    assert send(body=body).status_code == 401


def run(command, config_path):
    env = {**os.environ, "MANAGEMENT_API_CONFIG": str(config_path)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_manage_check_refuses_a_bad_configuration(tmp_path):
    path = write(tmp_path, with_key(value=b64(private_pem(signing_key("alex", "RS256")))))
    result = run([sys.executable, "manage.py", "check"], path)
    assert result.returncode != 0
    assert "keychain.alex: private key given, a public key is required" in result.stderr


def test_manage_check_accepts_a_good_configuration(tmp_path):
    assert run([sys.executable, "manage.py", "check"], write(tmp_path, base())).returncode == 0


def test_wsgi_application_refuses_to_start_with_a_bad_configuration(tmp_path):
    path = write(tmp_path, base(jwt={"leeway": -5}))
    result = run([sys.executable, "-c", "import peatio_mgmt.wsgi"], path)
    assert result.returncode != 0
    assert "jwt.leeway" in result.stderr
