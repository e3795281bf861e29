"""Celery tasks of the event stream (coin-deposits-ethereum-events.md §16, the beat entries at its top): thin, on
the `events` queue. Each is safe to run twice or concurrently: the sequencer and each partner's deliverer are
single-flight through advisory locks, the second run does nothing."""

from celery import shared_task

from events import config, services

_synced = False


@shared_task
def sequence_events() -> int:
    return services.events_sequence()


@shared_task
def deliver_events() -> int:
    """Queue one deliver_partner per due partner; the partner rows follow the file once per worker process."""
    global _synced
    if not _synced:
        services.partners_sync(config=config.current())
        _synced = True
    partner_ids = services.partners_due()
    for partner_id in partner_ids:
        deliver_partner.delay(partner_id)
    return len(partner_ids)


@shared_task
def deliver_partner(partner_id: int) -> int:
    return services.partner_deliver(partner_id=partner_id)


@shared_task
def prune_events() -> int:
    return services.events_prune()
