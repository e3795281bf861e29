"""The journal checkpoint (bench/README.md, "Frozen prefix + tail"): counts of the postings up to an id below which
every posting is final, per (type, currency, reference_type), for the exact Total of the journal lists.

A TRUNCATE of operations (tests, bench/liabilities.py's refill) must empty the counts with it: the statement trigger
below does, whatever else the TRUNCATE names. Frozen: no project import.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

CLEAR_ON_TRUNCATE = """
CREATE FUNCTION journal_checkpoint_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM journal_counts;
    DELETE FROM journal_checkpoint;
    RETURN NULL;
END;
$$;
CREATE TRIGGER operations_truncate_clears_checkpoint AFTER TRUNCATE ON operations
    FOR EACH STATEMENT EXECUTE FUNCTION journal_checkpoint_clear();
"""

DROP_CLEAR_ON_TRUNCATE = """
DROP TRIGGER IF EXISTS operations_truncate_clears_checkpoint ON operations;
DROP FUNCTION IF EXISTS journal_checkpoint_clear();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0008_money_event_functions'),
    ]

    operations = [
        migrations.CreateModel(
            name='JournalCheckpoint',
            fields=[
                ('id', models.SmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('upto_id', models.BigIntegerField(default=0)),
                ('advanced_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'db_table': 'journal_checkpoint',
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='journal_checkpoint_one_row'), models.CheckConstraint(condition=models.Q(('upto_id__gte', 0)), name='journal_checkpoint_upto_id_gte_0')],
            },
        ),
        migrations.CreateModel(
            name='JournalCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('type', models.CharField(choices=[('asset', 'Asset'), ('liability', 'Liability'), ('revenue', 'Revenue'), ('expense', 'Expense')], max_length=10)),
                ('reference_type', models.CharField(blank=True, choices=[('deposit', 'Deposit'), ('withdraw', 'Withdraw'), ('transfer', 'Transfer'), ('trade', 'Trade'), ('order', 'Order')], max_length=20, null=True)),
                ('postings', models.BigIntegerField()),
                ('currency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.currency')),
            ],
            options={
                'db_table': 'journal_counts',
                'constraints': [models.UniqueConstraint(fields=('type', 'currency', 'reference_type'), name='journal_counts_key_uniq', nulls_distinct=False), models.CheckConstraint(condition=models.Q(('postings__gte', 0)), name='journal_counts_postings_gte_0')],
            },
        ),
        migrations.RunSQL(CLEAR_ON_TRUNCATE, DROP_CLEAR_ON_TRUNCATE),
    ]
