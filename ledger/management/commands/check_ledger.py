"""`manage.py check_ledger`: the books check (domain.md §11); prints the report, exits 1 on any breach."""

from django.core.management.base import BaseCommand

from ledger.books import books_check_run


class Command(BaseCommand):
    help = "Verify the ledger's invariants with aggregate SQL; print a per-currency report; exit 1 on any breach."

    def handle(self, *args, **options):
        report = books_check_run()
        self.stdout.write(report.render())
        if not report.ok:
            raise SystemExit(1)
