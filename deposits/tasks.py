"""Celery tasks of the deposit scanner (domain.md §14.4): thin. Beat queues `scan_deposits`, which queues one
`scan_currency` per eligible coin currency on the `scan` queue; a pass is safe to run twice or concurrently (the
second finds the currency's scan lock held and does nothing)."""

from celery import shared_task

from deposits import services


@shared_task
def scan_deposits() -> int:
    currency_ids = services.deposit_scan_currencies()
    for currency_id in currency_ids:
        scan_currency.delay(currency_id)
    return len(currency_ids)


@shared_task
def scan_currency(currency_id: str) -> str:
    return services.deposit_scan_currency(currency_id=currency_id)
