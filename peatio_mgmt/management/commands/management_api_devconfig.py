"""Write a development MANAGEMENT_API_CONFIG: two keys of a partner backend, permitted for every route's scope.

Used by `make run` on a machine with no configuration. backend-1.dev (RS256) must sign every request;
backend-2.dev (ES256) may add a second signature. Never for production: the private keys sit next to the file.
"""

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand

from peatio_mgmt.management_api.signing import generate_private_key, keychain_value, private_pem
from peatio_mgmt.management_api.views import served_routes

SIGNERS = {"backend-1.dev": "RS256", "backend-2.dev": "ES256"}
MANDATORY = "backend-1.dev"


class Command(BaseCommand):
    requires_system_checks = []
    help = "Write DIR/config.yml and the private keys DIR/<kid>.pem (kept when config.yml exists)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", required=True)

    def handle(self, *args, dir, **options):
        directory = Path(dir)
        config = directory / "config.yml"
        if config.exists():
            self.stdout.write(str(config))
            return
        directory.mkdir(parents=True, exist_ok=True)
        keychain = {}
        for kid, algorithm in SIGNERS.items():
            private_key = generate_private_key(algorithm)
            key_file = directory / f"{kid}.pem"
            key_file.touch(mode=0o600)
            key_file.write_text(private_pem(private_key))
            keychain[kid] = {"algorithm": algorithm, "value": keychain_value(private_key)}
        scopes = {
            scope: {"permitted_signers": list(SIGNERS), "mandatory_signers": [MANDATORY]}
            for scope in sorted({scope for _, _, scope in served_routes()})
        }
        document = {"keychain": keychain, "jwt": {"verify_iat": True, "leeway": 30}, "scopes": scopes}
        config.write_text(yaml.safe_dump(document, width=10_000, sort_keys=False))
        self.stdout.write(str(config))
