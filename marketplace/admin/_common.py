"""Helpers shared by the marketplace console pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
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
