"""`python manage.py seed FILE.yml [FILE.yml ...] [--dry-run]` (seed-format.md §1)."""

import sys

from django.core.management.base import BaseCommand

from seeding.files import SeedInvalid
from seeding.services import seed_load


class Command(BaseCommand):
    help = "Load reference data (chart of accounts, currencies, members, markets) and historical trades."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE.yml")
        parser.add_argument("--dry-run", action="store_true", help="validate and report what would change, write nothing")

    def handle(self, *args, files, dry_run, **options):
        try:
            report = seed_load(paths=files, dry_run=dry_run)
        except SeedInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(str(problem))
            sys.exit(1)
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("dry run: nothing written")
