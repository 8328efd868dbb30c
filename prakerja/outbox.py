"""What the outboxes share (notifications, webhooks to platforms): backoff and the sweeper's lease.

An outbox row is ``queued`` until a task claims it (``sending``, compare-and-swap) and then
``sent``/``delivered`` or back to ``queued`` with a later ``next_attempt_at``. The sweeper
puts rows stuck in ``sending`` back and hands out the due ones, marking each with
``sending_started_at`` as a lease so that the next sweep does not dispatch it again while
its task still waits in the broker.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Model, Q
from django.utils import timezone

LEASE_UPDATE_CHUNK = 5000


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failed attempt, doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def outbox_sweep_due(
    model: type[Model], *, queued: str, sending: str, stuck_after_seconds: int, limit: int
) -> tuple[int, list[int]]:
    """Requeue rows stuck in ``sending``; lease and return up to ``limit`` due ids (oldest first).

    Returns (number requeued, due ids) for the caller to dispatch.
    """
    now = timezone.now()
    stuck_before = now - timedelta(seconds=stuck_after_seconds)
    rows = model.objects
    requeued = rows.filter(status=sending, sending_started_at__lt=stuck_before).update(
        status=queued, next_attempt_at=now, sending_started_at=None
    )
    due = list(
        rows.filter(status=queued, next_attempt_at__lte=now)
        .filter(Q(sending_started_at__isnull=True) | Q(sending_started_at__lt=stuck_before))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    for start in range(0, len(due), LEASE_UPDATE_CHUNK):
        rows.filter(id__in=due[start : start + LEASE_UPDATE_CHUNK], status=queued).update(
            sending_started_at=now
        )
    return requeued, due
