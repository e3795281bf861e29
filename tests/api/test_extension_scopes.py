"""The six scopes of the extensions (management-api-extensions.md §5.2) are known names of the configuration."""

import logging

import yaml
from django.core.management import call_command

from peatio_mgmt.management_api import config

NEW_SCOPES = {"read_members", "write_members", "read_currencies", "read_markets", "read_beneficiaries",
              "write_beneficiaries"}


def test_the_six_new_scopes_are_configured_not_ignored(tmp_path, caplog):
    call_command("management_api_devconfig", dir=str(tmp_path))
    document = yaml.safe_load((tmp_path / "config.yml").read_text())
    assert NEW_SCOPES <= set(document["scopes"])
    with caplog.at_level(logging.WARNING, logger="peatio_mgmt.management_api"):
        loaded = config.parse(document)
    assert NEW_SCOPES <= set(loaded.scopes)
    assert "unknown scope" not in caplog.text


def test_a_configuration_without_the_new_scopes_opens_none_of_them(tmp_path):
    call_command("management_api_devconfig", dir=str(tmp_path))
    document = yaml.safe_load((tmp_path / "config.yml").read_text())
    for name in NEW_SCOPES:
        del document["scopes"][name]
    assert not NEW_SCOPES & set(config.parse(document).scopes)
