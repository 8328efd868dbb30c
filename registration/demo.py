from __future__ import annotations

from prakerja.demo import DemoLogin, demo_user
from prakerja.roles import Role
from registration.models import DisnakerStaff, Province


def demo_load(*, stdout) -> list[DemoLogin]:
    user = demo_user(
        "disnaker.jabar@prakerja.test",
        first_name="Agus",
        last_name="Permana",
        staff=True,
        roles=[Role.DISNAKER_STAFF],
    )
    DisnakerStaff.objects.get_or_create(
        user=user,
        defaults={"province": Province.objects.get(code="32"), "office_name": "Disnakertrans Jawa Barat"},
    )
    return [DemoLogin("disnaker.jabar@prakerja.test", f"{Role.DISNAKER_STAFF.value} (Jawa Barat)")]
