"""Signing requests the way jwt-multisig does: the tools (`manage.py management_api_token`), tests and benchmarks.

`sign(payload, [(kid, private_key, alg), ...])` -> the JWS General JSON Serialization body as a dict.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable
from decimal import Decimal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import get_default_algorithms

CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_private_key(key):
    """A cryptography private key from a key object, PEM text or PEM bytes."""
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        return serialization.load_pem_private_key(key, password=None)
    return key


def algorithm_for(private_key) -> str:
    """The algorithm a key signs with by default: RS256 for RSA, ES256/384/512 by the EC curve."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return CURVE_ALGORITHMS[private_key.curve.name]
    raise ValueError(f"cannot sign with a {type(private_key).__name__}")


def dumps(value) -> str:
    """Compact JSON; Decimal values are written as JSON numbers with exactly their digits."""
    decimals: list[Decimal] = []
    marker = secrets.token_hex(8)  # decimals travel as marked strings, then lose quotes and marks

    def mark(item):
        if isinstance(item, Decimal):
            decimals.append(item)
            return f"\x00{marker}{len(decimals) - 1}\x00"
        if isinstance(item, dict):
            return {k: mark(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [mark(v) for v in item]
        return item

    text = json.dumps(mark(value), separators=(",", ":"), ensure_ascii=False)
    for index, number in enumerate(decimals):
        text = text.replace(f'"\\u0000{marker}{index}\\u0000"', str(number), 1)
    return text


def sign(payload: dict, signers: Iterable[tuple[str, object, str | None]]) -> dict:
    """The request body: `payload` (the claims) signed by each (kid, private key, algorithm or None)."""
    # A lone surrogate (only possible inside a JSON string) is written as its JSON escape, as a partner would send it.
    return sign_bytes(dumps(payload).encode("utf-8", "backslashreplace"), signers)


def sign_bytes(payload: bytes, signers: Iterable[tuple[str, object, str | None]]) -> dict:
    """The request body signing exactly these bytes as the payload (tests send JSON no encoder writes)."""
    encoded_payload = b64url(payload)
    signatures = []
    for kid, key, alg in signers:
        private_key = load_private_key(key)
        alg = alg or algorithm_for(private_key)
        protected = b64url(json.dumps({"alg": alg}, separators=(",", ":")).encode())
        signature = get_default_algorithms()[alg].sign(f"{protected}.{encoded_payload}".encode(), private_key)
        signatures.append({"protected": protected, "header": {"kid": kid}, "signature": b64url(signature)})
    return {"payload": encoded_payload, "signatures": signatures}


def new_jti() -> str:
    return secrets.token_hex(16)


def generate_private_key(algorithm: str = "RS256"):
    """A fresh private key for `algorithm` (RSA 2048 for RS*/PS*, the matching curve for ES*)."""
    curves: dict[str, type[ec.EllipticCurve]] = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
    if algorithm in curves:
        return ec.generate_private_key(curves[algorithm]())
    if algorithm[:2] in ("RS", "PS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported algorithm {algorithm}")


def private_pem(private_key) -> str:
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def keychain_value(private_key) -> str:
    """The keychain `value` of the configuration: URL-safe base64 of the public PEM (as Peatio writes it)."""
    return base64.urlsafe_b64encode(public_pem(private_key).encode()).decode()
