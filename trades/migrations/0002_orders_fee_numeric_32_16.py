# Widening NUMERIC(17,16) to NUMERIC(32,16) keeps the scale: PostgreSQL changes the type without rewriting the table.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('trades', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='order',
            name='fee',
            field=models.DecimalField(decimal_places=16, default=0, max_digits=32),
        ),
    ]
