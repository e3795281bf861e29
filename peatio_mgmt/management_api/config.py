"""The management API configuration (management-api.md §2.6, §2.7): keychain, claim options, scopes.

Read once from the YAML file named by settings.MANAGEMENT_API_CONFIG (Peatio's `management_api_v1.yml` format)
into immutable objects: public keys are loaded into cryptography key objects paired with their PyJWT algorithm,
so a request only looks them up. Every mistake of §2.7 raises ConfigError naming the entry; a missing file gives
an empty configuration (no scope, so every request is refused) and an error in the log.

`current()` is the configuration the gate uses; `reload(path)` replaces it (startup, tests).
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import Algorithm, get_default_algorithms

logger = logging.getLogger("peatio_mgmt.management_api")

RSA_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
ALGORITHMS = RSA_ALGORITHMS | set(EC_CURVES)

# The six scopes of the extensions (management-api-extensions.md §5.2).
EXTENSION_SCOPES = {"read_members", "write_members", "read_currencies", "read_markets", "read_beneficiaries",
                    "write_beneficiaries"}
SCOPES = {
    "read_accounts", "read_deposits", "write_deposits", "read_withdraws", "write_withdraws", "read_operations",
    "write_operations", "write_transfers", "read_trades", "tools",
    "write_payment_addresses",  # route 32, POST /deposit_address/new (coin-deposits-ethereum-events.md 4.22)
    "read_events",  # route 33, POST /events (coin-deposits-ethereum-events.md 4.23)
    "read_transfers",  # listed by Peatio's files, used by no route
} | EXTENSION_SCOPES
JWT_FLAGS = {"verify_expiration", "verify_not_before", "verify_iat", "verify_iss", "verify_aud", "verify_sub",
             "verify_jti"}
JWT_LEEWAYS = {"leeway", "exp_leeway", "nbf_leeway", "iat_leeway"}
JWT_VALUES = {"iss", "aud", "sub"}


class ConfigError(ImproperlyConfigured):
    """The configuration file is refused; the message starts with the offending entry."""


@dataclass(frozen=True)
class Key:
    kid: str
    algorithm: str
    verifier: Algorithm  # PyJWT's algorithm object: .verify(signing_input, public_key, signature)
    public_key: object


@dataclass(frozen=True)
class JwtOptions:
    verify_not_before: bool = True
    verify_iat: bool = False
    iss: frozenset[str] | None = None  # None: not checked
    aud: frozenset[str] | None = None
    sub: str | None = None
    verify_jti: bool = False
    exp_leeway: int = 0
    nbf_leeway: int = 0
    iat_leeway: int = 0


@dataclass(frozen=True)
class Scope:
    permitted: frozenset[str]
    mandatory: frozenset[str]


@dataclass(frozen=True)
class Config:
    keychain: dict[str, Key] = field(default_factory=dict)
    jwt: JwtOptions = field(default_factory=JwtOptions)
    scopes: dict[str, Scope] = field(default_factory=dict)
    source: str = ""


def load(path: str | Path | None) -> Config:
    """The configuration of the file at `path`; an empty one (everything refused) when unset or missing."""
    if not path or not Path(path).is_file():
        logger.error("management API configuration %s: file not found, every API request will be refused",
                     path or "(MANAGEMENT_API_CONFIG unset)")
        return Config(source=str(path or ""))
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return parse(document, source=str(path))


def parse(document: dict, *, source: str = "") -> Config:
    keychain = {str(kid): _key(str(kid), entry) for kid, entry in _mapping(document, "keychain", "keychain").items()}
    options = _jwt_options(_mapping(document, "jwt", "jwt"))
    scopes = {}
    for name, entry in _mapping(document, "scopes", "scopes").items():
        name = str(name)
        if name not in SCOPES:
            logger.warning("management API configuration: unknown scope scopes.%s ignored", name)
            continue
        scopes[name] = _scope(name, entry, keychain)
    return Config(keychain=keychain, jwt=options, scopes=scopes, source=source)


def _mapping(document: dict, key: str, entry: str) -> dict:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{entry}: must be a mapping")
    return value


def _key(kid: str, entry) -> Key:
    if not isinstance(entry, dict):
        raise ConfigError(f"keychain.{kid}: must be a mapping with algorithm and value")
    algorithm = entry.get("algorithm")
    pem = _pem(kid, entry.get("value"))
    if b"PRIVATE KEY-----" in pem:
        raise ConfigError(f"keychain.{kid}: private key given, a public key is required")
    try:
        public_key = load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ConfigError(f"keychain.{kid}.value: does not decode to a PEM public key") from None
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        if isinstance(algorithm, str) and (algorithm.lower() == "none" or algorithm.upper().startswith("HS")):
            problem = f"{algorithm} is refused, an RS*, PS* or ES* algorithm is required"
        else:
            problem = f"missing or unknown algorithm {algorithm!r}, one of {' '.join(sorted(ALGORITHMS))} is required"
        raise ConfigError(f"keychain.{kid}.algorithm: {problem}")
    if not key_fits(public_key, algorithm):
        raise ConfigError(f"keychain.{kid}: a {_describe(public_key)} key does not fit algorithm {algorithm}")
    return Key(kid=kid, algorithm=algorithm, verifier=get_default_algorithms()[algorithm], public_key=public_key)


def key_fits(public_key, algorithm: str) -> bool:
    """An RSA key for RS*/PS*, an EC key on the algorithm's curve for ES*."""
    if algorithm in RSA_ALGORITHMS:
        return isinstance(public_key, rsa.RSAPublicKey)
    return isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, EC_CURVES[algorithm])


def _pem(kid: str, value) -> bytes:
    """The PEM text of a keychain value: URL-safe base64 (padding optional), standard base64 or raw PEM."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"keychain.{kid}.value: missing, a base64-encoded PEM public key is required")
    if "-----BEGIN" in value:
        return value.encode()
    text = "".join(value.split()).rstrip("=").translate(str.maketrans("-_", "+/"))
    try:
        pem = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"keychain.{kid}.value: not base64 of a PEM key") from None
    if b"-----BEGIN" not in pem:
        raise ConfigError(f"keychain.{kid}.value: does not decode to a PEM key")
    return pem


def _describe(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {public_key.curve.name}"
    return type(public_key).__name__


def _jwt_options(entry: dict) -> JwtOptions:
    for option in entry:
        if option not in JWT_FLAGS | JWT_LEEWAYS | JWT_VALUES:
            logger.warning("management API configuration: unknown option jwt.%s ignored", option)
    flags = {}
    for option in JWT_FLAGS:
        value = entry.get(option)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"jwt.{option}: must be true or false")
        flags[option] = value
    if flags["verify_expiration"] is False:
        logger.warning("management API configuration: jwt.verify_expiration false ignored, exp is always checked")
    leeways = {}
    for option in JWT_LEEWAYS:
        value = entry.get(option)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ConfigError(f"jwt.{option}: must be a non-negative integer number of seconds")
        leeways[option] = value
    leeway = leeways["leeway"] or 0

    def claim_values(name: str, many: bool):
        value = entry.get(name)
        if not flags[f"verify_{name}"]:
            return None
        if value is None or value == "" or value == []:
            logger.warning("management API configuration: jwt.verify_%s without jwt.%s checks nothing", name, name)
            return None
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values) or (not many and len(values) > 1):
            raise ConfigError(f"jwt.{name}: must be a string" + (" or a list of strings" if many else ""))
        return frozenset(values) if many else values[0]

    return JwtOptions(
        verify_not_before=flags["verify_not_before"] is not False,
        verify_iat=flags["verify_iat"] is True,
        iss=claim_values("iss", many=True),
        aud=claim_values("aud", many=True),
        sub=claim_values("sub", many=False),
        verify_jti=flags["verify_jti"] is True,
        exp_leeway=leeway if leeways["exp_leeway"] is None else leeways["exp_leeway"],
        nbf_leeway=leeway if leeways["nbf_leeway"] is None else leeways["nbf_leeway"],
        iat_leeway=leeway if leeways["iat_leeway"] is None else leeways["iat_leeway"],
    )


def _scope(name: str, entry, keychain: dict[str, Key]) -> Scope:
    if not isinstance(entry, dict):
        raise ConfigError(f"scopes.{name}: must be a mapping with permitted_signers and mandatory_signers")
    lists = {}
    for list_name in ("permitted_signers", "mandatory_signers"):
        kids = entry.get(list_name) or []
        if not isinstance(kids, list):
            raise ConfigError(f"scopes.{name}.{list_name}: must be a list of key ids")
        kids = [str(kid) for kid in kids]
        for kid in kids:
            if kid not in keychain:
                raise ConfigError(f"scopes.{name}.{list_name}: {kid} is not in the keychain")
        lists[list_name] = frozenset(kids)
    permitted, mandatory = lists["permitted_signers"], lists["mandatory_signers"]
    if not mandatory:
        raise ConfigError(f"scopes.{name}.mandatory_signers: must name at least one signer")
    if not mandatory <= permitted:
        outsiders = ", ".join(sorted(mandatory - permitted))
        raise ConfigError(f"scopes.{name}.mandatory_signers: {outsiders} not among the permitted signers")
    return Scope(permitted=permitted, mandatory=mandatory)


_current: Config | None = None


def current() -> Config:
    """The configuration in force, loaded from settings on first use."""
    return _current if _current is not None else reload()


def reload(path: str | Path | None = None) -> Config:
    """Load (and put in force) the file at `path`, by default settings.MANAGEMENT_API_CONFIG.

    On a ConfigError the configuration in force is unchanged.
    """
    global _current
    config = load(settings.MANAGEMENT_API_CONFIG if path is None else path)
    _current = config
    return config
