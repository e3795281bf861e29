"""The sync guard on the outbox (management-api-extensions.md §8.5, coin-deposits-ethereum-events.md §16.3): the
statement trigger of ledger 0005 publishes each writing transaction's lower bound of event ids, so that
`sync_guard_settled_id(0x5105, 'events')` answers W — every event with id <= W that will ever commit has
committed — and the sequencer numbers exactly those. CACHE 1: ids strictly increasing across sessions.

Frozen: the code is written here, not imported (peatio_mgmt.sync.GUARD_CODES holds the same for the reader).
"""

from django.db import migrations

CODE = 0x5105


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("ledger", "0005_sync_guard"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE TRIGGER events_sync_guard BEFORE INSERT ON events"
            f" FOR EACH STATEMENT EXECUTE FUNCTION sync_guard_publish('{CODE}');"
            "\nALTER SEQUENCE events_id_seq CACHE 1;",
            "DROP TRIGGER IF EXISTS events_sync_guard ON events;",
        ),
    ]
