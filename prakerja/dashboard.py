"""The applicant dashboard is assembled from every app's ``dashboard.py``.

An app contributes timeline steps (``dashboard_steps(request)``) and panels
(``dashboard_panels(request)``). The collector finds them through
INSTALLED_APPS, so apps lower in the lifecycle never import higher ones and the
view never needs to know which apps exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import import_module
from importlib.util import find_spec

from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StepStatus(models.TextChoices):
    DONE = "done", pgettext_lazy("timeline step", "Done")
    CURRENT = "current", pgettext_lazy("timeline step", "Your turn")
    WAITING = "waiting", pgettext_lazy("timeline step", "In progress")
    FAILED = "failed", pgettext_lazy("timeline step", "Needs attention")
    LOCKED = "locked", pgettext_lazy("timeline step", "Not yet")


@dataclass
class Step:
    key: str
    title: str
    status: str
    detail: str = ""
    action_url: str = ""
    action_label: str = ""
    # The action changes something (e.g. "check my NIK again"): a POST button instead of a link.
    action_post: bool = False
    # While a step is WAITING the page polls for changes (e.g. a face check running).
    polls: bool = False


@dataclass
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


# The lifecycle in the order a person meets it. Apps contribute steps in INSTALLED_APPS order (lowest
# app first), which is not the lifecycle's order (disbursement sits below cohorts), so the collector sorts
# by this list; a key not listed here goes last.
STEP_ORDER = (
    "account",
    "email",
    "profile",
    "phone",
    "nik_check",
    "screening",
    "kyc",
    "wave",
    "card",
    "training_buy",
    "training_finish",
    "rating",
    "payout_account",
    "incentive",
    "survey",
)


def _step_rank(step: Step) -> int:
    try:
        return STEP_ORDER.index(step.key)
    except ValueError:
        return len(STEP_ORDER)


def _hook_modules():
    for config in apps.get_app_configs():
        name = f"{config.name}.dashboard"
        if find_spec(name) is not None:
            yield import_module(name)


def collect(request) -> tuple[list[Step], list[Panel]]:
    steps: list[Step] = []
    panels: list[Panel] = []
    for module in _hook_modules():
        if hasattr(module, "dashboard_steps"):
            steps.extend(module.dashboard_steps(request))
        if hasattr(module, "dashboard_panels"):
            panels.extend(module.dashboard_panels(request))
    steps.sort(key=_step_rank)
    panels.sort(key=lambda panel: panel.order)
    return steps, panels


def next_step(steps: list[Step]) -> Step | None:
    for step in steps:
        if step.status in (StepStatus.FAILED, StepStatus.CURRENT, StepStatus.WAITING):
            return step
    return None


def fingerprint(steps: list[Step]) -> str:
    raw = "|".join(f"{s.key}:{s.status}:{s.detail}" for s in steps)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def dashboard_steps(request) -> list[Step]:
    """The account steps every applicant starts with."""
    user = request.user
    verified = EmailAddress.objects.filter(user=user, verified=True).exists()
    return [
        Step(
            key="account",
            title=_("Account created"),
            status=StepStatus.DONE,
            detail=user.email,
        ),
        Step(
            key="email",
            title=_("Email verified"),
            status=StepStatus.DONE if verified else StepStatus.CURRENT,
            detail="" if verified else _("Open the link we sent to your email to continue."),
            action_url="" if verified else reverse("account_email"),
            action_label="" if verified else _("Resend the link"),
        ),
    ]
