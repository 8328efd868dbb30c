"""Full-text search index on trainings, on PostgreSQL only.

The expression is a frozen copy of ``marketplace.search.search_vector()`` (what
the catalog queries with); a test checks that PostgreSQL uses this index. SQLite has no tsvector: the catalog falls back to plain
matching there, and this migration does nothing.
"""

from django.db import migrations

INDEX_NAME = "training_search_idx"


def _index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    vector = SearchVector("title", weight="A", config="simple") + SearchVector(
        "description", weight="B", config="simple"
    )
    return GinIndex(vector, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("marketplace", "Training"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("marketplace", "Training"), _index())


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
