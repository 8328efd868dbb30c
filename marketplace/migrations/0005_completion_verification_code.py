from django.db import migrations, models

import marketplace.codes


def codes_fill(apps, schema_editor):
    """Give every completion reported before this migration its own verification code."""
    Completion = apps.get_model("marketplace", "Completion")
    taken = set()
    for completion in Completion.objects.filter(verification_code__isnull=True).only("pk").iterator():
        code = marketplace.codes.certificate_code_new()
        while code in taken:
            code = marketplace.codes.certificate_code_new()
        taken.add(code)
        Completion.objects.filter(pk=completion.pk).update(verification_code=code)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0004_webhook_deliveries")]

    operations = [
        migrations.AddField(
            model_name="completion",
            name="verification_code",
            field=models.CharField(
                editable=False, max_length=16, null=True, verbose_name="verification code"
            ),
        ),
        migrations.RunPython(codes_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="completion",
            name="verification_code",
            field=models.CharField(
                default=marketplace.codes.certificate_code_new,
                editable=False,
                help_text="Printed on the certificate; anyone can check it at /sertifikat/<code>/.",
                max_length=16,
                unique=True,
                verbose_name="verification code",
            ),
        ),
    ]
