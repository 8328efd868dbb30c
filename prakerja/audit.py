"""The audit log: one call for every officer or system action that matters."""

from __future__ import annotations

from typing import Any

from django.db import models

from prakerja.models import AuditEntry

SYSTEM = "system"


def audit_log(
    *, actor, action: str, obj: models.Model | None = None, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Record that ``actor`` (a user, or None for the system) did ``action`` on ``obj``.

    ``data`` must not contain full NIKs, photos or secrets: callers pass masked
    values. Call it inside the transaction of the change it records so the two
    land together or not at all.
    """
    entry = AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=str(actor) if getattr(actor, "pk", None) else SYSTEM,
        action=action,
        data=data or {},
    )
    if obj is not None:
        entry.target_type = obj._meta.label_lower
        entry.target_id = str(obj.pk)
        entry.target_repr = str(obj)[:200]
    entry.save()
    return entry


def audit_entries_for(obj: models.Model):
    return AuditEntry.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))


def field_changes_apply(instance: models.Model, fields: dict[str, Any]) -> dict[str, list]:
    """Set ``fields`` on ``instance`` and return what changed, as an audit record's ``changes``.

    ``{name: [before, after]}`` as text; a new row (no primary key yet) lists every field with before
    None. Fields already equal are left out, so an empty result means nothing to save or audit.
    """
    if instance.pk is None:
        for name, value in fields.items():
            setattr(instance, name, value)
        return {name: [None, str(value)] for name, value in fields.items()}
    changes = {
        name: [str(getattr(instance, name)), str(value)]
        for name, value in fields.items()
        if getattr(instance, name) != value
    }
    for name in changes:
        setattr(instance, name, fields[name])
    return changes
