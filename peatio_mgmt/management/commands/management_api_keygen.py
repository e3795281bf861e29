"""Print a new keypair for the management API: the private PEM (or write it to --out) and the keychain entry."""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from peatio_mgmt.management_api.config import ALGORITHMS
from peatio_mgmt.management_api.signing import generate_private_key, keychain_value, private_pem


class Command(BaseCommand):
    requires_system_checks = []  # usable while the configuration is being written or fixed
    help = "Generate a signing keypair: private key PEM and the YAML keychain entry of its public key."

    def add_arguments(self, parser):
        parser.add_argument("--kid", default="backend-1", help="key id of the keychain entry")
        parser.add_argument("--algorithm", default="RS256", choices=sorted(ALGORITHMS))
        parser.add_argument("--out", help="write the private key to this file (mode 600) instead of printing it")

    def handle(self, *args, kid, algorithm, out, **options):
        private_key = generate_private_key(algorithm)
        pem = private_pem(private_key)
        if out:
            path = Path(out)
            if path.exists():
                raise CommandError(f"{out} exists: not overwriting a key")
            path.touch(mode=0o600)
            path.write_text(pem)
            self.stderr.write(f"private key written to {out}")
        else:
            self.stdout.write(pem)
        entry = {"keychain": {kid: {"algorithm": algorithm, "value": keychain_value(private_key)}}}
        self.stdout.write(yaml.safe_dump(entry, width=10_000, sort_keys=False))
