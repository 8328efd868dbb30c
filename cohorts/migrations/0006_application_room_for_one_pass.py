"""PostgreSQL only: more room in each page of the wave applications, for the selection's one pass.

The committed selection rewrites every pending application of a wave once (status, reason,
snapshot, draw rank; no index covers them). PostgreSQL can then update a row in place (a
heap-only tuple: no index entry written) only when its page has room for the new version
next to the old one, which stays until the transaction ends. At fillfactor 70 fewer than half
of the rows fit and the rest cost three index inserts each; at 45 every page keeps room for
all of its rows once more. The setting applies to pages filled from now on (people joining
new waves); it does not rewrite existing pages.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cohorts_application SET (fillfactor = 45)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cohorts_application SET (fillfactor = 70)")


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0005_public_draw"),
    ]

    operations = [migrations.RunPython(forward, backward)]
