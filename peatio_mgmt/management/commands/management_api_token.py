"""Print a signed request body for the management API (JWS General JSON Serialization, one signature per key)."""

import json
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from peatio_mgmt.management_api.config import ALGORITHMS
from peatio_mgmt.management_api.signing import algorithm_for, load_private_key, new_jti, sign


class Command(BaseCommand):
    requires_system_checks = []  # usable while the configuration is being written or fixed
    help = "Sign `data` with one or more private keys; prints the request body to POST/PUT to the route."

    def add_arguments(self, parser):
        parser.add_argument("--kid", action="append", required=True, help="key id, once per key (in --key order)")
        parser.add_argument("--key", action="append", required=True, help="private key PEM file, once per kid")
        parser.add_argument("--alg", action="append", choices=sorted(ALGORITHMS),
                            help="algorithm per key (default: inferred from the key type)")
        parser.add_argument("--data", default="{}", help="the route's parameters as a JSON object")
        parser.add_argument("--exp", type=int, help="seconds until the token expires")
        parser.add_argument("--jti", action="store_true", help="add a random jti (needed with verify_jti)")

    def handle(self, *args, kid, key, alg, data, exp, jti, **options):
        if len(kid) != len(key) or (alg and len(alg) != len(key)):
            raise CommandError("give one --kid (and, if any, one --alg) per --key")
        try:
            data = json.loads(data, parse_float=Decimal)
        except ValueError as error:
            raise CommandError(f"--data is not JSON: {error}") from None
        signers = []
        for index, (kid_, path) in enumerate(zip(kid, key, strict=True)):
            try:
                with open(path, "rb") as file:
                    private_key = load_private_key(file.read())
            except (OSError, ValueError, TypeError) as error:
                raise CommandError(f"{path}: not a readable unencrypted private key PEM ({error})") from None
            signers.append((kid_, private_key, alg[index] if alg else algorithm_for(private_key)))
        now = int(time.time())
        payload = {"iat": now}
        if exp is not None:
            payload["exp"] = now + exp
        if jti:
            payload["jti"] = new_jti()
        payload["data"] = data
        self.stdout.write(json.dumps(sign(payload, signers)))
