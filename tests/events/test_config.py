"""PARTNER_EVENTS_CONFIG (coin-deposits-ethereum-events.md §16.5, Part D §V 14): every refusal names the entry;
a process refuses to start on it; unset, the outbox still fills and /events still answers."""

import subprocess
import sys
from pathlib import Path

import pytest

from events import config
from tests.events.conftest import config_document, write_config, write_key

ROOT = Path(__file__).resolve().parents[2]
GOOD_PARTNER = {"url": "https://hooks.partner.example/events"}


@pytest.fixture
def key_file(tmp_path):
    return write_key(tmp_path)[1]


def refusal(tmp_path, document) -> str:
    with pytest.raises(config.ConfigError) as refused:
        config.load(write_config(tmp_path, document))
    return str(refused.value)


def test_a_good_file_loads_with_defaults(tmp_path, key_file):
    loaded = config.load(write_config(tmp_path, config_document(key_file, {"p1": GOOD_PARTNER})))
    partner = loaded.partners["p1"]
    assert (partner.records, partner.start_at, partner.enabled, partner.headers) == (
        frozenset({"deposit", "withdraw"}), None, True, {})
    assert (loaded.signing.kid, loaded.signing.algorithm, loaded.signing.lifetime) == ("peatio", "RS256", 60)


def test_loopback_http_is_allowed(tmp_path, key_file):
    for url in ("http://127.0.0.1:8900/x", "http://localhost/x", "http://[::1]:80/x"):
        config.load(write_config(tmp_path, config_document(key_file, {"p": {"url": url}})))


@pytest.mark.parametrize(("change", "named"), [
    ({"algorithm": "HS256"}, "signing.algorithm: HS256 is refused"),
    ({"algorithm": "none"}, "signing.algorithm: none is refused"),
    ({"algorithm": "XY1"}, "signing.algorithm: missing or unknown"),
    ({"algorithm": "ES256"}, "signing.private_key_file: "),  # an RSA key for an EC algorithm
    ({"private_key_file": "/nonexistent/key.pem"}, "signing.private_key_file: /nonexistent/key.pem cannot be read"),
    ({"lifetime": 0}, "signing.lifetime: "),
    ({"lifetime": 3601}, "signing.lifetime: "),
])
def test_signing_refusals_name_the_entry(tmp_path, key_file, change, named):
    document = config_document(key_file, {"p1": GOOD_PARTNER})
    document["signing"].update(change)
    assert named in refusal(tmp_path, document)


@pytest.mark.parametrize(("entry", "named"), [
    ({"url": "http://hooks.partner.example/e"}, "partners.p1.url: "),
    ({"url": "ftp://127.0.0.1/e"}, "partners.p1.url: "),
    ({"url": "https://x.example", "records": ["trade"]}, "partners.p1.records: "),
    ({"url": "https://x.example", "start_at": -1}, "partners.p1.start_at: "),
    ({"url": "https://x.example", "start_at": "earliest"}, "partners.p1.start_at: "),
    ({"url": "https://x.example", "enabled": "yes please"}, "partners.p1.enabled: "),
])
def test_partner_refusals_name_the_entry(tmp_path, key_file, entry, named):
    assert named in refusal(tmp_path, config_document(key_file, {"p1": entry}))


def test_key_file_readable_by_others_is_refused(tmp_path):
    _, loose = write_key(tmp_path, mode=0o644)
    assert "readable by group or others" in refusal(tmp_path, config_document(loose, {}))


def test_a_file_that_is_not_a_private_key_is_refused(tmp_path):
    path = tmp_path / "not-a-key.pem"
    path.write_text("hello")
    path.chmod(0o600)
    assert "is not a PEM private key" in refusal(tmp_path, config_document(path, {}))


def test_invalid_yaml_a_list_and_a_duplicate_key_are_refused(tmp_path, key_file):
    path = tmp_path / "events.yml"
    path.write_text("signing: [\n")
    with pytest.raises(config.ConfigError, match="not valid YAML"):
        config.load(path)
    path.write_text("- a\n- b\n")
    with pytest.raises(config.ConfigError, match="top level must be a mapping"):
        config.load(path)
    path.write_text(f"signing: {{kid: peatio, algorithm: RS256, private_key_file: {key_file}}}\n"
                    "partners:\n  p1: {url: 'https://a.example'}\n  p1: {url: 'https://b.example'}\n")
    with pytest.raises(config.ConfigError, match="duplicate key 'p1'"):
        config.load(path)


def test_unset_means_no_push(settings):
    assert config.load("") == config.Config()


def test_a_process_refuses_to_start_and_names_the_entry(tmp_path, key_file):
    path = write_config(tmp_path, config_document(key_file, {"p1": {"url": "http://partner.example/e"}}))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            env={**__import__("os").environ, "PARTNER_EVENTS_CONFIG": str(path),
                                 "PEATIO_DEV_DEFAULTS": "1", "DJANGO_SETTINGS_MODULE": "peatio_mgmt.settings.base"},
                            timeout=120)
    assert result.returncode != 0
    assert "partners.p1.url" in result.stderr


def test_events_public_key_prints_the_keychain_entry_partners_paste(configure_partners, signing_key):
    import io

    import yaml
    from django.core.management import call_command

    from peatio_mgmt.management_api import config as api_config

    configure_partners({})
    out = io.StringIO()
    call_command("events_public_key", stdout=out)
    document = yaml.safe_load(out.getvalue())
    # The printed entry is a valid keychain of the management API's format, with the signing key's public half.
    key = api_config.parse(document).keychain["peatio"]
    assert key.algorithm == "RS256"
    assert key.public_key.public_numbers() == signing_key[0].public_key().public_numbers()
