"""The default chart of accounts (domain.md §3) and the trigger that makes the journal append-only."""

from django.db import migrations

# A migration is frozen: the default chart as it stood when this migration was written (domain.md §3), not an
# import of ledger.chart, which may change; later changes to the chart are later migrations.
DEFAULT_CHART = [
    # code, type, kind, currency type, scope, description
    (101, "asset", "main", "fiat", "platform", "Main Fiat Assets Account"),
    (102, "asset", "main", "coin", "platform", "Main Crypto Assets Account"),
    (201, "liability", "main", "fiat", "member", "Main Fiat Liabilities Account"),
    (202, "liability", "main", "coin", "member", "Main Crypto Liabilities Account"),
    (211, "liability", "locked", "fiat", "member", "Locked Fiat Liabilities Account"),
    (212, "liability", "locked", "coin", "member", "Locked Crypto Liabilities Account"),
    (301, "revenue", "main", "fiat", "platform", "Main Fiat Revenues Account"),
    (302, "revenue", "main", "coin", "platform", "Main Crypto Revenues Account"),
    (401, "expense", "main", "fiat", "platform", "Main Fiat Expenses Account"),
    (402, "expense", "main", "coin", "platform", "Main Crypto Expenses Account"),
]


def install_chart(apps, schema_editor):
    chart_account = apps.get_model("ledger", "ChartAccount")
    for code, type_, kind, currency_type, scope, description in DEFAULT_CHART:
        chart_account.objects.get_or_create(
            code=code,
            defaults={"type": type_, "kind": kind, "currency_type": currency_type, "scope": scope, "description": description},
        )


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
