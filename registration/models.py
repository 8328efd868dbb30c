from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prakerja.masking import mask_identifier
from registration.enums import Channel, CivilRegistryStatus, Education, EmploymentStatus, Gender


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


class Applicant(models.Model):
    """One person applying to the programme. One NIK, one applicant.

    Created with the account (online) or by Disnaker staff (offline). The
    profile fields are filled in by the applicant; the civil-registry,
    exclusion and priority fields only by services.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="applicant",
        verbose_name=_("account"),
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    # Identity, as on the KTP. NIK is null until the profile is submitted.
    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True)
    kk_number = models.CharField(_("family card number (KK)"), max_length=16, blank=True, db_index=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    birth_place = models.CharField(_("place of birth"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    address = models.TextField(_("address"), blank=True)
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
    )
    regency = models.ForeignKey(
        Regency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("regency/city"),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    education = models.CharField(_("last education"), max_length=10, choices=Education.choices, blank=True)
    employment_status = models.CharField(
        _("employment status"), max_length=20, choices=EmploymentStatus.choices, blank=True
    )
    # The applicant declared, at this time and against this text version, that
    # they are not ASN, TNI/Polri, village official, DPR/DPRD, BUMN/BUMD board,
    # nor in formal education.
    declarations_version = models.CharField(_("declarations version"), max_length=20, blank=True)
    declarations_at = models.DateTimeField(_("declarations made"), null=True, blank=True)
    consent_version = models.CharField(_("consent version (UU PDP)"), max_length=20, blank=True)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    profile_completed_at = models.DateTimeField(_("profile completed"), null=True, blank=True)

    # Mobile number in E.164 (+628...), verified by SMS code.
    phone = models.CharField(_("mobile number"), max_length=20, blank=True, db_index=True)
    phone_verified_at = models.DateTimeField(_("mobile number verified"), null=True, blank=True)

    # Civil registry (Dukcapil) check.
    civil_status = models.CharField(
        _("civil registry check"),
        max_length=12,
        choices=CivilRegistryStatus.choices,
        default=CivilRegistryStatus.NOT_CHECKED,
        db_index=True,
    )
    civil_checked_at = models.DateTimeField(_("civil registry checked"), null=True, blank=True)
    civil_mismatch_fields = models.JSONField(_("fields that do not match"), default=list, blank=True)

    # Exclusion and priority lists (set by set-based services, never by hand).
    is_excluded = models.BooleanField(_("excluded"), default=False, db_index=True)
    exclusion_reason = models.CharField(_("exclusion reason"), max_length=200, blank=True)
    is_priority = models.BooleanField(_("priority"), default=False)
    priority_source = models.CharField(_("priority source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        constraints = [models.UniqueConstraint(fields=["nik"], name="applicant_unique_nik")]
        indexes = [
            models.Index(fields=["province", "civil_status"], name="applicant_province_civil_idx"),
        ]
        permissions = [
            ("view_full_nik", _("Can see full NIK and KK numbers")),
            ("register_offline", _("Can register applicants offline (Disnaker)")),
        ]

    def __str__(self) -> str:
        name = self.full_name or str(self.user)
        return f"{name} ({self.masked_nik})" if self.nik else name

    @property
    def masked_nik(self) -> str:
        return mask_identifier(self.nik)

    @property
    def masked_kk(self) -> str:
        return mask_identifier(self.kk_number)
