"""Change rows as plain columns with one index (issue #14: the cost of recording a change
set; see imports.models.ImportChange).

The jsonb `before` / `after` columns are kept for whole rows and conflicts (renamed
`before_json` / `after_json`); rows recorded before this migration keep their values there
and read the same (ImportChange.before / .after, imports.change_set.BEFORE / AFTER). The
primary key's constraint (and its index) is dropped in the database only: ids still come
from the column's identity sequence, and Django still treats `id` as the primary key.
"""

from django.db import migrations, models
from django.db.models.functions import Lower

DROP_PRIMARY_KEY = """
DO $$
DECLARE name text;
BEGIN
    SELECT conname INTO name FROM pg_constraint
    WHERE conrelid = 'imports_importchange'::regclass AND contype = 'p';
    IF name IS NOT NULL THEN
        EXECUTE format('ALTER TABLE imports_importchange DROP CONSTRAINT %I', name);
    END IF;
END $$
"""
ADD_PRIMARY_KEY = "ALTER TABLE imports_importchange ADD PRIMARY KEY (id)"


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0009_change_set_job_without_constraint"),
    ]

    operations = [
        migrations.RenameField("importchange", "before", "before_json"),
        migrations.RenameField("importchange", "after", "after_json"),
        # old_<field> and new_<field> for each of ImportChange.VALUE_FIELDS.
        *(
            migrations.AddField("importchange", f"{side}_{name}", field)
            for side in ("old", "new")
            for name, field in (
                ("sku", models.CharField(blank=True, max_length=255, null=True)),
                ("name", models.CharField(blank=True, max_length=255, null=True)),
                ("description", models.TextField(blank=True, null=True)),
                ("active", models.BooleanField(blank=True, null=True)),
            )
        ),
        migrations.RemoveIndex("importchange", "importchange_job_kind_id"),
        migrations.RemoveIndex("importchange", "importchange_job_sku_lower"),
        migrations.AddIndex(
            "importchange",
            models.Index(
                models.F("job"),
                models.F("kind"),
                Lower("sku"),
                models.F("id"),
                name="importchange_job_kind_sku",
            ),
        ),
        migrations.RunSQL(DROP_PRIMARY_KEY, reverse_sql=ADD_PRIMARY_KEY),
    ]
