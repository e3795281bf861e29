"""Money events in one statement: PL/pgSQL functions that look the members up, lock their accounts, check the
funds, write the accounts and the postings (issue 13: one round trip per money event on the hot paths).

- `ledger_post(reference_type, reference_id, codes, currencies, member_ids, debits, credits)`: the postings of one
  event (arrays in posting order; a debit or a credit of zero on each) checked and written as the ledger core's
  Entry.post asks: refusals in the contract's order (a member-scope posting without a member, then a currency
  type that is not the account's), the member accounts locked in (member id, currency) order — every writer's
  order — each posting applied in order to the balance (kind main) or locked amount (kind locked) of its
  account, the first that would go below zero (or reach 10^16, beyond the columns' NUMERIC(32,16)) refusing the
  event; missing accounts count as zero and are
  created only for an event that passes; then the accounts and the postings are written in one statement.
  Returns the postings' (id, created_at, NULL) in posting order, or one row (NULL, NULL, refusal) having
  written nothing — so a refusal leaves a caller's transaction usable without a savepoint.
- `ledger_post_uids(...)`: the same with the members named by uid (case ignored, as the UPPER(uid) unique index);
  a uid counts only on a member-scope code. Also returns each posting's member id and stored uid.
- `ledger_transfer_create(key, kind, desc, digest, ...)`: the transfer row (ON CONFLICT (key) DO NOTHING: waits
  for a concurrent insert of the key like the unique index) then its postings. No row at all when a transfer
  with this key and digest exists (a retry: nothing written). A refusal is raised (the statement, transfer row
  included, is rolled back).

Refusals are SQLSTATE-like codes of class LD (ledger.postgres_events maps them to the contract's answers):
LD404 unknown member, LDCUR currency type mismatch, LDBAL / LDLCK balance / locked amount insufficient, LDMAX an
account beyond 16 integer digits, LDKEY transfer key taken with other parameters. The CHECK constraints (balance, locked >= 0; one-sided postings) and
foreign keys stay the last line of defence.

Frozen: no project import; the chart's scope/kind values are the ones migration 0002 constrains.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE FUNCTION ledger_post(
    p_reference_type text, p_reference_id bigint, p_codes integer[], p_currencies text[], p_members bigint[],
    p_debits numeric[], p_credits numeric[]
) RETURNS TABLE (id bigint, created_at timestamptz, refusal text) LANGUAGE plpgsql AS $$
DECLARE
    n integer := cardinality(p_codes);
    types text[];
    locked_kind boolean[];
    member_scope boolean[];
    mismatch boolean;
    acc_ids bigint[];
    acc_members bigint[];
    acc_currencies text[];
    balances numeric[];
    lockeds numeric[];
    missing boolean;
    refused text;
    j integer;
BEGIN
    SELECT array_agg(c.type ORDER BY p.ord), array_agg(c.kind = 'locked' ORDER BY p.ord),
           array_agg(c.scope = 'member' ORDER BY p.ord), coalesce(bool_or(c.currency_type <> cur.type), false)
      INTO types, locked_kind, member_scope, mismatch
      FROM unnest(p_codes, p_currencies) WITH ORDINALITY AS p(code, currency_id, ord)
      JOIN chart_accounts AS c ON c.code = p.code
      JOIN currencies AS cur ON cur.id = p.currency_id;
    IF cardinality(types) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'unknown chart code or currency in %, %', p_codes, p_currencies;
    END IF;
    FOR i IN 1 .. n LOOP
        IF member_scope[i] AND p_members[i] IS NULL THEN
            RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, 'LD404';
            RETURN;
        END IF;
    END LOOP;
    IF mismatch THEN
        RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, 'LDCUR';
        RETURN;
    END IF;

    FOR pass IN 1 .. 2 LOOP
        -- The member accounts that exist, locked in (member id, currency) order; a missing one counts as zero.
        SELECT array_agg(a.id), array_agg(a.member_id), array_agg(a.currency_id), array_agg(a.balance),
               array_agg(a.locked)
          INTO acc_ids, acc_members, acc_currencies, balances, lockeds
          FROM (SELECT a.id, a.member_id, a.currency_id, a.balance, a.locked FROM accounts AS a
                 WHERE (a.member_id, a.currency_id) IN (
                       SELECT p.member_id, p.currency_id FROM unnest(p_members, p_currencies, member_scope)
                           AS p(member_id, currency_id, scoped) WHERE p.scoped)
                 ORDER BY a.member_id, a.currency_id FOR UPDATE) AS a;
        missing := false;
        refused := NULL;
        -- Each posting moves its account in posting order; the first that would leave the column's range (below
        -- zero, or 16 integer digits) refuses the event.
        FOR i IN 1 .. n LOOP
            CONTINUE WHEN NOT member_scope[i];
            j := 1;
            WHILE j <= coalesce(cardinality(acc_ids), 0)
                  AND (acc_members[j] <> p_members[i] OR acc_currencies[j] <> p_currencies[i]) LOOP
                j := j + 1;
            END LOOP;
            IF j > coalesce(cardinality(acc_ids), 0) THEN
                missing := true;
                acc_ids[j] := NULL;
                acc_members[j] := p_members[i];
                acc_currencies[j] := p_currencies[i];
                balances[j] := 0;
                lockeds[j] := 0;
            END IF;
            IF locked_kind[i] THEN
                lockeds[j] := lockeds[j] + p_credits[i] - p_debits[i];
                IF lockeds[j] < 0 THEN
                    refused := 'LDLCK';
                    EXIT;
                ELSIF lockeds[j] >= 10000000000000000 THEN
                    refused := 'LDMAX';
                    EXIT;
                END IF;
            ELSE
                balances[j] := balances[j] + p_credits[i] - p_debits[i];
                IF balances[j] < 0 THEN
                    refused := 'LDBAL';
                    EXIT;
                ELSIF balances[j] >= 10000000000000000 THEN
                    refused := 'LDMAX';
                    EXIT;
                END IF;
            END IF;
        END LOOP;
        -- Refused before anything is written (accounts are only created for an event that passes: from zero it
        -- passes from any balance a concurrent creation may have given the row, so pass 2 cannot refuse).
        IF refused IS NOT NULL THEN
            IF pass = 2 THEN
                RAISE EXCEPTION 'event refused (%) after its accounts were created', refused;
            END IF;
            RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, refused;
            RETURN;
        END IF;
        EXIT WHEN NOT missing;
        IF pass = 2 THEN
            RAISE EXCEPTION 'accounts still missing after their creation';
        END IF;
        -- Created at zero (a concurrent creation waited for and tolerated), then all locked and checked again.
        INSERT INTO accounts (member_id, currency_id, balance, locked, created_at, updated_at)
        SELECT DISTINCT p.member_id, p.currency_id, 0, 0, now(), now()
          FROM unnest(p_members, p_currencies, member_scope) AS p(member_id, currency_id, scoped) WHERE p.scoped
         ORDER BY 1, 2
            ON CONFLICT (member_id, currency_id) DO NOTHING;
    END LOOP;

    -- Ids are drawn in insertion (posting) order: the sequence has CACHE 1 (migration 0005).
    RETURN QUERY
    WITH moved AS (
        UPDATE accounts AS a SET balance = v.balance, locked = v.locked, updated_at = now()
          FROM unnest(acc_ids, balances, lockeds) AS v(id, balance, locked) WHERE a.id = v.id
    ), posted AS (
        INSERT INTO operations (type, code, currency_id, member_id, reference_type, reference_id, debit, credit)
        SELECT types[p.ord], p.code, p.currency_id, p.member_id, p_reference_type, p_reference_id, p.debit, p.credit
          FROM unnest(p_codes, p_currencies, p_members, p_debits, p_credits)
               WITH ORDINALITY AS p(code, currency_id, member_id, debit, credit, ord)
         ORDER BY p.ord
        RETURNING operations.id, operations.created_at
    )
    SELECT posted.id, posted.created_at, NULL::text FROM posted ORDER BY posted.id;
END;
$$;

CREATE FUNCTION ledger_post_uids(
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
      LEFT JOIN members AS m ON c.scope = 'member' AND upper(m.uid) = upper(p.uid);
    RETURN QUERY
    SELECT posted.id, posted.created_at, posted.refusal, member_ids[posted.ord], member_uids[posted.ord]
      FROM ledger_post(p_reference_type, p_reference_id, p_codes, p_currencies, member_ids, p_debits, p_credits)
           WITH ORDINALITY AS posted(id, created_at, refusal, ord);
END;
$$;

CREATE FUNCTION ledger_transfer_create(
    p_key bigint, p_kind text, p_desc text, p_digest text, p_codes integer[], p_currencies text[], p_uids text[],
    p_debits numeric[], p_credits numeric[]
) RETURNS TABLE (transfer_id bigint, transfer_created_at timestamptz, id bigint, created_at timestamptz,
                 member_id bigint, uid text) LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
    new_created_at timestamptz;
    stored_digest text;
    posted record;
BEGIN
    INSERT INTO transfers (key, kind, "desc", request_digest, created_at, updated_at)
    VALUES (p_key, p_kind, p_desc, p_digest, now(), now())
    ON CONFLICT (key) DO NOTHING
    RETURNING transfers.id, transfers.created_at INTO new_id, new_created_at;
    IF new_id IS NULL THEN
        -- A transfer with this key committed (a concurrent one was waited for): a retry or a refusal.
        SELECT t.request_digest INTO stored_digest FROM transfers AS t WHERE t.key = p_key;
        IF stored_digest IS DISTINCT FROM p_digest THEN
            RAISE EXCEPTION USING ERRCODE = 'LDKEY', MESSAGE = 'transfer key taken by other parameters';
        END IF;
        RETURN;
    END IF;
    FOR posted IN
        SELECT * FROM ledger_post_uids('transfer', new_id, p_codes, p_currencies, p_uids, p_debits, p_credits)
    LOOP
        IF posted.refusal IS NOT NULL THEN
            -- The transfer row was written: the exception rolls it back with the statement.
            RAISE EXCEPTION USING ERRCODE = posted.refusal, MESSAGE = 'transfer refused: ' || posted.refusal;
        END IF;
        transfer_id := new_id;
        transfer_created_at := new_created_at;
        id := posted.id;
        created_at := posted.created_at;
        member_id := posted.member_id;
        uid := posted.uid;
        RETURN NEXT;
    END LOOP;
END;
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS ledger_transfer_create(bigint, text, text, text, integer[], text[], text[], numeric[], numeric[]);
DROP FUNCTION IF EXISTS ledger_post_uids(text, bigint, integer[], text[], text[], numeric[], numeric[]);
DROP FUNCTION IF EXISTS ledger_post(text, bigint, integer[], text[], bigint[], numeric[], numeric[]);
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_accounts_nonzero_by_currency")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS)]
