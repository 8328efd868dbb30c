"""PostgreSQL only: append-only trigger, and tuning for bulk credits.

- A trigger refuses UPDATE and DELETE on ledger movements and entries. The
  model and queryset guards stop mistakes in Python; this stops everything else
  (raw SQL, a shell, another program). TRUNCATE is left alone so test databases
  can still be emptied. SQLite (the embedded setup) relies on the Python guards.
- A BRIN index makes time filters cheap on the append-only movement table.
- Idempotency keys and references are ASCII identifiers compared byte by byte
  (collation "C"): cheaper unique-index inserts than the database's locale.
  (A later AlterField on these columns would drop the collation: re-apply it.)
- Accounts are stored half-full (fillfactor 50) so that a bulk credit can
  rewrite every balance in place (HOT updates, no index writes).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION disbursement_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused; record a reversing movement instead',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER disbursement_ledgermovement_append_only
    BEFORE UPDATE OR DELETE ON disbursement_ledgermovement
    FOR EACH ROW EXECUTE FUNCTION disbursement_ledger_append_only();
CREATE TRIGGER disbursement_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON disbursement_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION disbursement_ledger_append_only();
CREATE INDEX ledger_movement_created_brin ON disbursement_ledgermovement USING brin (created_at);
ALTER TABLE disbursement_ledgermovement
    ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "C",
    ALTER COLUMN reference TYPE varchar(200) COLLATE "C";
ALTER TABLE disbursement_ledgeraccount SET (fillfactor = 50);
"""

BACKWARD = """
ALTER TABLE disbursement_ledgeraccount RESET (fillfactor);
ALTER TABLE disbursement_ledgermovement
    ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "default",
    ALTER COLUMN reference TYPE varchar(200) COLLATE "default";
DROP INDEX IF EXISTS ledger_movement_created_brin;
DROP TRIGGER IF EXISTS disbursement_ledgerentry_append_only ON disbursement_ledgerentry;
DROP TRIGGER IF EXISTS disbursement_ledgermovement_append_only ON disbursement_ledgermovement;
DROP FUNCTION IF EXISTS disbursement_ledger_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("disbursement", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
