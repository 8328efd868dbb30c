"""Helpers shared by the marketplace console pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from marketplace.exceptions import MarketplaceError
from prakerja.audit import audit_entries_for


def audit_history(obj) -> str:
    if obj is None or obj.pk is None:
        return "-"
    entries = audit_entries_for(obj).order_by("-created_at")[:20]
    return (
        format_html_join(
            "",
            "<div>{} · {} · {} {}</div>",
            (
                (
                    f"{entry.created_at:%Y-%m-%d %H:%M}",
                    entry.actor_repr,
                    entry.action,
                    entry.data.get("reason") or "",
                )
                for entry in entries
            ),
        )
        or "-"
    )


URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))


def run_for_each(modeladmin, request, queryset, *, call, done_message) -> None:
    done, refused = 0, []
    for obj in queryset:
        try:
            call(obj)
        except (MarketplaceError, ValidationError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc.message)
            refused.append(f"{obj}: {text}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done}, messages.SUCCESS)
    for line in refused[:20]:
        modeladmin.message_user(request, line, messages.WARNING)


def with_reason(modeladmin, request, queryset, *, title, call, done_message, required=True):
    """An action that asks for a reason on an intermediate page, then calls the service per object."""
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        form.fields["reason"].required = required
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            run_for_each(
                modeladmin,
                request,
                queryset,
                call=lambda obj: call(obj, reason),
                done_message=done_message,
            )
            return None
    else:
        form = ReasonForm()
        form.fields["reason"].required = required
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/marketplace/reason.html", context)


class ServiceSaveMixin:
    """For admins whose save_model calls a service: a refusal is shown and the form stays open.

    ``save_model`` calls ``self.refused(request, message)`` when the service says no;
    nothing is saved and the officer is sent back to the form with the message.
    """

    def refused(self, request, message) -> None:
        request._console_refused = True
        self.message_user(request, str(message), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        if not getattr(request, "_console_refused", False):
            super().save_related(request, form, formsets, change)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_console_refused", False):
            return redirect(request.path)
        return super().response_change(request, obj)

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, "_console_refused", False):
            return []  # the formsets were not saved
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        if not getattr(request, "_console_refused", False):
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request, obj, message):
        if not getattr(request, "_console_refused", False):
            return super().log_change(request, obj, message)
        return None
