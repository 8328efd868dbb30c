from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from prakerja.models import OneTimeCode
from prakerja.otp import OtpError, otp_active
from prakerja.slots import Memo, slots_fill, slots_render
from registration import imports, services
from registration.enums import Channel, CivilRegistryStatus, ImportKind, ImportStatus
from registration.forms import (
    ClaimForm,
    CodeForm,
    OfflineImportForm,
    OfflineRegistrationForm,
    PhoneForm,
    ProfileForm,
    apply_registration_errors,
    profile_initial,
)
from registration.import_values import CODED_COLUMNS, offline_template_xlsx
from registration.models import Applicant, ImportJob
from registration.phones import phone_display, phone_masked
from registration.regions import region_choices
from registration.selectors import applicant_for_user, applicant_row_of_user

# --- Regions (public, cacheable) ------------------------------------------------


@require_GET
@cache_control(public=True, max_age=86400)
def regencies(request: HttpRequest) -> JsonResponse:
    parent = request.GET.get("parent", "")
    rows = region_choices("regency", parent)
    return JsonResponse({"results": [{"code": code, "name": name} for code, name in rows]})


@require_GET
@cache_control(public=True, max_age=86400)
def districts(request: HttpRequest) -> JsonResponse:
    parent = request.GET.get("parent", "")
    rows = region_choices("district", parent)
    return JsonResponse({"results": [{"code": code, "name": name} for code, name in rows]})


# --- Applicant ----------------------------------------------------------------


# The blank profile page of a first-time applicant, per language and day (the birth date's
# limits): the same for everyone but the CSRF token and the address the language switch
# returns to, so it is rendered once per process and served with those filled in.
_blank_profile_pages = Memo(8)


def blank_profile_pages_clear() -> None:
    _blank_profile_pages.clear()


def _blank_profile_page(request: HttpRequest) -> HttpResponse:
    key = (translation.get_language(), timezone.localdate().isoformat())
    parts = _blank_profile_pages.get(key)
    if parts is None:

        def render_page(tokens: dict[str, str]) -> str:
            context = {
                "form": ProfileForm(),
                "applicant": None,
                "locked": False,
                "first_time": True,
                "consent_version": settings.REGISTRATION_CONSENT_VERSION,
                "csrf_token": tokens["csrf"],
                "language_next": tokens["next"],
            }
            return render_to_string("registration/profile_form.html", context, request)

        parts = slots_render(render_page, ["csrf", "next"])
        _blank_profile_pages.set(key, parts)
    return HttpResponse(
        slots_fill(parts, {"csrf": get_token(request), "next": escape(request.get_full_path())})
    )


@login_required
@never_cache
def profile_edit(request: HttpRequest) -> HttpResponse:
    applicant = applicant_row_of_user(request.user)
    locked = bool(applicant and applicant.identity_locked)
    initial = profile_initial(applicant)
    if (
        request.method != "POST"
        and not initial
        and not locked
        and not request.user.is_staff
        and not len(get_messages(request))
    ):
        return _blank_profile_page(request)
    if request.method == "POST":
        form = ProfileForm(request.POST, initial=initial, locked=locked)
        if form.is_valid():
            try:
                saved = services.applicant_profile_save(user=request.user, data=form.profile_input())
            except services.RegistrationError as exc:
                apply_registration_errors(form, exc)
            else:
                if saved.civil_status == CivilRegistryStatus.PENDING:
                    messages.success(
                        request, _("Your profile is saved. We are checking your NIK with the civil registry.")
                    )
                else:
                    messages.success(request, _("Your profile is saved."))
                if not (applicant and applicant.phone_verified_at):
                    return redirect("registration:phone")
                return redirect("dashboard")
    else:
        form = ProfileForm(initial=initial, locked=locked)
    return render(
        request,
        "registration/profile_form.html",
        {
            "form": form,
            "applicant": applicant,
            "locked": locked,
            "first_time": not initial,
            "consent_version": settings.REGISTRATION_CONSENT_VERSION,
        },
    )


@login_required
@never_cache
def profile_detail(request: HttpRequest) -> HttpResponse:
    applicant = applicant_for_user(request.user)
    if applicant is None or not applicant.nik:
        return redirect("registration:profile")
    return render(
        request,
        "registration/profile_detail.html",
        {
            "applicant": applicant,
            "phone": phone_display(applicant.phone),
            "eligibility": services.applicant_eligibility(applicant=applicant),
        },
    )


@login_required
@require_POST
def civil_retry(request: HttpRequest) -> HttpResponse:
    """ "Check my NIK" on the dashboard: the same data is checked with Dukcapil again."""
    result = services.applicant_civil_retry(user=request.user)
    if result.queued:
        messages.info(request, _("We are checking your NIK with Dukcapil again. The result appears below."))
    elif result.wait_seconds:
        messages.warning(
            request,
            _("Your NIK was checked a moment ago. You can check again in %(seconds)d seconds.")
            % {"seconds": result.wait_seconds},
        )
    return redirect("dashboard")


@login_required
@never_cache
def phone_start(request: HttpRequest) -> HttpResponse:
    applicant = applicant_for_user(request.user)
    if request.method == "POST":
        form = PhoneForm(request.POST)
        if form.is_valid():
            try:
                services.applicant_phone_code_send(user=request.user, phone=form.cleaned_data["phone"])
            except services.RegistrationError as exc:
                apply_registration_errors(form, exc)
            except OtpError as exc:
                form.add_error("phone", exc.message)
            else:
                return redirect("registration:phone_code")
    else:
        initial = {"phone": phone_display(applicant.phone)} if applicant and applicant.phone else {}
        form = PhoneForm(initial=initial)
    return render(request, "registration/phone_form.html", {"form": form, "applicant": applicant})


@login_required
@never_cache
def phone_code(request: HttpRequest) -> HttpResponse:
    active = otp_active(user=request.user, purpose=services.PHONE_PURPOSE)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_phone_verify(user=request.user, code=form.cleaned_data["code"])
        except services.RegistrationError as exc:
            apply_registration_errors(form, exc, field_map={"phone": "code"})
        except OtpError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, _("Your mobile number is verified."))
            return redirect("dashboard")
    if active is None and request.method == "GET":
        return redirect("registration:phone")
    return render(
        request,
        "registration/code_form.html",
        {
            "form": form,
            "masked_phone": phone_masked(active.phone) if active else "",
            "expires_at": active.expires_at if active else None,
            "resend_url": reverse("registration:phone_resend"),
            "change_url": reverse("registration:phone"),
            "title": _("Enter the code we sent"),
        },
    )


@login_required
@require_POST
def phone_resend(request: HttpRequest) -> HttpResponse:
    last = (
        OneTimeCode.objects.filter(user=request.user, purpose=services.PHONE_PURPOSE)
        .order_by("-created_at")
        .first()
    )
    if last is None:
        return redirect("registration:phone")
    try:
        services.applicant_phone_code_send(user=request.user, phone=last.phone)
    except (OtpError, services.RegistrationError) as exc:
        message = exc.message if isinstance(exc, OtpError) else next(iter(exc.errors.values()))[0][1]
        messages.error(request, message)
    else:
        messages.success(request, _("We sent a new code. Earlier codes no longer work."))
    return redirect("registration:phone_code")


@login_required
@never_cache
def claim_start(request: HttpRequest) -> HttpResponse:
    applicant = applicant_for_user(request.user)
    if applicant and applicant.nik:
        messages.info(request, _("Your account already has a profile."))
        return redirect("dashboard")
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_claim_start(
                user=request.user, nik=form.cleaned_data["nik"], phone=form.cleaned_data["phone"]
            )
        except services.RegistrationError as exc:
            apply_registration_errors(form, exc)
        except OtpError as exc:
            form.add_error("phone", exc.message)
        else:
            request.session["registration_claim_nik"] = services.nik_clean(form.cleaned_data["nik"])
            return redirect("registration:claim_code")
    return render(request, "registration/claim_form.html", {"form": form})


@login_required
@never_cache
def claim_code(request: HttpRequest) -> HttpResponse:
    nik = request.session.get("registration_claim_nik")
    active = otp_active(user=request.user, purpose=services.CLAIM_PURPOSE)
    if not nik:
        return redirect("registration:claim")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_claim_confirm(user=request.user, nik=nik, code=form.cleaned_data["code"])
        except services.RegistrationError as exc:
            apply_registration_errors(form, exc, field_map={"nik": "code"})
        except OtpError as exc:
            form.add_error("code", exc.message)
        else:
            request.session.pop("registration_claim_nik", None)
            messages.success(request, _("Your registration from the Disnaker office is now in your account."))
            return redirect("dashboard")
    return render(
        request,
        "registration/code_form.html",
        {
            "form": form,
            "masked_phone": phone_masked(active.phone) if active else "",
            "expires_at": active.expires_at if active else None,
            "resend_url": "",
            "change_url": reverse("registration:claim"),
            "title": _("Enter the code we sent"),
        },
    )


# --- Disnaker staff (/staf/) ----------------------------------------------------------


def disnaker_required(view):
    """Signed-in Disnaker staff with the offline-registration permission; others get 403."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        staff = getattr(request.user, "disnaker", None)
        if staff is None or not request.user.has_perm("registration.register_offline"):
            raise PermissionDenied
        request.disnaker = staff
        return view(request, *args, **kwargs)

    return wrapper


@disnaker_required
@never_cache
def staff_home(request: HttpRequest) -> HttpResponse:
    province = request.disnaker.province
    applicants = (
        Applicant.objects.filter(channel=Channel.OFFLINE, province=province)
        .select_related("district", "regency", "registered_by")
        .order_by("-created_at", "-id")
    )
    page = Paginator(applicants, 25).get_page(request.GET.get("page"))
    jobs = ImportJob.objects.filter(kind=ImportKind.OFFLINE_REGISTRATION, province=province).select_related(
        "created_by"
    )[:10]
    return render(
        request,
        "registration/staff/home.html",
        {"staff": request.disnaker, "page": page, "jobs": jobs},
    )


@disnaker_required
@never_cache
def staff_register(request: HttpRequest) -> HttpResponse:
    province = request.disnaker.province
    form = OfflineRegistrationForm(
        request.POST or None, province=province, initial={"province": province.code}
    )
    if request.method == "POST" and form.is_valid():
        try:
            applicant = services.applicant_register_offline(
                staff_user=request.user, data=form.profile_input(), phone=form.cleaned_data["phone"]
            )
        except services.RegistrationError as exc:
            apply_registration_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered (NIK %(nik)s). An SMS tells them how to continue online.")
                % {"name": applicant.full_name, "nik": applicant.masked_nik},
            )
            return redirect("registration:staff_home")
    return render(request, "registration/staff/register.html", {"form": form, "staff": request.disnaker})


@disnaker_required
@never_cache
def staff_import(request: HttpRequest) -> HttpResponse:
    form = OfflineImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_job_create(
                kind=ImportKind.OFFLINE_REGISTRATION,
                upload=form.cleaned_data["file"],
                user=request.user,
                province=request.disnaker.province,
                consent_confirmed=True,
            )
        except imports.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("registration:staff_import_detail", job_id=job.pk)
    return render(
        request,
        "registration/staff/import.html",
        {
            "form": form,
            "staff": request.disnaker,
            "columns": imports.OFFLINE_COLUMNS,
            "coded_columns": CODED_COLUMNS,
        },
    )


@disnaker_required
def staff_import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(imports.offline_template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="template-pendaftaran-offline.csv"'
    return response


@disnaker_required
def staff_import_template_xlsx(request: HttpRequest) -> HttpResponse:
    """The template with drop-downs of the accepted values (Excel data validation)."""
    response = HttpResponse(
        offline_template_xlsx(imports.OFFLINE_COLUMNS),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="template-pendaftaran-offline.xlsx"'
    return response


def _staff_job(request, job_id: int) -> ImportJob:
    job = get_object_or_404(
        ImportJob.objects.select_related("created_by", "province"),
        pk=job_id,
        kind=ImportKind.OFFLINE_REGISTRATION,
    )
    if job.province_id != request.disnaker.province_id:
        raise Http404
    return job


@disnaker_required
@never_cache
def staff_import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _staff_job(request, job_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm" and imports.import_job_confirm(job=job, actor=request.user):
            messages.success(request, _("The import has started."))
        elif action == "cancel" and imports.import_job_cancel(job=job, actor=request.user):
            messages.info(request, _("The import is cancelled. Nothing was registered."))
        return redirect("registration:staff_import_detail", job_id=job.pk)
    return render(
        request,
        "registration/staff/import_detail.html",
        {"job": job, "staff": request.disnaker, "statuses": ImportStatus},
    )
