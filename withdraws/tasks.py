"""Celery tasks of the withdraw workers (domain.md §7): thin — each calls one service, which locks, re-checks the
state and does nothing when the withdraw is no longer where it expects it, so every task is safe to run twice or
concurrently. Acknowledged late (settings): a worker killed mid-task has the task redelivered.
The send task alone is queued once per withdraw (the others are re-run by beat), so it is retried when the database
connection is lost under it — else a withdraw whose send reached the node would wait in processing for good.
The schedule is CELERY_BEAT_SCHEDULE in settings."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from withdraws import services


@shared_task
def audit_withdraws() -> int:
    return services.withdraw_audit()


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=1, retry_backoff_max=60, max_retries=None)
def send_withdraw(withdraw_id: int) -> None:
    services.withdraw_send(withdraw_id=withdraw_id)


@shared_task
def retry_withdraws() -> int:
    return services.withdraw_retry()


@shared_task
def confirm_withdraws() -> int:
    return services.withdraw_confirm()


@shared_task
def broadcast_ethereum(eth_tx_id: int) -> None:
    """Broadcast a signed ethereum transaction once its send has committed (domain.md §15.5)."""
    from withdraws.gateways.ethereum import ethereum_transaction_broadcast

    ethereum_transaction_broadcast(transaction_id=eth_tx_id)
