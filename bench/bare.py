"""The comparison point of bench/gate.py: a bare Django view that only parses the body and verifies its
signatures with PyJWT, behind the same middleware and gunicorn settings as the gate.

Keys come from the same YAML file (MANAGEMENT_API_CONFIG), loaded once at import. `verified_payload` is also
the verification of the plain Django + PyJWT transfer peer (bench/peers/plain_http).
"""

import base64
import json
import os
import time
from decimal import Decimal

import yaml
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from jwt.algorithms import get_default_algorithms


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _keys() -> dict:
    with open(os.environ["MANAGEMENT_API_CONFIG"]) as file:
        keychain = yaml.safe_load(file)["keychain"]
    algorithms = get_default_algorithms()
    return {kid: (entry["algorithm"], algorithms[entry["algorithm"]].prepare_key(_b64(entry["value"])))
            for kid, entry in keychain.items()}


KEYS = _keys()
ALGORITHMS = get_default_algorithms()


def verified_payload(body: bytes) -> dict | None:
    """The decoded claims of a two-signature JWS body, or None when a signature does not verify."""
    token = json.loads(body, parse_float=Decimal)
    payload = token["payload"]
    for signature in token["signatures"]:
        alg, key = KEYS[signature["header"]["kid"]]
        if json.loads(_b64(signature["protected"]))["alg"] != alg:
            return None
        if not ALGORITHMS[alg].verify(f"{signature['protected']}.{payload}".encode(), key, _b64(signature["signature"])):
            return None
    return json.loads(_b64(payload), parse_float=Decimal)


@csrf_exempt
def bare(request):
    if verified_payload(request.body) is None:
        return HttpResponse(status=401)
    return HttpResponse(json.dumps({"timestamp": int(time.time())}), status=201, content_type="application/json")


urlpatterns = [path("bare", bare)]
