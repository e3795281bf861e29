"""The money event functions of 0008 planned once per connection, and the member look-up by uid on its index.

Measured (bench/README.md, "One round trip per money event: the functions' plans"): PL/pgSQL plans each statement
with the call's values for its first five calls, then keeps a generic plan only where the planner guesses it
no dearer; for the accounts' lock and the accounts + postings write it never did, so every call paid ~0.2–0.5 ms of
planning, more than the statements' execution. `plan_cache_mode = force_generic_plan` on the three functions
plans each statement once per connection; every plan stays an index look-up per array element (the arrays are
parameters: estimated at 10 elements).

The look-up of ledger_post_uids joined the uids to `members` on UPPER(uid): with a handful of uids the planner
hashed them and scanned the whole members table (1,000 members: ~0.4 ms; grows with the members). A LATERAL
sub-select with LIMIT 1 (uid is unique) cannot be flattened into that join: one probe of members_uid_upper_uniq
per uid, whatever the table's size or statistics.

A CREATE OR REPLACE of one of these functions resets its settings: a later migration replacing one must set
plan_cache_mode again (tests/ledger/test_money_event_functions.py checks the three).
"""

from django.db import migrations

SIGNATURES = (
    "ledger_post(text, bigint, integer[], text[], bigint[], numeric[], numeric[])",
    "ledger_post_uids(text, bigint, integer[], text[], text[], numeric[], numeric[])",
    "ledger_transfer_create(bigint, text, text, text, integer[], text[], text[], numeric[], numeric[])",
)

MEMBER_LOOKUP = """
CREATE OR REPLACE FUNCTION ledger_post_uids(
    p_reference_type text, p_reference_id bigint, p_codes integer[], p_currencies text[], p_uids text[],
    p_debits numeric[], p_credits numeric[]
) RETURNS TABLE (id bigint, created_at timestamptz, refusal text, member_id bigint, uid text)
LANGUAGE plpgsql AS $$
DECLARE
    member_ids bigint[];
    member_uids text[];
BEGIN
    SELECT array_agg(m.id ORDER BY p.ord), array_agg(m.uid ORDER BY p.ord) INTO member_ids, member_uids
      FROM unnest(p_codes, p_uids) WITH ORDINALITY AS p(code, uid, ord)
      JOIN chart_accounts AS c ON c.code = p.code
      LEFT JOIN LATERAL (SELECT m.id, m.uid FROM members AS m WHERE upper(m.uid) = upper(p.uid) LIMIT 1) AS m
             ON c.scope = 'member';
    RETURN QUERY
    SELECT posted.id, posted.created_at, posted.refusal, member_ids[posted.ord], member_uids[posted.ord]
      FROM ledger_post(p_reference_type, p_reference_id, p_codes, p_currencies, member_ids, p_debits, p_credits)
           WITH ORDINALITY AS posted(id, created_at, refusal, ord);
END;
$$;
"""

PREVIOUS_MEMBER_LOOKUP = MEMBER_LOOKUP.replace(
    """LEFT JOIN LATERAL (SELECT m.id, m.uid FROM members AS m WHERE upper(m.uid) = upper(p.uid) LIMIT 1) AS m
             ON c.scope = 'member';""",
    "LEFT JOIN members AS m ON c.scope = 'member' AND upper(m.uid) = upper(p.uid);",
)

GENERIC_PLANS = "".join(f"ALTER FUNCTION {name} SET plan_cache_mode = force_generic_plan;\n" for name in SIGNATURES)
DEFAULT_PLANS = "".join(f"ALTER FUNCTION {name} RESET plan_cache_mode;\n" for name in SIGNATURES)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_journal_checkpoint")]

    operations = [
        migrations.RunSQL(MEMBER_LOOKUP + GENERIC_PLANS, PREVIOUS_MEMBER_LOOKUP + DEFAULT_PLANS),
    ]
