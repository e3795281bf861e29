"""The default chart of accounts (domain.md §3) and the trigger that makes the journal append-only."""

from django.db import migrations

from ledger.chart import install_default_chart


def install_chart(apps, schema_editor):
    install_default_chart(apps.get_model("ledger", "ChartAccount"))


APPEND_ONLY = """
CREATE FUNCTION operations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'operations are append-only: % refused (a correction is a new posting)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER operations_append_only BEFORE UPDATE OR DELETE ON operations
    FOR EACH ROW EXECUTE FUNCTION operations_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS operations_append_only ON operations;
DROP FUNCTION IF EXISTS operations_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(install_chart, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
