"""The partner event stream (coin-deposits-ethereum-events.md §16): the outbox, the partners, their deliveries.

Tables and who writes them
- events: the outbox. One row per creation or state transition of a deposit or withdraw, inserted by
  events.services.event_record from the deposit and withdraw services, in the transaction of the change. `seq`
  (the public event id) is null until events.services.events_sequence numbers the rows whose transactions are
  settled, gap-free, in id order. The database refuses every UPDATE but that null -> value write of seq and
  sequenced_at, and every DELETE but the prune service's (trigger, migration 0001); the sync guard's statement
  trigger publishes each writer's lower bound of ids (migration 0002, code 0x5105 in peatio_mgmt.sync).
- event_partners: one row per partner of the YAML file (PARTNER_EVENTS_CONFIG), synchronised at start; the cursor
  and the backoff state are written by the delivery services.
- event_deliveries: one row per (partner, event) tried at least once: its state, attempts (rejections) and tries.
"""

from django.db import models


class EventSource(models.Model):
    """A model whose changes are events: it keeps the values it was loaded with, the "before" of its first event
    in a transaction (§16.1: the row as locked), at no extra query."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Two references, no copy: a list page loads thousands of rows and few of them change.
        instance._loaded_values = (field_names, values)
        return instance


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(null=True, unique=True)
    name = models.CharField(max_length=40)
    record_type = models.CharField(max_length=10)
    record_id = models.BigIntegerField()
    # The Event (management-api.md 3.8) without its id, rendered once at insert: every push and pull sends it.
    body = models.TextField()
    created_at = models.DateTimeField()
    sequenced_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "events"
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="events_unsequenced"),
            models.Index(fields=["record_type", "record_id", "id"], name="events_record"),
        ]

    def __str__(self) -> str:
        return f"event {self.seq or '-'} {self.name} {self.record_type} {self.record_id}"


class EventPartner(models.Model):
    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=2000)
    configured = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    cursor = models.BigIntegerField(default=0)
    consecutive_failures = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)

    class Meta:
        db_table = "event_partners"
        constraints = [models.CheckConstraint(condition=models.Q(cursor__gte=0), name="event_partners_cursor_gte_0")]
        permissions = [("manage_deliveries", "Can retry, rewind and replay event deliveries")]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    FAILING = "failing"
    DELIVERED = "delivered"
    DEAD = "dead"
    REPLAY = "replay"


class EventDelivery(models.Model):
    partner = models.ForeignKey(EventPartner, on_delete=models.PROTECT, related_name="deliveries")
    event_seq = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices)
    attempts = models.IntegerField(default=0)
    tries = models.IntegerField(default=0)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    first_try_at = models.DateTimeField()
    last_try_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "event_deliveries"
        constraints = [models.UniqueConstraint(fields=["partner", "event_seq"], name="event_deliveries_uniq")]
        indexes = [models.Index(fields=["partner", "event_seq"], condition=models.Q(state="replay"),
                                name="event_deliveries_replay")]
        verbose_name_plural = "event deliveries"

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.event_seq} {self.state}"
