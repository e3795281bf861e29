"""Celery tasks of the ledger: thin, the work is in ledger.books and ledger.checkpoints."""

from celery import shared_task

from ledger import checkpoints
from ledger.books import books_check_run


@shared_task(name="ledger.tasks.books_check")
def books_check() -> bool:
    """The hourly books check (celery beat, settings.CELERY_BEAT_SCHEDULE); a breach is logged as an error."""
    return books_check_run().ok


@shared_task(name="ledger.tasks.journal_checkpoint_advance")
def journal_checkpoint_advance() -> int | None:
    """Counts the journal's final postings for the lists' Total (celery beat, settings.CELERY_BEAT_SCHEDULE)."""
    return checkpoints.journal_checkpoint_advance()
