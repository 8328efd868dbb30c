"""The complaints panel on the dashboard: a person's open tickets and the way to file one; for Disnaker
staff, the way to file for the people they registered offline."""

from __future__ import annotations

from oversight.selectors import complaints_of
from prakerja.dashboard import Panel


def dashboard_panels(request) -> list[Panel]:
    user = request.user
    if getattr(user, "disnaker", None) is not None:
        return [Panel(template="oversight/_dashboard_panel_staff.html", order=95)]
    if user.is_staff:
        if user.has_perm("oversight.use_monitoring"):
            return [Panel(template="oversight/_dashboard_panel_monitor.html", order=5)]
        return []
    recent = list(complaints_of(user).order_by("-id")[:3])
    return [Panel(template="oversight/_dashboard_panel.html", context={"complaints": recent}, order=95)]
