"""Demo data for the embedded setup: officer accounts and one applicant.

Every app may have a ``demo.py`` with ``demo_load(*, stdout) -> list[DemoLogin]``;
``manage.py load_demo`` runs them in INSTALLED_APPS order. Each must be
idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from prakerja.roles import Role

DEMO_PASSWORD = "prakerja-demo-2026"  # noqa: S105 - printed by load_demo on purpose


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str = DEMO_PASSWORD


def demo_user(
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    staff: bool = False,
    superuser: bool = False,
    roles=(),
):
    """Get or create a demo account with a verified email address. Never resets an existing password."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": staff or superuser,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


def demo_load(*, stdout) -> list[DemoLogin]:
    demo_user("admin@prakerja.test", first_name="Admin", last_name="Sistem", superuser=True)
    demo_user(
        "petugas@prakerja.test",
        first_name="Rina",
        last_name="Wulandari",
        staff=True,
        roles=[Role.PROGRAMME_OFFICER],
    )
    demo_user(
        "kyc@prakerja.test", first_name="Budi", last_name="Santoso", staff=True, roles=[Role.KYC_REVIEWER]
    )
    demo_user(
        "keuangan@prakerja.test",
        first_name="Sari",
        last_name="Lestari",
        staff=True,
        roles=[Role.FINANCE_OFFICER],
    )
    demo_user("peserta@prakerja.test", first_name="Dewi", last_name="Anggraini")
    return [
        DemoLogin("admin@prakerja.test", "superuser (all of the console)"),
        DemoLogin("petugas@prakerja.test", Role.PROGRAMME_OFFICER.value),
        DemoLogin("kyc@prakerja.test", Role.KYC_REVIEWER.value),
        DemoLogin("keuangan@prakerja.test", Role.FINANCE_OFFICER.value),
        DemoLogin("peserta@prakerja.test", "applicant"),
    ]
