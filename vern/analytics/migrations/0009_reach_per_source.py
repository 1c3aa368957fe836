"""ReachStat: the cube's page and goal rows added up per source, campaign source and campaign,
filled in for the days the cube already holds; PatternReach: the same per page-view goal's
pattern, filled by the hourly job (ADR 0028)."""

from django.db import migrations, models

# The days the cube holds now; later days get theirs when they are worked out (sqlaggregate).
FILL = "\nUNION ALL\n".join(
    f"SELECT day, dimension, value, '{column}', {column}, SUM(visits) FROM analytics_entrystat "
    f"WHERE dimension IN ('page', 'goal') GROUP BY day, dimension, value, {column} HAVING SUM(visits) > 0"
    for column in ("channel", "utm_source", "utm_campaign")
)


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0008_totalled_day'),
    ]

    operations = [
        migrations.CreateModel(
            name='PatternReach',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('pattern', models.CharField(max_length=200)),
                ('day', models.DateField()),
                ('totalled_at', models.DateTimeField()),
                ('split', models.CharField(blank=True, max_length=12)),
                ('split_value', models.CharField(blank=True, max_length=100)),
                ('visits', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'daily visit count per page-view goal and source',
                'verbose_name_plural': 'daily visit counts per page-view goal and source',
                'indexes': [models.Index(fields=['day'], name='patternreach_day')],
                'constraints': [models.UniqueConstraint(fields=('pattern', 'day', 'totalled_at', 'split', 'split_value'), name='patternreach_unique')],
            },
        ),
        migrations.CreateModel(
            name='ReachStat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('dimension', models.CharField(max_length=12)),
                ('value', models.CharField(blank=True, max_length=600)),
                ('split', models.CharField(choices=[('channel', 'Sources'), ('utm_source', 'Campaign sources'), ('utm_campaign', 'Campaigns')], max_length=12)),
                ('split_value', models.CharField(blank=True, max_length=100)),
                ('visits', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'daily visit count per page and source',
                'verbose_name_plural': 'daily visit counts per page and source',
                'indexes': [models.Index(fields=['day'], name='reachstat_day')],
                'constraints': [models.UniqueConstraint(fields=('dimension', 'value', 'day', 'split', 'split_value'), name='reachstat_unique')],
            },
        ),
        migrations.RunSQL(
            f"INSERT INTO analytics_reachstat (day, dimension, value, split, split_value, visits) {FILL}",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
