from django.db import migrations


def load(apps, schema_editor):
    from registration.regions import regions_load

    regions_load(
        apps.get_model("registration", "Province"),
        apps.get_model("registration", "Regency"),
        apps.get_model("registration", "District"),
    )


class Migration(migrations.Migration):
    dependencies = [("registration", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
