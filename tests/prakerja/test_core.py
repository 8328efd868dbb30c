import io
import logging

import pytest
from django.contrib.auth.models import Group

from prakerja.audit import audit_entries_for, audit_log
from prakerja.logging import RedactPersonalData, redact
from prakerja.masking import mask_identifier
from prakerja.models import AppendOnlyError, AuditEntry
from prakerja.money import format_rupiah
from prakerja.roles import Role


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (1000000, "Rp1.000.000"),
        (0, "Rp0"),
        (600000, "Rp600.000"),
        (50000, "Rp50.000"),
        (-2500, "-Rp2.500"),
        (999, "Rp999"),
    ],
)
def test_format_rupiah(amount, text):
    assert format_rupiah(amount) == text


def test_format_rupiah_refuses_floats():
    with pytest.raises(TypeError):
        format_rupiah(1000.5)


def test_mask_identifier():
    assert mask_identifier("3275010101900001") == "3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001"
    assert mask_identifier("1234") == "\u2022\u2022\u2022\u2022"
    assert mask_identifier("") == ""


def test_log_lines_never_carry_a_full_nik():
    assert (
        redact("NIK 3275010101900001 ditolak")
        == "NIK 3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001 ditolak"
    )
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "checking %s", ("3275010101900001",), None)
    RedactPersonalData().filter(record)
    assert "3275010101900001" not in record.getMessage()
    assert "12345678901234567" in redact("12345678901234567")  # 17 digits is not a NIK


def test_tracebacks_in_logs_are_masked_too():
    try:
        raise ValueError("duplicate key: Key (nik)=(3275010101900001) already exists")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "save failed", None, sys.exc_info())
    record.stack_info = "Stack (most recent call last):\n  nik = '3275010101900001'"
    RedactPersonalData().filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert "3275010101900001" not in line
    assert "Key (nik)=(3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001)" in line
    assert "ValueError" in line and "Stack" in line


def test_celery_workers_keep_the_masking_log_filter(capsys):
    """``celery worker`` sets up logging when it starts; the NIK filter must survive that."""
    from prakerja.celery import app

    app.log.already_setup = False
    app.log.setup_logging_subsystem(loglevel=logging.ERROR)
    assert logging.getLogger("celery").level == logging.ERROR  # --loglevel still sets Celery's own
    root = logging.getLogger()
    assert any(isinstance(f, RedactPersonalData) for handler in root.handlers for f in handler.filters)
    logging.getLogger("registration.tasks").warning("checking 3275010101900001")
    err = capsys.readouterr().err
    assert "checking 3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001" in err
    assert "3275010101900001" not in err


@pytest.mark.django_db
def test_audit_log_is_append_only(django_user_model):
    officer = django_user_model.objects.create_user(email="officer@example.id", password="x" * 12)
    group = Group.objects.get(name=Role.KYC_REVIEWER)
    entry = audit_log(actor=officer, action="kyc.approve", obj=group, data={"reason": "ok"})
    assert (entry.actor_repr, entry.target_type, entry.target_id) == (
        "officer@example.id",
        "auth.group",
        str(group.pk),
    )
    assert list(audit_entries_for(group)) == [entry]
    system_entry = audit_log(actor=None, action="system.sweep")
    assert system_entry.actor_repr == "system"
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "kyc.approve"


@pytest.mark.django_db
def test_role_groups_exist_with_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Programme Officer", "KYC Reviewer", "Finance Officer", "Disnaker Staff", "Platform"} <= names
    officer = Group.objects.get(name="Programme Officer")
    assert officer.permissions.filter(codename="view_auditentry").exists()
    disnaker = Group.objects.get(name="Disnaker Staff")
    assert disnaker.permissions.filter(codename="view_province").exists()
    assert not disnaker.permissions.filter(codename="view_auditentry").exists()


@pytest.mark.django_db
def test_staff_without_totp_must_set_it_up_when_required(client, django_user_model, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    officer = django_user_model.objects.create_user(email="o@example.id", password="x" * 12, is_staff=True)
    client.force_login(officer)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"

    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(user=officer, type=Authenticator.Type.TOTP, data={"secret": "x"})
    # Having TOTP is not enough: this session must pass it (tests/prakerja/test_security.py).
    response = client.get("/admin/")
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2F"


@pytest.mark.django_db
def test_regions_are_loaded():
    from registration.models import District, Province, Regency

    assert (Province.objects.count(), Regency.objects.count(), District.objects.count()) == (38, 514, 7285)
    bekasi = District.objects.select_related("regency__province").get(
        code=District.code_from_nik("3275010101900001")
    )
    assert (bekasi.regency.name, bekasi.regency.province.name) == ("Kota Bekasi", "Jawa Barat")


@pytest.mark.django_db
def test_load_demo_is_idempotent():
    from django.core.management import call_command

    from prakerja.models import User

    call_command("load_demo", stdout=io.StringIO())
    first = (User.objects.count(), Group.objects.get(name="Disnaker Staff").user_set.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (User.objects.count(), Group.objects.get(name="Disnaker Staff").user_set.count()) == first
    assert User.objects.get(email="petugas@prakerja.test").groups.filter(name="Programme Officer").exists()


@pytest.mark.parametrize(
    "text",
    [
        "Task kyc.verify succeeded in 0.1234567890123456s: None",  # a duration's fraction
        "took 3275010101900001.5 seconds",  # the whole part of a decimal
        "card 5200100012345678",  # a Prakerja card number: no valid day of birth
        "order 9911010101900001",  # 99 is no province
        "ref 3275013201900001",  # day 32
        "ref 3275010113900001",  # month 13
        "id 32750101019000011",  # 17 digits
    ],
)
def test_numbers_that_are_not_nik_shaped_stay_readable(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "NIK 3275014101900001 (perempuan)",
            "NIK 3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001 (perempuan)",
        ),
        (
            "3275010101900001,3175010101900002",
            "3275\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220001,3175\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220002",
        ),
        ("nik=1101017112990009.", "nik=1101\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u20220009."),
    ],
)
def test_nik_shaped_numbers_are_masked(text, masked):
    assert redact(text) == masked


@pytest.mark.django_db
def test_a_403_is_one_log_line_without_a_traceback(client, django_user_model):
    """Reloading a forbidden page must not grow the log by a traceback each time."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactPersonalData) for f in h.filters)
    )
    stream = io.StringIO()
    old_stream = handler.setStream(stream)
    try:
        user = django_user_model.objects.create_user(email="pemohon@example.id", password="x" * 12)
        client.force_login(user)
        response = client.get("/staf/kyc/foto/1/selfie/")
        assert response.status_code == 403
    finally:
        handler.setStream(old_stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0] and "/staf/kyc/foto/1/selfie/" in lines[0]
    assert "Traceback" not in stream.getvalue()
