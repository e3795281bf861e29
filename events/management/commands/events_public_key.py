"""Print the keychain entry partners paste into their configuration to verify pushed events (§16.5)."""

import yaml
from django.core.management.base import BaseCommand, CommandError

from events import config
from peatio_mgmt.management_api.signing import keychain_value


class Command(BaseCommand):
    help = "Print the kid, algorithm and URL-safe base64 PEM public key of PARTNER_EVENTS_CONFIG's signing key."

    def handle(self, *args, **options):
        signing = config.current().signing
        if signing is None:
            raise CommandError("PARTNER_EVENTS_CONFIG is unset: there is no signing key")
        entry = {signing.kid: {"algorithm": signing.algorithm, "value": keychain_value(signing.private_key)}}
        self.stdout.write(yaml.safe_dump({"keychain": entry}, width=10_000, sort_keys=False), ending="")
