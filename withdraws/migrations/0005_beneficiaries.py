"""Beneficiaries (management-api-extensions.md §8.3) and withdraws.beneficiary_id (§8.4).

What Django cannot express is SQL here: the composite foreign key of withdraws (beneficiary_id, member_id,
currency_id, rid) -> beneficiaries (id, member_id, currency_id, rid) MATCH SIMPLE (Django's state knows the column
as a ForeignKey without a database constraint), and the trigger that keeps a beneficiary's other columns immutable,
its states moving pending -> active -> archived (or pending -> archived) and its rows undeleted.
"""

import django.db.models.deletion
import django.db.models.lookups
from django.db import migrations, models

COMPOSITE_FK = """
ALTER TABLE withdraws ADD CONSTRAINT withdraws_beneficiary_destination_fk
    FOREIGN KEY (beneficiary_id, member_id, currency_id, rid)
    REFERENCES beneficiaries (id, member_id, currency_id, rid) MATCH SIMPLE ON DELETE RESTRICT;
"""

DROP_COMPOSITE_FK = "ALTER TABLE withdraws DROP CONSTRAINT IF EXISTS withdraws_beneficiary_destination_fk;"

GUARD = """
CREATE FUNCTION beneficiaries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'beneficiaries are never deleted (archive instead)' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (NEW.id, NEW.member_id, NEW.currency_id, NEW.name, NEW.description, NEW.rid, NEW.data, NEW.request_digest,
        NEW.created_at) IS DISTINCT FROM (OLD.id, OLD.member_id, OLD.currency_id, OLD.name, OLD.description, OLD.rid,
        OLD.data, OLD.request_digest, OLD.created_at) THEN
        RAISE EXCEPTION 'beneficiary %: only state and updated_at change', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
        (OLD.state = 'pending' AND NEW.state IN ('active', 'archived')) OR (OLD.state = 'active' AND NEW.state = 'archived')
    ) THEN
        RAISE EXCEPTION 'beneficiary %: % -> % is not a transition', OLD.id, OLD.state, NEW.state
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER beneficiaries_guard BEFORE UPDATE OR DELETE ON beneficiaries
    FOR EACH ROW EXECUTE FUNCTION beneficiaries_guard();
"""

DROP_GUARD = """
DROP TRIGGER IF EXISTS beneficiaries_guard ON beneficiaries;
DROP FUNCTION IF EXISTS beneficiaries_guard();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0007_accounts_nonzero_by_currency'),
        ('withdraws', '0004_simulated_chain'),
    ]

    operations = [
        migrations.CreateModel(
            name='Beneficiary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=64)),
                ('description', models.CharField(blank=True, max_length=255, null=True)),
                ('rid', models.CharField(max_length=95)),
                ('data', models.JSONField(blank=True, db_default={}, default=dict)),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('active', 'Active'), ('archived', 'Archived')], db_default='pending', default='pending', max_length=10)),
                ('request_digest', models.CharField(editable=False, max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('currency', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.currency')),
                ('member', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='beneficiaries', to='ledger.member')),
            ],
            options={
                'verbose_name_plural': 'beneficiaries',
                'db_table': 'beneficiaries',
            },
        ),
        migrations.AddField(
            model_name='withdraw',
            name='beneficiary',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='withdraws', to='withdraws.beneficiary'),
        ),
        migrations.AddIndex(
            model_name='withdraw',
            index=models.Index(condition=models.Q(('beneficiary__isnull', False)), fields=['beneficiary'], name='withdraws_beneficiary_id'),
        ),
        migrations.AddIndex(
            model_name='beneficiary',
            index=models.Index(fields=['member', 'id'], name='beneficiaries_member_id'),
        ),
        migrations.AddIndex(
            model_name='beneficiary',
            index=models.Index(fields=['currency', 'id'], name='beneficiaries_currency_id'),
        ),
        migrations.AddIndex(
            model_name='beneficiary',
            index=models.Index(fields=['state', 'id'], name='beneficiaries_state_id'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'archived'), _negated=True), fields=('member', 'currency', 'rid'), name='beneficiaries_usable_rid_uniq'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.UniqueConstraint(fields=('id', 'member', 'currency', 'rid'), name='beneficiaries_destination_uniq'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.CheckConstraint(condition=models.Q(('name__regex', '\\S')), name='beneficiaries_name_not_blank'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.CheckConstraint(condition=models.Q(('rid__regex', '\\S')), name='beneficiaries_rid_not_blank'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.CheckConstraint(condition=models.Q(('state__in', ['pending', 'active', 'archived'])), name='beneficiaries_state_valid'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.CheckConstraint(condition=models.Q(('request_digest__regex', '^[0-9a-f]{64}$')), name='beneficiaries_request_digest_sha256'),
        ),
        migrations.AddConstraint(
            model_name='beneficiary',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.Exact(models.Func(models.F('data'), function='jsonb_typeof', output_field=models.TextField()), 'object'), name='beneficiaries_data_object'),
        ),
        migrations.RunSQL(COMPOSITE_FK, DROP_COMPOSITE_FK),
        migrations.RunSQL(GUARD, DROP_GUARD),
    ]
