"""The event stream's tables (coin-deposits-ethereum-events.md §16.2), and the outbox's guards: `xid`, the writing
transaction (for the console and for diagnosis: the sequencer works from the sync guard's settled id, 0002), and
the trigger that keeps `events` append-only — no UPDATE but the sequencer's one null -> value write of seq and
sequenced_at, no DELETE but the prune service's (it sets peatio.events_prune for its transaction)."""

import django.db.models.deletion
from django.db import migrations, models

APPEND_ONLY = """
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('peatio.events_prune', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'events are append-only: only the prune task deletes them';
    END IF;
    IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.sequenced_at IS NULL AND NEW.sequenced_at IS NOT NULL
       AND (NEW.id, NEW.xid, NEW.name, NEW.record_type, NEW.record_id, NEW.body, NEW.created_at)
           IS NOT DISTINCT FROM (OLD.id, OLD.xid, OLD.name, OLD.record_type, OLD.record_id, OLD.body, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only: only seq and sequenced_at are set, once';
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS events_append_only ON events;
DROP FUNCTION IF EXISTS events_append_only();
ALTER TABLE events DROP COLUMN IF EXISTS xid;
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Event',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('seq', models.BigIntegerField(null=True, unique=True)),
                ('name', models.CharField(max_length=40)),
                ('record_type', models.CharField(max_length=10)),
                ('record_id', models.BigIntegerField()),
                ('body', models.TextField()),
                ('created_at', models.DateTimeField()),
                ('sequenced_at', models.DateTimeField(null=True)),
            ],
            options={
                'db_table': 'events',
                'indexes': [models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='events_unsequenced'), models.Index(fields=['record_type', 'record_id', 'id'], name='events_record')],
            },
        ),
        migrations.CreateModel(
            name='EventPartner',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('url', models.CharField(max_length=2000)),
                ('configured', models.BooleanField(default=True)),
                ('enabled', models.BooleanField(default=True)),
                ('cursor', models.BigIntegerField(default=0)),
                ('consecutive_failures', models.IntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('last_success_at', models.DateTimeField(blank=True, null=True)),
                ('last_failure_at', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True, null=True)),
            ],
            options={
                'db_table': 'event_partners',
                'permissions': [('manage_deliveries', 'Can retry, rewind and replay event deliveries')],
                'constraints': [models.CheckConstraint(condition=models.Q(('cursor__gte', 0)), name='event_partners_cursor_gte_0')],
            },
        ),
        migrations.CreateModel(
            name='EventDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_seq', models.BigIntegerField()),
                ('state', models.CharField(choices=[('failing', 'Failing'), ('delivered', 'Delivered'), ('dead', 'Dead'), ('replay', 'Replay')], max_length=10)),
                ('attempts', models.IntegerField(default=0)),
                ('tries', models.IntegerField(default=0)),
                ('last_status', models.IntegerField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True, null=True)),
                ('first_try_at', models.DateTimeField()),
                ('last_try_at', models.DateTimeField()),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('partner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='events.eventpartner')),
            ],
            options={
                'verbose_name_plural': 'event deliveries',
                'db_table': 'event_deliveries',
                'indexes': [models.Index(condition=models.Q(('state', 'replay')), fields=['partner', 'event_seq'], name='event_deliveries_replay')],
                'constraints': [models.UniqueConstraint(fields=('partner', 'event_seq'), name='event_deliveries_uniq')],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
