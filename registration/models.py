from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Regency(models.Model):
    """Kabupaten or kota. ``code`` is dotted: ``32.75``."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="regencies")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("regency/city")
        verbose_name_plural = _("regencies/cities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """Kecamatan. ``code`` is dotted (``32.75.01``); a NIK starts with it undotted."""

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="districts")
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def nik_prefix(self) -> str:
        return self.code.replace(".", "")

    @staticmethod
    def code_from_nik(nik: str) -> str:
        return f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"


class DisnakerStaff(models.Model):
    """A regional labour office (Disnaker) account, bound to one province."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disnaker", verbose_name=_("user")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="disnaker_staff", verbose_name=_("province")
    )
    office_name = models.CharField(_("office"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Disnaker staff member")
        verbose_name_plural = _("Disnaker staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.province})"
