"""The sync guard (management-api-extensions.md §8.5): writers publish a lower bound of the ids they will draw.

A statement-level BEFORE INSERT trigger on deposits, withdraws, operations and trades runs before the column
default draws `nextval`. Once per transaction and table it reads `low`, the last id drawn from the table's
sequence, and takes the shared transaction-level advisory lock `(code << 48) | low`; a transaction-local setting
remembers that it did (a rolled-back savepoint reverts both). `sync_guard_settled_id` is the reader: L from the
sequence first, then B, the smallest published `low` of the table in pg_locks, and W = min(L, B).

Frozen: the codes are written here, not imported (peatio_mgmt.sync holds the same table for the reader).
"""

from django.db import migrations

GUARDED = (("deposits", 0x5101), ("withdraws", 0x5102), ("operations", 0x5103), ("trades", 0x5104))

FUNCTIONS = """
CREATE FUNCTION sync_guard_last_id(seq regclass) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last bigint := pg_sequence_last_value(seq);  -- NULL while is_called is false
BEGIN
    IF last IS NULL THEN
        EXECUTE format('SELECT last_value - 1 FROM %s', seq) INTO last;
    END IF;
    RETURN last;
END;
$$;

CREATE FUNCTION sync_guard_publish() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    setting text := 'peatio.sync_guard.' || TG_TABLE_NAME;
    low bigint;
BEGIN
    IF current_setting(setting, true) = '1' THEN
        RETURN NULL;
    END IF;
    low := sync_guard_last_id(pg_get_serial_sequence(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id')::regclass);
    PERFORM pg_advisory_xact_lock_shared((TG_ARGV[0]::bigint << 48) | low);
    PERFORM set_config(setting, '1', true);
    RETURN NULL;
END;
$$;

CREATE FUNCTION sync_guard_settled_id(code integer, tbl regclass) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    l bigint;
    b bigint;
BEGIN
    -- The order is normative: L first, then the published bounds (reading pg_locks first would miss a writer
    -- that publishes and draws between the two reads).
    l := greatest(sync_guard_last_id(pg_get_serial_sequence(tbl::text, 'id')::regclass), 0);
    SELECT min(((classid::bigint << 32) | objid::bigint) & 281474976710655) INTO b
      FROM pg_locks
     WHERE locktype = 'advisory' AND objsubid = 1
       AND ((classid::bigint << 32) | objid::bigint) >> 48 = code;
    RETURN least(l, coalesce(b, l));
END;
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS sync_guard_settled_id(integer, regclass);
DROP FUNCTION IF EXISTS sync_guard_publish();
DROP FUNCTION IF EXISTS sync_guard_last_id(regclass);
"""


def triggers() -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_sync_guard BEFORE INSERT ON {table}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION sync_guard_publish('{code}');"
        # The argument above the bound needs strictly increasing ids across sessions: no per-session cache.
        f"\nALTER SEQUENCE {table}_id_seq CACHE 1;"
        for table, code in GUARDED
    )


def drop_triggers() -> str:
    return "\n".join(f"DROP TRIGGER IF EXISTS {table}_sync_guard ON {table};" for table, _ in GUARDED)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_wallet_gateway_ethereum"),
        ("deposits", "0001_initial"),
        ("withdraws", "0001_initial"),
        ("trades", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RunSQL(triggers(), drop_triggers()),
    ]
