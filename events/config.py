"""The partner events configuration (coin-deposits-ethereum-events.md §16.5): its own YAML file,
PARTNER_EVENTS_CONFIG, separate from the management API's keychain of public keys.

`load` refuses (ConfigError, the entry named) every mistake §16.5 lists; an unset variable is no configuration:
events are still written, sequenced and readable through /events, nothing is pushed.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from peatio_mgmt.management_api.config import ALGORITHMS, key_fits

RECORD_TYPES = ("deposit", "withdraw")
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


class ConfigError(ImproperlyConfigured):
    pass


@dataclass(frozen=True)
class Signing:
    kid: str
    algorithm: str
    private_key: object = field(repr=False)
    iss: str
    lifetime: int


@dataclass(frozen=True)
class Partner:
    name: str
    url: str
    records: frozenset[str]
    start_at: int | None  # None: latest
    enabled: bool
    headers: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class Config:
    signing: Signing | None = None
    partners: dict[str, Partner] = field(default_factory=dict)
    source: str = ""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader refusing a key given twice in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(path: str | Path | None) -> Config:
    if not path:
        return Config()
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    partners = document.get("partners") or {}
    if not isinstance(partners, dict):
        raise ConfigError("partners: must be a mapping of partner names")
    signing = _signing(document.get("signing"))
    return Config(signing=signing, partners={str(name): _partner(str(name), entry) for name, entry in partners.items()},
                  source=str(path))


def _signing(entry) -> Signing:
    if not isinstance(entry, dict):
        raise ConfigError("signing: must be a mapping with kid, algorithm, private_key_file, iss, lifetime")
    kid, iss = entry.get("kid"), entry.get("iss", "peatio")
    if not isinstance(kid, str) or not kid:
        raise ConfigError("signing.kid: missing, the kid partners keep the exchange's public key under")
    if not isinstance(iss, str) or not iss:
        raise ConfigError("signing.iss: must be a string")
    algorithm = entry.get("algorithm")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        if isinstance(algorithm, str) and (algorithm.lower() == "none" or algorithm.upper().startswith("HS")):
            raise ConfigError(f"signing.algorithm: {algorithm} is refused, an RS*, PS* or ES* algorithm is required")
        raise ConfigError(f"signing.algorithm: missing or unknown algorithm {algorithm!r}, one of "
                          f"{' '.join(sorted(ALGORITHMS))} is required")
    lifetime = entry.get("lifetime", 60)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not 1 <= lifetime <= 3600:
        raise ConfigError("signing.lifetime: must be an integer number of seconds in 1..3600")
    return Signing(kid=kid, algorithm=algorithm, private_key=_private_key(entry.get("private_key_file"), algorithm),
                   iss=iss, lifetime=lifetime)


def _private_key(path, algorithm: str):
    entry = "signing.private_key_file"
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{entry}: missing, the path of a PEM private key is required")
    try:
        mode = os.stat(path).st_mode
        pem = Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"{entry}: {path} cannot be read ({error.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{entry}: {path} is readable by group or others (mode {stat.S_IMODE(mode):04o}), "
                          "0600 is required")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{entry}: {path} is not a PEM private key") from None
    if not key_fits(key.public_key(), algorithm):
        raise ConfigError(f"{entry}: {path} is a key of the wrong type for {algorithm}")
    return key


def _partner(name: str, entry) -> Partner:
    where = f"partners.{name}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping with url")
    url = entry.get("url")
    if not isinstance(url, str) or not (parts := urlsplit(url)).hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    ):
        raise ConfigError(f"{where}.url: {url!r} is not https:// (http:// only to 127.0.0.1, ::1 or localhost)")
    records = entry.get("records", list(RECORD_TYPES))
    if not isinstance(records, list) or not records or any(r not in RECORD_TYPES for r in records):
        raise ConfigError(f"{where}.records: {records!r}, a list of deposit and/or withdraw is required")
    start_at = entry.get("start_at", "latest")
    if start_at != "latest" and (isinstance(start_at, bool) or not isinstance(start_at, int) or start_at < 0):
        raise ConfigError(f"{where}.start_at: {start_at!r}, latest or an event id >= 0 is required")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled: must be true or false")
    headers = entry.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ConfigError(f"{where}.headers: must be a mapping of header names to strings")
    return Partner(name=name, url=url, records=frozenset(records), start_at=None if start_at == "latest" else start_at,
                   enabled=enabled, headers=headers)


_current: Config | None = None


def current() -> Config:
    return _current if _current is not None else reload()


def reload(path: str | Path | None = None) -> Config:
    """Load and put in force the file at `path`, by default settings.PARTNER_EVENTS_CONFIG."""
    global _current
    _current = load(settings.PARTNER_EVENTS_CONFIG if path is None else path)
    return _current
