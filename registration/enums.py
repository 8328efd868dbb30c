from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Education(models.TextChoices):
    NONE = "none", _("Did not finish primary school")
    SD = "sd", _("Primary school (SD)")
    SMP = "smp", _("Junior high school (SMP)")
    SMA = "sma", _("Senior high school (SMA/SMK)")
    D3 = "d3", _("Diploma (D1-D3)")
    S1 = "s1", _("Bachelor (D4/S1)")
    S2 = "s2", _("Master or doctorate (S2/S3)")


class EmploymentStatus(models.TextChoices):
    NOT_WORKING = "not_working", _("Not working")
    LAID_OFF = "laid_off", _("Laid off (PHK)")
    FURLOUGHED = "furloughed", _("Furloughed (dirumahkan)")
    INFORMAL = "informal", _("Informal worker")
    MICRO_BUSINESS = "micro_business", _("Micro or small business owner")
    EMPLOYED = "employed", _("Employed")


class CivilRegistryStatus(models.TextChoices):
    NOT_CHECKED = "not_checked", pgettext_lazy("civil registry", "Not checked yet")
    PENDING = "pending", pgettext_lazy("civil registry", "Being checked")
    VERIFIED = "verified", pgettext_lazy("civil registry", "Verified")
    MISMATCH = "mismatch", pgettext_lazy("civil registry", "Data does not match")
    NOT_FOUND = "not_found", pgettext_lazy("civil registry", "NIK not found")
    UNAVAILABLE = "unavailable", pgettext_lazy("civil registry", "Registry unavailable, retrying")


class Channel(models.TextChoices):
    ONLINE = "online", pgettext_lazy("registration channel", "Online")
    OFFLINE = "offline", pgettext_lazy("registration channel", "Offline (Disnaker)")


class ScreeningKind(models.TextChoices):
    EXCLUSION = "exclusion", pgettext_lazy("screening list", "Exclusion list")
    PRIORITY = "priority", pgettext_lazy("screening list", "Priority list")


class ScreeningCategory(models.TextChoices):
    """Who is on a list. The exclusion reasons come from the programme rules."""

    CIVIL_SERVANT = "asn", _("Civil servant (ASN)")
    MILITARY_POLICE = "tni_polri", _("TNI/Polri member")
    VILLAGE_OFFICIAL = "village", _("Village head or village official")
    LEGISLATOR = "dprd", _("DPR/DPRD member")
    STATE_COMPANY_BOARD = "bumn", _("BUMN/BUMD director or commissioner")
    STUDENT = "student", _("In formal education (Dapodik/EMIS)")
    AID_RECIPIENT = "aid", _("Recipient of other social aid (DTKS, BSU, BPUM)")
    PAST_PARTICIPANT = "past_participant", _("Past Prakerja participant")
    LAID_OFF = "laid_off", _("Laid-off worker (BPJS Ketenagakerjaan/Kemnaker)")
    OTHER = "other", _("Other")


class ImportKind(models.TextChoices):
    SCREENING_LIST = "screening_list", pgettext_lazy("import", "Exclusion or priority list")
    OFFLINE_REGISTRATION = "offline", pgettext_lazy("import", "Offline registration (Disnaker)")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", pgettext_lazy("import", "Waiting to be checked")
    VALIDATING = "validating", pgettext_lazy("import", "Checking the file")
    VALIDATED = "validated", pgettext_lazy("import", "Checked: waiting for confirmation")
    IMPORTING = "importing", pgettext_lazy("import", "Importing")
    DONE = "done", pgettext_lazy("import", "Finished")
    FAILED = "failed", pgettext_lazy("import", "Failed")
    CANCELLED = "cancelled", pgettext_lazy("import", "Cancelled")


class KemnakerStatus(models.TextChoices):
    """Where an offline registration stands with Kemnaker (empty: no approval needed)."""

    NOT_REQUIRED = "", pgettext_lazy("kemnaker", "Not required")
    WAITING = "waiting", pgettext_lazy("kemnaker", "Waiting for Kemnaker")
    APPROVED = "approved", pgettext_lazy("kemnaker", "Approved by Kemnaker")
    RETURNED = "returned", pgettext_lazy("kemnaker", "Returned by Kemnaker")


class SubmissionStatus(models.TextChoices):
    SENT = "sent", pgettext_lazy("submission", "Waiting for Kemnaker")
    APPROVED = "approved", pgettext_lazy("submission", "Approved")
    PARTLY_APPROVED = "partly", pgettext_lazy("submission", "Partly approved")
    RETURNED = "returned", pgettext_lazy("submission", "Returned")


class ItemDecision(models.TextChoices):
    PENDING = "pending", pgettext_lazy("submission", "Waiting for review")
    APPROVED = "approved", pgettext_lazy("submission", "Approved")
    RETURNED = "returned", pgettext_lazy("submission", "Returned")


class ReturnReason(models.TextChoices):
    """Why Kemnaker returns a person: each says what is missing, in words the person understands."""

    CIVIL_DATA = "civil_data", _("The data does not match the civil registry (Dukcapil)")
    DUPLICATE = "duplicate", _("Possibly registered twice (another province or online)")
    DOCUMENTS = "documents", _("The signed declarations and consent are missing")
    PHONE = "phone", _("The mobile number is missing or wrong")
    ADDRESS = "address", _("The address or district is incomplete")
    OTHER = "other", _("Other (see the note)")
