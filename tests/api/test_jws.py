"""Multi-signature verification, algorithm pinning and claims (§2.4, §2.5, §2.8)."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from peatio_mgmt.management_api import jws, replay
from peatio_mgmt.management_api.signing import b64url, public_pem, sign
from tests.api_client import keychain_entry, signing_key

pytestmark = pytest.mark.django_db

KEYCHAIN = {"alpha": "RS256", "beta": "ES256", "gamma": "PS256", "outsider": "RS256"}


def document(**jwt):
    return {
        "keychain": {kid: keychain_entry(kid, alg) for kid, alg in KEYCHAIN.items()},
        "jwt": jwt,
        "scopes": {"tools": {"permitted_signers": ["alpha", "beta", "gamma"], "mandatory_signers": ["alpha", "beta"]}},
    }


@pytest.fixture
def setup(configure):
    """setup(**jwt_options): the multi-signature configuration with those claim options."""
    return lambda **jwt: configure(document(**jwt))


def signer(kid, alg=None):
    alg = alg or KEYCHAIN[kid]
    return (kid, signing_key(kid, alg), alg)


def token(*signers, **claims):
    return sign({"data": {}, **claims}, [signer(s) if isinstance(s, str) else s for s in signers])


def status(send, body):
    response = send(body=body)
    return response.status_code, response.json()


OK = 201
FAILED = (401, {"error": "Failed to verify JWT."})
NOT_ENOUGH = (401, {"error": "Not enough signatures for the action."})


def test_all_mandatory_signers_verified_passes(setup, send):
    setup()
    assert status(send, token("alpha", "beta"))[0] == OK
    assert status(send, token("beta", "alpha", "gamma"))[0] == OK


def test_mandatory_signer_missing_is_not_enough(setup, send):
    setup()
    assert status(send, token("alpha")) == NOT_ENOUGH
    assert status(send, token("alpha", "gamma")) == NOT_ENOUGH


def test_signature_of_a_kid_outside_the_scope_is_ignored(setup, send):
    setup()
    assert status(send, token("alpha", "beta", "outsider"))[0] == OK
    body = token("alpha", "beta")
    body["signatures"].append({"protected": "garbage", "header": {"kid": "unknown.kid"}, "signature": "!!"})
    body["signatures"].append({"protected": "garbage", "header": {"kid": "outsider"}, "signature": "!!"})
    assert status(send, body)[0] == OK


def test_an_outsider_cannot_stand_in_for_a_mandatory_signer(setup, send):
    setup()
    assert status(send, token("alpha", "outsider")) == NOT_ENOUGH


def test_one_bad_signature_among_good_ones_fails_the_token(setup, send):
    setup()
    body = token("alpha", "beta", "gamma")
    body["signatures"][2]["signature"] = token("gamma", iat=1)["signatures"][0]["signature"]
    assert status(send, body) == FAILED


def test_a_kid_signing_twice_must_verify_both_times(setup, send):
    setup()
    body = token("alpha", "beta", "alpha")
    assert status(send, body)[0] == OK
    body["signatures"][2]["signature"] = body["signatures"][2]["signature"][:-4] + "AAAA"
    assert status(send, body) == FAILED


def test_signature_by_the_wrong_key_fails(setup, send):
    setup()
    body = token("alpha", "beta")
    body["signatures"][0] = {**token(("alpha", signing_key("outsider", "RS256"), "RS256"))["signatures"][0]}
    assert status(send, body) == FAILED


def test_hs256_signed_with_the_public_key_as_secret_is_refused(setup, send):
    setup()
    body = token("beta")
    protected = b64url(b'{"alg":"HS256"}')
    secret = public_pem(signing_key("alpha", "RS256")).encode()
    mac = hmac.new(secret, f"{protected}.{body['payload']}".encode(), hashlib.sha256).digest()
    body["signatures"].append({"protected": protected, "header": {"kid": "alpha"}, "signature": b64url(mac)})
    assert status(send, body) == FAILED


def test_alg_none_is_refused(setup, send):
    setup()
    body = token("beta")
    body["signatures"].append({"protected": b64url(b'{"alg":"none"}'), "header": {"kid": "alpha"}, "signature": ""})
    assert status(send, body) == FAILED


def test_header_alg_must_equal_the_keys_algorithm(setup, send):
    setup()
    # A valid RS512 signature by alpha's key: the key is pinned to RS256.
    assert status(send, token(("alpha", signing_key("alpha", "RS256"), "RS512"), "beta")) == FAILED
    assert status(send, token(("gamma", signing_key("gamma", "PS256"), "RS256"), "alpha", "beta")) == FAILED


def test_crit_in_the_protected_header_is_refused(setup, send):
    setup()
    body = token("beta")
    protected = b64url(b'{"alg":"RS256","crit":["exp"]}')
    from jwt.algorithms import get_default_algorithms

    raw = get_default_algorithms()["RS256"].sign(f"{protected}.{body['payload']}".encode(), signing_key("alpha", "RS256"))
    body["signatures"].insert(0, {"protected": protected, "header": {"kid": "alpha"}, "signature": b64url(raw)})
    assert status(send, body) == FAILED


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"])
def test_every_public_key_algorithm_is_accepted_when_configured(configure, send, algorithm):
    configure({
        "keychain": {"k": keychain_entry("k", algorithm)},
        "scopes": {"tools": {"permitted_signers": ["k"], "mandatory_signers": ["k"]}},
    })
    assert status(send, sign({"data": {}}, [("k", signing_key("k", algorithm), algorithm)]))[0] == OK


def test_scope_missing_from_configuration_fails_every_request(configure, send):
    configure({"keychain": {"alpha": keychain_entry("alpha", "RS256")},
               "scopes": {"read_accounts": {"permitted_signers": ["alpha"], "mandatory_signers": ["alpha"]}}})
    assert status(send, token("alpha")) == FAILED


def test_payload_decoding_tolerates_padding_only_in_base64url():
    assert jws.b64url_decode("e30") == b"{}"
    assert jws.b64url_decode("e30=") == b"{}"
    for bad in ("e3+", "e3/", "e 30", "%%"):
        with pytest.raises(ValueError):
            jws.b64url_decode(bad)


# Claims

def now():
    return int(time.time())


@pytest.mark.parametrize(("claims", "options", "expected"), [
    ({"exp": -60}, {}, FAILED),
    ({"exp": 0}, {}, FAILED),
    ({"exp": 5}, {}, OK),
    ({"exp": -20}, {"leeway": 30}, OK),
    ({"exp": -20}, {"leeway": 30, "exp_leeway": 10}, FAILED),
    ({"exp": -60}, {"verify_expiration": False}, FAILED),  # exp always enforced
    ({"exp": "soon"}, {}, FAILED),
    ({"nbf": 60}, {}, FAILED),
    ({"nbf": 20}, {"leeway": 30}, OK),
    ({"nbf": 20}, {"leeway": 30, "nbf_leeway": 5}, FAILED),
    ({"nbf": 60}, {"verify_not_before": False}, OK),
    ({"iat": 60}, {}, OK),  # iat not checked by default
    ({"iat": 60}, {"verify_iat": True}, FAILED),
    ({"iat": 20}, {"verify_iat": True, "iat_leeway": 30}, OK),
    ({"iat": "x"}, {"verify_iat": True}, FAILED),
    ({"iat": -600}, {"verify_iat": True}, OK),
])
def test_time_claims_with_leeways(setup, send, claims, options, expected):
    setup(**options)
    claims = {k: (now() + v if isinstance(v, int) else v) for k, v in claims.items()}
    result = status(send, token("alpha", "beta", **claims))
    assert (result[0] if expected == OK else result) == expected


@pytest.mark.parametrize(("claims", "options", "expected"), [
    ({"iss": "barong"}, {"verify_iss": True, "iss": "barong"}, OK),
    ({"iss": "other"}, {"verify_iss": True, "iss": "barong"}, FAILED),
    ({}, {"verify_iss": True, "iss": "barong"}, FAILED),
    ({"iss": ["barong"]}, {"verify_iss": True, "iss": "barong"}, FAILED),
    ({"iss": "b2"}, {"verify_iss": True, "iss": ["barong", "b2"]}, OK),
    ({"iss": "other"}, {"verify_iss": False, "iss": "barong"}, OK),
    ({"iss": "other"}, {"verify_iss": True}, OK),  # nothing configured: nothing checked
    ({"aud": "peatio"}, {"verify_aud": True, "aud": "peatio"}, OK),
    ({"aud": ["x", "peatio"]}, {"verify_aud": True, "aud": "peatio"}, OK),
    ({"aud": ["x", "y"]}, {"verify_aud": True, "aud": ["peatio", "z"]}, FAILED),
    ({}, {"verify_aud": True, "aud": "peatio"}, FAILED),
    ({"sub": "api"}, {"verify_sub": True, "sub": "api"}, OK),
    ({"sub": "other"}, {"verify_sub": True, "sub": "api"}, FAILED),
    ({}, {"verify_sub": True, "sub": "api"}, FAILED),
    ({}, {"verify_jti": True}, FAILED),
    ({"jti": "  "}, {"verify_jti": True}, FAILED),
    ({"jti": ["a"]}, {"verify_jti": True}, FAILED),
    ({}, {}, OK),
])
def test_identity_claims(setup, send, claims, options, expected):
    setup(**options)
    if "jti" not in claims and options.get("verify_jti") and expected == OK:
        claims["jti"] = os.urandom(8).hex()
    result = status(send, token("alpha", "beta", **claims))
    assert (result[0] if expected == OK else result) == expected


def test_claims_are_not_checked_when_no_signature_verified(setup, send):
    setup()
    assert status(send, token("outsider", exp=now() - 100)) == NOT_ENOUGH


def unique_jti():
    return "jti-" + os.urandom(12).hex()


def test_jti_is_accepted_once(setup, send):
    setup(verify_jti=True)
    body = token("alpha", "beta", jti=unique_jti(), exp=now() + 60)
    assert status(send, body)[0] == OK
    assert status(send, body) == FAILED
    # The same jti in a differently signed token is a replay too.
    assert status(send, token("alpha", "beta", "gamma", jti=json.loads(base64.urlsafe_b64decode(
        body["payload"] + "=="))["jti"])) == FAILED


def test_numeric_jti_is_read_as_text(setup, send):
    setup(verify_jti=True)
    jti = int.from_bytes(os.urandom(6), "big")
    assert status(send, token("alpha", "beta", jti=jti))[0] == OK
    assert status(send, token("alpha", "beta", jti=str(jti))) == FAILED


def test_a_token_failing_earlier_checks_does_not_consume_its_jti(setup, send):
    setup(verify_jti=True)
    jti = unique_jti()
    assert status(send, token("alpha", jti=jti)) == NOT_ENOUGH
    assert status(send, token("alpha", "beta", jti=jti, exp=now() - 100)) == FAILED
    assert status(send, token("alpha", "beta", jti=jti))[0] == OK


def test_jti_record_lives_until_the_token_expires(setup, send):
    setup(verify_jti=True, leeway=30)
    jti = unique_jti()
    assert status(send, token("alpha", "beta", jti=jti, exp=now() + 100))[0] == OK
    key = replay.KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()
    assert 120 <= replay.client().ttl(key) <= 130
    jti = unique_jti()
    assert status(send, token("alpha", "beta", jti=jti))[0] == OK
    assert replay.client().ttl(replay.KEY_PREFIX + hashlib.sha256(jti.encode()).hexdigest()) > 86000


def test_unreachable_replay_store_refuses_with_503(setup, send, monkeypatch):
    setup(verify_jti=True)
    monkeypatch.setattr(replay, "_client", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    assert status(send, token("alpha", "beta", jti=unique_jti())) == (503, {"error": "Service unavailable."})


def test_unreachable_replay_store_does_not_matter_without_verify_jti(setup, send, monkeypatch):
    setup()
    monkeypatch.setattr(replay, "_client", redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    assert status(send, token("alpha", "beta"))[0] == OK


REPLAY_SCRIPT = """
import json, sys, django
django.setup()
from django.test import Client
body = open(sys.argv[1], "rb").read()
client = Client(HTTP_HOST="localhost")
sys.stdin.readline()  # both processes are ready: go
response = client.post("/api/v2/management/timestamp", body, content_type="application/json")
print("accepted" if response.status_code == 201 else f"{response.status_code} {json.loads(response.content)['error']}")
"""


def test_jti_replay_is_refused_across_processes(setup, tmp_path):
    config_path = setup(verify_jti=True)
    body_path = tmp_path / "body.json"
    body_path.write_text(json.dumps(token("alpha", "beta", jti=unique_jti(), exp=now() + 60)))
    env = {**os.environ, "MANAGEMENT_API_CONFIG": str(config_path), "DJANGO_SETTINGS_MODULE": "peatio_mgmt.settings.base"}
    root = Path(__file__).resolve().parents[2]
    processes = [subprocess.Popen([sys.executable, "-c", REPLAY_SCRIPT, str(body_path)], cwd=root, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    time.sleep(1.5)
    outputs = []
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    assert sorted(outputs) == ["401 Failed to verify JWT.", "accepted"]
