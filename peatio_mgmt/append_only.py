"""A migration operation making a table append-only: a trigger refuses every UPDATE and DELETE of its rows.

Used by the journal (ledger.operations) and the operators' audit trail (operators.audit_records): corrections
are new rows, never edits.
"""

from django.db import migrations


def append_only(table: str, refusal: str) -> migrations.RunSQL:
    """`refusal`: the error's text, `%` standing for the refused statement (UPDATE or DELETE)."""
    function = f"{table}_append_only"
    return migrations.RunSQL(
        f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{refusal}', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
""",
        f"""
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
""",
    )
