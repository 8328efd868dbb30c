"""Waves, joining, selection, announcement, deadlines. Every write that matters."""

from __future__ import annotations

import datetime
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import luhn

from cohorts import draw, selection
from cohorts.enums import ApplicationStatus, ParticipantStatus, RunKind, RunStatus, WaveStatus
from cohorts.models import Application, Blacklist, Participant, Programme, ProvinceQuota, SelectionRun, Wave
from disbursement.enums import AccountKind, EntitlementReason, ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.selectors import ledger_accounts_without_movement
from disbursement.services import (
    BulkResult,
    entitlements_hold_for_owner,
    ledger_accounts_open_credited_bulk,
    ledger_credit_bulk,
    ledger_forfeit_bulk,
    ledger_programme_account_open,
)
from kyc.selectors import kyc_is_verified
from prakerja.audit import audit_log
from prakerja.db import tune_for_bulk
from prakerja.enums import NotificationChannel, NotificationStatus
from prakerja.models import Notification, User
from prakerja.notifications import render_message
from registration.kemnaker import offline_approval_rule_apply
from registration.models import Applicant, Province
from registration.services import applicant_eligibility, screening_apply_all

logger = logging.getLogger(__name__)

CARD_PREFIX = "52"
# Multiplier for scrambling card serials: coprime with 10**10, so the map
# ordinal -> serial is a bijection and neighbouring participants do not get
# neighbouring card numbers.
CARD_SERIAL_MULTIPLIER = 7_919_003_573
CARD_SERIAL_SPACE = 10**10
BULK_BATCH = 20_000


class CohortError(Exception):
    """A refused action, with a message for the person who asked."""


# --- Programme settings -----------------------------------------------------


def programme_get() -> Programme:
    programme = Programme.objects.filter(pk=1).first()
    if programme is None:
        programme, _created = Programme.objects.get_or_create(
            pk=1, defaults={"end_date": datetime.date(timezone.localdate().year, 12, 31)}
        )
    return programme


# --- Wave status transitions --------------------------------------------------


def _transition(wave: Wave, *, expected: tuple[str, ...], new: str, actor, action: str) -> Wave:
    with transaction.atomic():
        changed = Wave.objects.filter(pk=wave.pk, status__in=expected).update(status=new)
        if not changed:
            wave.refresh_from_db()
            raise CohortError(
                _("%(wave)s is %(status)s; this step is not possible now.")
                % {"wave": wave, "status": wave.get_status_display()}
            )
        wave.refresh_from_db()
        audit_log(actor=actor, action=action, obj=wave, data={"status": new})
    return wave


def wave_open(*, wave: Wave, actor=None) -> Wave:
    other = Wave.objects.filter(status=WaveStatus.OPEN).exclude(pk=wave.pk).first()
    if other:
        raise CohortError(_("%(wave)s is still open. Close it first.") % {"wave": other})
    wave = _transition(
        wave, expected=(WaveStatus.DRAFT,), new=WaveStatus.OPEN, actor=actor, action="cohorts.wave_open"
    )
    # The seed is fixed (and its SHA-256 published) before anyone can join.
    draw.wave_seed_commit(wave=wave, actor=actor)
    return wave


def wave_close(*, wave: Wave, actor=None) -> Wave:
    return _transition(
        wave, expected=(WaveStatus.OPEN,), new=WaveStatus.CLOSED, actor=actor, action="cohorts.wave_close"
    )


def waves_close_due() -> int:
    """Close every open wave whose registration period is over (periodic)."""
    closed = 0
    for wave in Wave.objects.filter(status=WaveStatus.OPEN, closes_at__lte=timezone.now()):
        try:
            wave_close(wave=wave)
            closed += 1
        except CohortError:
            continue
    return closed


# --- Joining a wave ("Gabung Gelombang") ---------------------------------------


@dataclass
class Reason:
    code: str
    message: str


@dataclass
class JoinCheck:
    eligible: bool
    reasons: list[Reason] = field(default_factory=list)


def wave_current() -> Wave | None:
    """The wave applicants can join now, if any."""
    now = timezone.now()
    return (
        Wave.objects.filter(status=WaveStatus.OPEN, opens_at__lte=now, closes_at__gt=now)
        .order_by("number")
        .first()
    )


def wave_join_check(*, applicant: Applicant, wave: Wave | None) -> JoinCheck:
    """Whether ``applicant`` may join ``wave`` now, with every reason they may not."""
    reasons = [Reason(r.code, str(r.message)) for r in applicant_eligibility(applicant=applicant).reasons]
    if not kyc_is_verified(applicant):
        reasons.append(
            Reason("kyc_not_verified", _("Your identity (selfie and KTP) has not been verified yet."))
        )
    if Participant.objects.filter(applicant=applicant).exists():
        reasons.append(Reason("participant", _("You are already a Prakerja participant.")))
    blacklisting = Blacklist.objects.filter(applicant=applicant).first()
    if blacklisting:
        reasons.append(
            Reason(
                "blacklisted",
                _("You can no longer join a wave: %(reason)s") % {"reason": blacklisting.reason},
            )
        )
    if wave is None or not wave.is_accepting:
        reasons.append(Reason("no_open_wave", _("No wave is open for registration right now.")))
    elif Application.objects.filter(wave=wave, applicant=applicant).exists():
        reasons.append(Reason("already_joined", _("You have already joined this wave.")))
    pending_elsewhere = Application.objects.filter(applicant=applicant, status=ApplicationStatus.PENDING)
    if wave is not None:
        pending_elsewhere = pending_elsewhere.exclude(wave=wave)
    if pending_elsewhere.exists():
        reasons.append(Reason("pending_elsewhere", _("Wait for the result of the wave you already joined.")))
    return JoinCheck(eligible=not reasons, reasons=reasons)


def application_create(*, applicant: Applicant, wave: Wave) -> Application:
    """Join ``wave``. Raises CohortError with the first reason when not allowed."""
    check = wave_join_check(applicant=applicant, wave=wave)
    if not check.eligible:
        raise CohortError(check.reasons[0].message)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                wave=wave,
                applicant=applicant,
                province_id=applicant.province_id,
                kk_number=applicant.kk_number,
                is_priority=applicant.is_priority,
            )
            audit_log(
                actor=applicant.user,
                action="cohorts.wave_joined",
                obj=application,
                data={
                    "wave": wave.number,
                    "province": applicant.province_id,
                    "priority": applicant.is_priority,
                },
            )
    except IntegrityError as exc:
        raise CohortError(_("You have already joined this wave.")) from exc
    return application


# --- Selection and announcement runs -----------------------------------------


def selection_run_request(*, wave: Wave, kind: str, seed: str = "", actor=None) -> SelectionRun:
    """Queue a dry run, the selection or the announcement of ``wave`` as a background job."""
    # Cycle: cohorts.tasks imports this module.
    from cohorts.tasks import selection_run_task

    wave.refresh_from_db()
    if kind in (RunKind.DRY_RUN, RunKind.SELECTION):
        if wave.status not in (WaveStatus.CLOSED, WaveStatus.SELECTING):
            raise CohortError(_("Close the wave before running its selection."))
        if wave.selected_at:
            raise CohortError(_("The selection of this wave has already been committed."))
        if wave.committed_seed:
            # Published as a commitment when the wave opened: no other seed may be used.
            if seed.strip() and seed.strip() != wave.committed_seed:
                raise CohortError(
                    _(
                        "This wave's seed was fixed and published when it opened; "
                        "leave the seed empty to use it."
                    )
                )
            seed = wave.committed_seed
        else:
            seed = seed.strip() or secrets.token_hex(16)
    elif kind == RunKind.ANNOUNCEMENT:
        if not wave.selected_at:
            raise CohortError(_("Commit the selection before announcing it."))
        if wave.announced_at:
            raise CohortError(_("This wave has already been announced."))
        seed = wave.selection_seed
    if SelectionRun.objects.filter(wave=wave, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists():
        raise CohortError(_("Another job on this wave is still running."))
    with transaction.atomic():
        run = SelectionRun.objects.create(wave=wave, kind=kind, seed=seed, created_by=actor)
        audit_log(
            actor=actor, action=f"cohorts.{kind}_requested", obj=wave, data={"run": run.pk, "seed": seed}
        )
        # robust: with the broker away the run stays queued and selection_runs_sweep sends it later.
        transaction.on_commit(lambda: selection_run_task.delay(run.pk), robust=True)
    return run


SELECTION_RUN_SWEEP_AFTER = datetime.timedelta(minutes=2)


def selection_runs_sweep(*, now: datetime.datetime | None = None) -> int:
    """Send again the runs still queued a while after they were requested (their task message was lost,
    e.g. the broker was down). Safe: a run starts only once (selection_run_execute claims QUEUED)."""
    from cohorts.tasks import selection_run_task  # cohorts.tasks imports this module

    now = now or timezone.now()
    stale = list(
        SelectionRun.objects.filter(
            status=RunStatus.QUEUED, created_at__lt=now - SELECTION_RUN_SWEEP_AFTER
        ).values_list("pk", flat=True)[:100]
    )
    sent = 0
    for run_id in stale:
        try:
            selection_run_task.delay(run_id)
            sent += 1
        except Exception:  # noqa: BLE001 - the broker is still away: the next sweep tries again
            logger.warning("selection run %s could not be queued; the next sweep tries again", run_id)
            break
    return sent


class _Progress:
    """Reports a job's progress to its row (read by the progress page) and times each stage."""

    def __init__(self, run: SelectionRun):
        self.run_id = run.pk
        self.seconds: dict[str, float] = {}
        self._stage = ""
        self._started = time.monotonic()

    def __call__(self, percent: int, stage: str) -> None:
        self._close_stage()
        self._stage = stage
        # Written outside the job's transaction so the progress page sees it.
        SelectionRun.objects.filter(pk=self.run_id).update(progress=percent, stage=stage)

    def _close_stage(self) -> None:
        now = time.monotonic()
        if self._stage:
            self.seconds[self._stage] = round(self.seconds.get(self._stage, 0) + now - self._started, 2)
        self._started = now

    def finish(self) -> dict[str, float]:
        self._close_stage()
        self._stage = ""
        return self.seconds


def _analyze(*models) -> None:
    """Refresh PostgreSQL's statistics after a bulk change, so the next statement gets a good plan."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def selection_run_execute(*, run_id: int) -> SelectionRun | None:
    """Carry out a queued run. Safe to call twice: only a QUEUED run starts."""
    claimed = SelectionRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return None
    run = SelectionRun.objects.select_related("wave").get(pk=run_id)
    report = _Progress(run)
    try:
        if run.kind == RunKind.DRY_RUN:
            # The dry run shows what the selection would do now, so it re-applies the lists first too
            # (this only brings the applicants' list flags up to date; nothing about the wave changes).
            report(10, "lists")
            screening_apply_all(actor=run.created_by)
            report(40, "draw")
            result = selection.selection_compute(wave=run.wave, seed=run.seed)
            fingerprint, data = result.fingerprint, result.as_dict()
        elif run.kind == RunKind.SELECTION:
            result = _selection_commit(run=run, progress=report)
            fingerprint, data = result.fingerprint, result.as_dict()
        elif run.kind == RunKind.ANNOUNCEMENT:
            data = _announce(run=run, progress=report)
            fingerprint = run.wave.selection_fingerprint
        else:
            notified = _announcement_notifications(wave=run.wave, run=run, progress=report)
            if not notified.finished:
                return _notify_wait(run=run, state=notified, seconds=report.finish())
            data = notified.as_result()
            fingerprint = run.wave.selection_fingerprint
    except Exception as exc:
        logger.exception("selection run %s failed", run_id)
        SelectionRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        if run.kind == RunKind.SELECTION:
            Wave.objects.filter(pk=run.wave_id, status=WaveStatus.SELECTING, selected_at__isnull=True).update(
                status=WaveStatus.CLOSED
            )
        return SelectionRun.objects.get(pk=run_id)
    SelectionRun.objects.filter(pk=run_id).update(
        status=RunStatus.DONE,
        progress=100,
        stage="",
        result={**data, "stage_seconds": report.finish()},
        fingerprint=fingerprint,
        finished_at=timezone.now(),
    )
    return SelectionRun.objects.get(pk=run_id)


def _notify_wait(*, run: SelectionRun, state: NotifyProgress, seconds: dict) -> SelectionRun:
    """Put a notification job that stopped at a full outbox back in the queue, to go on later.

    Sent again after ``NOTIFY_RETRY_SECONDS``; if that message is lost (broker away), the runs
    sweeper sends the queued job again.
    """
    from cohorts.tasks import selection_run_task  # cohorts.tasks imports this module

    SelectionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.QUEUED, stage="outbox", result={**state.as_result(), "stage_seconds": seconds}
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return SelectionRun.objects.get(pk=run.pk)  # in-process tasks: the runs sweeper goes on
    try:
        selection_run_task.apply_async((run.pk,), countdown=NOTIFY_RETRY_SECONDS)
    except Exception:  # noqa: BLE001 - the broker is away: selection_runs_sweep sends it later
        logger.warning("notification job %s could not be queued again; the runs sweeper will", run.pk)
    return SelectionRun.objects.get(pk=run.pk)


def _selection_commit(*, run: SelectionRun, progress) -> selection.SelectionResult:
    progress(10, "lists")
    screening_apply_all(actor=run.created_by)
    with transaction.atomic():
        wave = Wave.objects.select_for_update().get(pk=run.wave_id)
        if wave.selected_at or wave.status not in (WaveStatus.CLOSED, WaveStatus.SELECTING):
            raise CohortError(_("The selection of this wave has already been committed."))
        Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.SELECTING)
        result = selection.selection_apply(wave=wave, seed=run.seed, progress=progress)
        Wave.objects.filter(pk=wave.pk).update(
            selection_seed=run.seed, selection_fingerprint=result.fingerprint, selected_at=timezone.now()
        )
        audit_log(
            actor=run.created_by,
            action="cohorts.selection_committed",
            obj=wave,
            data={
                "run": run.pk,
                "seed": run.seed,
                "fingerprint": result.fingerprint,
                "selected": result.selected,
            },
        )
    return result


def card_number_for(*, wave_number: int, ordinal: int) -> str:
    """16 digits: programme prefix (2), wave (3), scrambled serial (10), Luhn check digit (1)."""
    serial = (ordinal * CARD_SERIAL_MULTIPLIER) % CARD_SERIAL_SPACE
    body = f"{CARD_PREFIX}{wave_number % 1000:03d}{serial:010d}"
    return body + luhn.calc_check_digit(body)


def _announce_bounds(*, wave: Wave, chunk: int) -> list[tuple[int, int | None]]:
    """Ranges ``(after, upto]`` of applicant ids, each holding ``chunk`` selected applications of ``wave``
    (the last one the rest, with ``upto`` None)."""
    table = Application._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT applicant_id FROM (SELECT applicant_id, ROW_NUMBER() OVER (ORDER BY applicant_id) AS n "  # noqa: S608
            f"FROM {table} WHERE wave_id = %s AND status = %s) r WHERE n %% %s = 0 ORDER BY applicant_id",
            [wave.pk, ApplicationStatus.SELECTED, chunk],
        )
        cuts = [row[0] for row in cursor.fetchall()]
    edges = [0, *cuts]
    return [(edges[i], edges[i + 1]) for i in range(len(cuts))] + [(edges[-1], None)]


def _announce_chunk(
    *,
    wave: Wave,
    after: int,
    upto: int | None,
    side_by_side: bool,
    now: datetime.datetime,
    source,
    amount,
    key_prefix,
    reference,
    actor,
) -> tuple[int, int]:
    """One transaction: the training accounts (opened already credited) and the participants of the
    selected applicants with ids in ``(after, upto]``. Returns (accounts opened, participants created)."""
    chosen = {
        "applicant__wave_applications__wave": wave,
        "applicant__wave_applications__status": ApplicationStatus.SELECTED,
        "applicant__wave_applications__applicant_id__gt": after,
    }
    if upto is not None:
        chosen["applicant__wave_applications__applicant_id__lte"] = upto
    created = 0

    def participants() -> None:
        nonlocal created
        created = _participants_create(wave=wave, after=after, upto=upto, now=now)

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                _slice_plan(cursor)  # a chunk is a few % of the tables: index lookups, not hash joins
                if side_by_side:
                    # Foreign keys checked at each statement's end, not at the commit: the budget row,
                    # which the other chunks wait for, is then locked only for the update and the commit.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        opened = ledger_accounts_open_credited_bulk(
            owners=User.objects.filter(**chosen),
            amount=amount,
            key_prefix=key_prefix,
            reference=reference,
            actor=actor,
            source=source,
            within=participants,
            analyze=False,
        )
    return opened.moved, created


def _announce_chunks(
    *, wave: Wave, run: SelectionRun, amount, key_prefix, reference, progress
) -> tuple[int, int]:
    """Every chunk of the wave's selected (``_announce_chunk``), ``COHORTS_ANNOUNCE_WORKERS`` at a time.

    Side by side only on PostgreSQL and outside a transaction (other connections could not see its
    rows); each worker thread uses its own connection and closes it after each chunk.
    """
    bounds = _announce_bounds(wave=wave, chunk=settings.COHORTS_ANNOUNCE_CHUNK)
    workers = min(settings.COHORTS_ANNOUNCE_WORKERS, len(bounds))
    side_by_side = workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
    source = ledger_programme_account_open(code=ProgrammeAccount.TRAINING_BUDGET)
    common = {
        "wave": wave, "side_by_side": side_by_side, "now": timezone.now(), "source": source, "amount": amount,
        "key_prefix": key_prefix, "reference": reference, "actor": run.created_by,
    }  # fmt: skip

    def one(bound: tuple[int, int | None]) -> tuple[int, int]:
        return _announce_chunk(after=bound[0], upto=bound[1], **common)

    def threaded(bound: tuple[int, int | None]) -> tuple[int, int]:
        try:
            return one(bound)
        finally:
            connections.close_all()  # this thread's connections only

    opened = created = done = 0

    def count(result: tuple[int, int]) -> None:
        nonlocal opened, created, done
        opened, created, done = opened + result[0], created + result[1], done + 1
        progress(10 + 80 * done // len(bounds), "participants")

    if not side_by_side:
        for bound in bounds:
            count(one(bound))
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="announce") as pool:
            futures = [pool.submit(threaded, bound) for bound in bounds]
            try:
                for future in futures:
                    count(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    for model in (LedgerAccount, LedgerMovement, LedgerEntry, Participant):
        _analyze(model)
    return opened, created


def _announce(*, run: SelectionRun, progress) -> dict:
    """Turn the selected applications into participants with a credited balance. Idempotent per chunk.

    The selected are taken in chunks of applicant ids (``COHORTS_ANNOUNCE_CHUNK``); each chunk is one
    transaction that opens the training accounts already holding the balance and creates the
    participants pointing at them, and ``COHORTS_ANNOUNCE_WORKERS`` chunks run side by side on their
    own connections (``_announce_chunks``). A crash leaves whole chunks done or not done; a re-run skips
    what exists. The notifications to everyone in the wave follow as their own job (RunKind.NOTIFY),
    queued when this one commits.
    """
    wave = Wave.objects.get(pk=run.wave_id)
    programme = programme_get()
    key_prefix = f"cohorts.wave:{wave.pk}:balance"
    reference = f"cohorts.wave:{wave.pk}"
    progress(10, "participants")
    opened, created = _announce_chunks(
        wave=wave, run=run, amount=programme.balance_amount, key_prefix=key_prefix, reference=reference,
        progress=progress,
    )  # fmt: skip

    progress(90, "balances")
    # Participants whose account existed before (or a run after a crash): credit what is not credited yet.
    accounts = ledger_accounts_without_movement(
        accounts=LedgerAccount.objects.filter(kind=AccountKind.TRAINING_BALANCE, participant__wave=wave),
        key_prefix=key_prefix,
    )
    more = ledger_credit_bulk(
        accounts=accounts,
        amount=programme.balance_amount,
        key_prefix=key_prefix,
        reference=reference,
        actor=run.created_by,
    )
    credit = BulkResult(
        moved=opened + more.moved,
        skipped=more.skipped,
        total_amount=opened * programme.balance_amount + more.total_amount,
    )

    with transaction.atomic():
        Wave.objects.filter(pk=wave.pk, announced_at__isnull=True).update(
            status=WaveStatus.ANNOUNCED, announced_at=timezone.now()
        )
        audit_log(
            actor=run.created_by,
            action="cohorts.wave_announced",
            obj=wave,
            data={"participants": created, "credited": credit.moved, "amount": credit.total_amount},
        )
        from cohorts.tasks import draw_file_build_task  # cohorts.tasks imports this module

        transaction.on_commit(lambda: draw_file_build_task.delay(wave.pk), robust=True)
        if not SelectionRun.objects.filter(wave=wave, kind=RunKind.NOTIFY).exists():
            notify = SelectionRun.objects.create(wave=wave, kind=RunKind.NOTIFY, created_by=run.created_by)
            # Cycle: cohorts.tasks imports this module.
            from cohorts.tasks import selection_run_task

            transaction.on_commit(lambda: selection_run_task.delay(notify.pk), robust=True)
    return {
        "participants_created": created,
        "balances_credited": credit.moved,
        "credited_amount": credit.total_amount,
    }


def _pad(expression: str, width: int) -> str:
    """SQL for a zero-padded decimal string of an integer expression, on PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return f"LPAD(CAST({expression} AS TEXT), {width}, '0')"
    return f"printf('%%0{width}d', {expression})"


def _card_check_digit_sql(prefix: str, serial: str) -> str:
    """SQL for the Luhn check digit of ``prefix`` (digits, known here) followed by a 10-digit ``serial``.

    ``serial`` is an integer SQL expression. The prefix's share of the sum is computed here; each
    serial digit is taken with integer arithmetic (cheaper than cutting a string 15 times per card),
    and a doubled digit d counts 2d - 9 when d >= 5, written 2d - 9 * (d / 5).
    """
    length = len(prefix) + 10
    doubled = [(length + 1 - k) % 2 == 1 for k in range(1, length + 1)]  # every other digit from the right
    constant = 0
    for k, digit in enumerate(prefix):
        d = int(digit)
        constant += (2 * d - 9 * (d // 5)) if doubled[k] else d
    terms = [str(constant)]
    for j in range(10):
        d = f"(({serial}) / {10 ** (9 - j)} %% 10)"
        terms.append(f"(2 * {d} - 9 * ({d} / 5))" if doubled[len(prefix) + j] else d)
    return f"((10 - ({' + '.join(terms)}) %% 10) %% 10)"


def _participants_create(
    *, wave: Wave, after: int = 0, upto: int | None = None, now: datetime.datetime | None = None
) -> int:
    """Create the participants of ``wave`` in one INSERT ... SELECT; those that exist are skipped.

    The card number is computed in SQL exactly as ``card_number_for`` does (the Luhn digit with
    integer arithmetic, ``_card_check_digit_sql``). Existing
    participants are skipped by the unique applicant, not by a NOT EXISTS probe: with
    statistics taken while the table was empty, the planner ran that probe as a scan of
    the growing table per row (quadratic; more than 4 minutes for 800,000 instead of 20 s).
    A card number that collided would fail loudly instead of being skipped.
    """
    now = now or timezone.now()
    t_participant = Participant._meta.db_table
    t_application = Application._meta.db_table
    t_applicant = Applicant._meta.db_table
    t_account = LedgerAccount._meta.db_table
    prefix = f"{CARD_PREFIX}{wave.number % 1000:03d}"
    serial = f"(a.draw_rank * {CARD_SERIAL_MULTIPLIER}) %% {CARD_SERIAL_SPACE}"
    card = f"'{prefix}' || {_pad(serial, 10)} || CAST({_card_check_digit_sql(prefix, serial)} AS TEXT)"
    with transaction.atomic(), connection.cursor() as cursor:
        tune_for_bulk(cursor)
        cursor.execute(
            f"""
            INSERT INTO {t_participant} (applicant_id, wave_id, card_number, status, balance_account_id, created_at,
                purchase_deadline, first_purchase_at, revoked_at, revoke_reason)
            SELECT b.applicant_id, %(wave)s, b.card, %(active)s, la.id, %(now)s, %(deadline)s, NULL, NULL, ''
            FROM (
                SELECT a.applicant_id, ap.user_id, {card} AS card
                FROM {t_application} a JOIN {t_applicant} ap ON ap.id = a.applicant_id
                WHERE a.wave_id = %(wave)s AND a.status = %(selected)s
                  AND a.applicant_id > %(after)s {"AND a.applicant_id <= %(upto)s" if upto is not None else ""}
            ) b
            JOIN {t_account} la ON la.owner_id = b.user_id AND la.kind = %(kind)s
            WHERE true
            ON CONFLICT (applicant_id) DO NOTHING
            """,  # noqa: S608 - identifiers from model metadata, values bound
            {
                "wave": wave.pk,
                "active": ParticipantStatus.ACTIVE,
                "now": now,
                "deadline": now + datetime.timedelta(days=wave.purchase_days),
                "selected": ApplicationStatus.SELECTED,
                "kind": AccountKind.TRAINING_BALANCE,
                "after": after,
                "upto": upto,
            },
        )
        return cursor.rowcount


# The announcement's messages are written to the outbox in slices, in this order (the selected first:
# their purchase deadline runs), each slice a range of applicants in one INSERT ... SELECT.
NOTIFY_ORDER = (ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED, ApplicationStatus.INELIGIBLE)
NOTIFY_TEMPLATES = {
    ApplicationStatus.SELECTED: "cohorts/selected",
    ApplicationStatus.NOT_SELECTED: "cohorts/not_selected",
    ApplicationStatus.INELIGIBLE: "cohorts/ineligible",
}
NOTIFY_CHUNK = 20_000  # applications per statement (at most two messages each)
NOTIFY_RETRY_SECONDS = 60  # a notification job waiting for the outbox runs again after this long


@dataclass
class NotifyProgress:
    """How far a wave's notification job got: messages queued, and where the next slice starts."""

    queued: int = 0
    step: int = 0  # index in NOTIFY_ORDER
    after: int = 0  # last applicant id done in that step
    finished: bool = False

    @classmethod
    def of(cls, run: SelectionRun) -> NotifyProgress:
        data = run.result or {}
        step, after = data.get("next") or (0, 0)
        return cls(queued=int(data.get("notifications_queued", 0)), step=int(step), after=int(after))

    def as_result(self) -> dict:
        if self.finished:
            return {"notifications_queued": self.queued}
        return {"notifications_queued": self.queued, "next": [self.step, self.after]}


def _outbox_is_full() -> bool:
    """Whether the outbox already holds ``COHORTS_NOTIFY_OUTBOX_HIGH_WATER`` queued messages (0: never full)."""
    high_water = settings.COHORTS_NOTIFY_OUTBOX_HIGH_WATER
    if not high_water:
        return False
    # Counts at most high_water entries of the outbox's partial "due" index.
    return (
        Notification.objects.filter(status=NotificationStatus.QUEUED).order_by()[:high_water].count()
        >= high_water
    )


def _slice_plan(cursor) -> None:
    """Index lookups for a slice (PostgreSQL, this transaction only).

    A slice is 1 % of a 2,000,000-person wave; costed against the whole tables, the planner
    would hash-join them, reading every applicant and user once per slice.
    """
    if connection.vendor == "postgresql":
        for setting in ("enable_hashjoin", "enable_mergejoin", "jit"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _notify_messages(wave: Wave, status: str, params: dict) -> str:
    """A SELECT of the (language, channel, subject, body) rows for ``status``, rendered once per language."""
    rows = []
    for language, _name in settings.LANGUAGES:
        subject, email_body, sms_body = render_message(
            NOTIFY_TEMPLATES[status], {"wave": wave, "site_url": settings.SITE_URL}, language=language
        )
        subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}"
        for channel, channel_subject, body in (
            (NotificationChannel.EMAIL, subject, email_body),
            (NotificationChannel.SMS, "", sms_body),
        ):
            n = len(rows)
            params.update(
                {
                    f"m{n}_language": language,
                    f"m{n}_channel": channel,
                    f"m{n}_subject": channel_subject,
                    f"m{n}_body": body,
                }
            )
            rows.append(
                f"SELECT %(m{n}_language)s AS language, %(m{n}_channel)s AS channel, "
                f"%(m{n}_subject)s AS subject, %(m{n}_body)s AS body"
            )
    return " UNION ALL ".join(rows)


def _announcement_notifications(
    *, wave: Wave, run: SelectionRun, progress=lambda percent, stage: None
) -> NotifyProgress:
    """Queue an email and an SMS to everyone in the wave, in their language, from where ``run`` left off.

    The messages are made from the wave's applications when there is room for them, not all at
    once: a slice of ``NOTIFY_CHUNK`` applications at a time (one INSERT ... SELECT over a range of
    applicant ids, which the (wave, applicant) index finds), each slice committed with the position
    reached. When the outbox holds ``COHORTS_NOTIFY_OUTBOX_HIGH_WATER`` queued messages the job
    stops and is run again later (``selection_run_execute``); the rows of 2,000,000 people are then
    written while the sweeper sends the first ones, never millions ahead of it. Each message keeps
    its idempotency key (wave, outcome, channel, user), so a repeat or a second job queues nothing twice.
    """
    t_app = Application._meta.db_table
    t_applicant = Applicant._meta.db_table
    t_user = User._meta.db_table
    t_note = Notification._meta.db_table
    state = NotifyProgress.of(run)
    totals = dict(
        Application.objects.filter(wave=wave, status__in=NOTIFY_ORDER)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    everyone = sum(totals.values()) or 1
    now = timezone.now()
    while state.step < len(NOTIFY_ORDER):
        status = NOTIFY_ORDER[state.step]
        done = sum(totals.get(s, 0) for s in NOTIFY_ORDER[: state.step])
        progress(min(99, 10 + 89 * done // everyone), str(status))
        if _outbox_is_full():
            return state
        params = {"wave": wave.pk, "status": status, "after": state.after, "chunk": NOTIFY_CHUNK}
        with transaction.atomic(), connection.cursor() as cursor:
            _slice_plan(cursor)
            cursor.execute(
                f"""
                SELECT MAX(c.applicant_id), COUNT(*) FROM (
                    SELECT a.applicant_id FROM {t_app} a
                    WHERE a.wave_id = %(wave)s AND a.status = %(status)s AND a.applicant_id > %(after)s
                    ORDER BY a.applicant_id LIMIT %(chunk)s
                ) c
                """,  # noqa: S608 - identifiers come from model metadata
                params,
            )
            upto, count = cursor.fetchone()
            if count:
                messages = _notify_messages(wave, status, params)
                recipient = "CASE WHEN m.channel = %(email)s THEN u.email ELSE ap.phone END"
                cursor.execute(
                    f"""
                    INSERT INTO {t_note} (created_at, user_id, channel, recipient, subject, body, status,
                        attempts, next_attempt_at, last_error, idempotency_key, sensitive)
                    SELECT %(now)s, u.id, m.channel, {recipient}, m.subject, m.body, %(queued)s,
                        0, %(now)s, '', %(key)s || m.channel || ':' || CAST(u.id AS TEXT), %(false)s
                    FROM {t_app} a
                    JOIN {t_applicant} ap ON ap.id = a.applicant_id
                    JOIN {t_user} u ON u.id = ap.user_id
                    JOIN ({messages}) m ON m.language = u.language
                    WHERE a.wave_id = %(wave)s AND a.status = %(status)s
                      AND a.applicant_id > %(after)s AND a.applicant_id <= %(upto)s
                      AND {recipient} <> ''
                    ON CONFLICT DO NOTHING
                    """,  # noqa: S608 - identifiers come from model metadata
                    {
                        **params,
                        "upto": upto,
                        "now": now,
                        "email": NotificationChannel.EMAIL,
                        "queued": NotificationStatus.QUEUED,
                        "false": False,
                        "key": f"cohorts.wave:{wave.pk}:{status}:",
                    },
                )
                state.queued += cursor.rowcount
                state.after = upto
            if count < NOTIFY_CHUNK:
                state.step, state.after = state.step + 1, 0
            SelectionRun.objects.filter(pk=run.pk).update(result=state.as_result())
    state.finished = True
    return state


# --- The participant's deadline and the end of the programme ---------------------


def participant_for_purchase(*, participant_id: int) -> Participant:
    """Lock the participant for a purchase; refuse when the card is not usable.

    The marketplace calls this inside its purchase transaction, then
    ``participant_record_purchase``. Holding the row lock makes a purchase and
    the deadline revocation mutually exclusive.
    """
    participant = (
        Participant.objects.select_for_update().select_related("balance_account").get(pk=participant_id)
    )
    if participant.status != ParticipantStatus.ACTIVE:
        raise CohortError(_("This Prakerja card is no longer active."))
    if Applicant.objects.filter(pk=participant.applicant_id, frozen_at__isnull=False).exists():
        raise CohortError(_("Your card is on hold while an officer checks a report about your NIK."))
    if participant.first_purchase_at is None and participant.purchase_deadline <= timezone.now():
        raise CohortError(_("The time to buy your first training has run out."))
    return participant


def participant_record_purchase(*, participant: Participant, at: datetime.datetime | None = None) -> None:
    """Stop the deadline clock at the first purchase. Call with the row locked."""
    if participant.first_purchase_at is None:
        participant.first_purchase_at = at or timezone.now()
        Participant.objects.filter(pk=participant.pk, first_purchase_at__isnull=True).update(
            first_purchase_at=participant.first_purchase_at
        )


def participant_record_cancellation(
    *, participant: Participant, trainings_left: bool, at: datetime.datetime | None = None
) -> datetime.datetime | None:
    """After a cancelled purchase: with no training left, the deadline clock runs again.

    Buying and cancelling must not take a participant off the clock for good. The new
    deadline is the wave's one or ``COHORTS_REBUY_GRACE_DAYS`` after the cancellation,
    whichever is later (a provider that never delivered must not cost the participant
    the card). Call with the row locked; returns the new deadline, or None when the
    clock stays stopped (another training is still bought).
    """
    if trainings_left or participant.first_purchase_at is None:
        return None
    at = at or timezone.now()
    deadline = max(
        participant.purchase_deadline, at + datetime.timedelta(days=settings.COHORTS_REBUY_GRACE_DAYS)
    )
    Participant.objects.filter(pk=participant.pk).update(first_purchase_at=None, purchase_deadline=deadline)
    participant.first_purchase_at, participant.purchase_deadline = None, deadline
    return deadline


def participants_revoke_expired(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Revoke participants who bought no training in time: card off, balance forfeited, blacklisted.

    Set-based and idempotent: a second run finds nothing new and moves no money.
    """
    now = now or timezone.now()
    reason = gettext_lazy("No training bought within the time allowed")
    with transaction.atomic():
        due = Participant.objects.filter(
            status=ParticipantStatus.ACTIVE, first_purchase_at__isnull=True, purchase_deadline__lte=now
        )
        ids = list(due.values_list("id", flat=True))
        if connection.vendor == "postgresql" and ids:
            # Lock in a stable order; a purchase holding a row makes us wait, then re-check.
            list(Participant.objects.select_for_update().filter(id__in=ids).order_by("id").values_list("id"))
        with translation.override(settings.LANGUAGE_CODE):
            revoked = Participant.objects.filter(
                id__in=ids, status=ParticipantStatus.ACTIVE, first_purchase_at__isnull=True
            ).update(status=ParticipantStatus.REVOKED, revoked_at=now, revoke_reason=str(reason))
    revoked_qs = Participant.objects.filter(status=ParticipantStatus.REVOKED, first_purchase_at__isnull=True)
    forfeit = ledger_forfeit_bulk(
        accounts=LedgerAccount.objects.filter(participant__in=revoked_qs),
        key_prefix="cohorts.deadline:forfeit",
        reference="cohorts.deadline",
    )
    with translation.override(settings.LANGUAGE_CODE):
        blacklist_reason = str(_("Participation revoked: no training bought within the time allowed"))
    existing = Blacklist.objects.filter(applicant_id=OuterRef("applicant_id"))
    to_blacklist = (
        revoked_qs.annotate(listed=Exists(existing))
        .filter(listed=False)
        .values_list("applicant_id", "wave_id")
    )
    Blacklist.objects.bulk_create(
        [Blacklist(applicant_id=a, wave_id=w, reason=blacklist_reason) for a, w in to_blacklist],
        ignore_conflicts=True,
        batch_size=BULK_BATCH,
    )
    if revoked:
        audit_log(
            actor=None,
            action="cohorts.participants_revoked",
            data={"revoked": revoked, "forfeited": forfeit.total_amount},
        )
    return {"revoked": revoked, "forfeited_accounts": forfeit.moved, "forfeited_amount": forfeit.total_amount}


def programme_end_forfeit(*, today: datetime.date | None = None) -> dict[str, int]:
    """After the programme end date, forfeit every leftover training balance. Idempotent."""
    today = today or timezone.localdate()
    programme = programme_get()
    if today <= programme.end_date:
        return {"ended": 0, "forfeited_accounts": 0, "forfeited_amount": 0}
    ended = Participant.objects.filter(status=ParticipantStatus.ACTIVE).update(status=ParticipantStatus.ENDED)
    forfeit = ledger_forfeit_bulk(
        accounts=LedgerAccount.objects.filter(participant__isnull=False, balance__gt=0),
        key_prefix=f"cohorts.programme_end:{programme.end_date.isoformat()}",
        reference="cohorts.programme_end",
    )
    if ended or forfeit.moved:
        audit_log(
            actor=None,
            action="cohorts.programme_end_forfeit",
            data={"ended": ended, "forfeited_accounts": forfeit.moved, "amount": forfeit.total_amount},
        )
    return {"ended": ended, "forfeited_accounts": forfeit.moved, "forfeited_amount": forfeit.total_amount}


def blacklist_add(*, applicant: Applicant, reason: str, actor) -> Blacklist:
    with transaction.atomic():
        entry, _created = Blacklist.objects.get_or_create(
            applicant=applicant, defaults={"reason": reason, "created_by": actor}
        )
        audit_log(actor=actor, action="cohorts.blacklist_add", obj=applicant, data={"reason": reason})
        # Nothing more is paid to a blacklisted person until an officer releases it.
        entitlements_hold_for_owner(owner=applicant.user, reason=EntitlementReason.BLACKLISTED, actor=actor)
    return entry


# --- Console settings: programme, wave rules, province quotas -----------------------

PROGRAMME_FIELDS = (
    "balance_amount",
    "end_date",
    "training_incentive_amount",
    "training_incentive_count",
    "training_incentive_interval_days",
    "survey_incentive_amount",
    "survey_incentive_due_days",
    "offline_approval_required",
)
# Rules the committed selection was computed with: "Verify the selection" recomputes from them.
SELECTION_RULES = ("total_quota", "max_per_kk")
WAVE_FIELDS = ("number", "name", "opens_at", "closes_at", "total_quota", "max_per_kk", "purchase_days")
MAX_QUOTA = 10_000_000


def _plain(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _positive(value, label) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > MAX_QUOTA:
        raise CohortError(
            _("%(field)s must be a whole number from 1 to %(max)s.")
            % {"field": label, "max": f"{MAX_QUOTA:,}".replace(",", ".")}
        )


def programme_settings_set(*, actor, **fields) -> Programme:
    """Change the programme settings (one row); validated and audited with the values before and after."""
    unknown = set(fields) - set(PROGRAMME_FIELDS)
    if unknown:
        raise TypeError(f"unknown programme settings: {sorted(unknown)}")
    for name, value in fields.items():
        if name == "end_date":
            if not isinstance(value, datetime.date):
                raise CohortError(_("Give the programme end date."))
        elif name == "offline_approval_required":
            if not isinstance(value, bool):
                raise TypeError("offline_approval_required is a bool")
        else:
            _positive(value, Programme._meta.get_field(name).verbose_name)
    with transaction.atomic():
        programme_get()
        programme = Programme.objects.select_for_update().get(pk=1)
        changes = {
            name: [_plain(getattr(programme, name)), _plain(value)]
            for name, value in fields.items()
            if getattr(programme, name) != value
        }
        if changes:
            for name in changes:
                setattr(programme, name, fields[name])
            programme.save(update_fields=[*changes, "updated_at"])
            audit_log(
                actor=actor, action="cohorts.programme_changed", obj=programme, data={"changes": changes}
            )
            if "offline_approval_required" in changes:
                offline_approval_rule_apply(required=programme.offline_approval_required, actor=actor)
    return programme


def wave_frozen_message(wave: Wave) -> str:
    return _(
        "The selection of %(wave)s was committed on %(date)s. Its quotas and rules can no longer be "
        "changed: the recorded selection must stay verifiable."
    ) % {"wave": wave, "date": timezone.localtime(wave.selected_at).strftime("%d-%m-%Y %H:%M")}


def wave_rules_frozen(wave: Wave) -> bool:
    return bool(wave.selected_at) or wave.status in (WaveStatus.SELECTING, WaveStatus.ANNOUNCED)


def _check_wave_values(values: dict) -> None:
    for name in ("total_quota", "max_per_kk", "purchase_days"):
        if name in values:
            _positive(values[name], Wave._meta.get_field(name).verbose_name)
    if "name" in values and not str(values["name"]).strip():
        raise CohortError(_("Give the wave a name."))


def wave_create(*, actor, number: int, name: str, opens_at, closes_at, total_quota: int,
                max_per_kk: int = 2, purchase_days: int = 30) -> Wave:  # fmt: skip
    """A new wave in draft; audited."""
    values = {"number": number, "name": name, "opens_at": opens_at, "closes_at": closes_at,
              "total_quota": total_quota, "max_per_kk": max_per_kk, "purchase_days": purchase_days}  # fmt: skip
    _check_wave_values(values)
    if closes_at <= opens_at:
        raise CohortError(_("Registration must close after it opens."))
    with transaction.atomic():
        if Wave.objects.filter(number=number).exists():
            raise CohortError(_("Wave number %(number)d already exists.") % {"number": number})
        wave = Wave.objects.create(**values)
        audit_log(actor=actor, action="cohorts.wave_created", obj=wave,
                  data={name: _plain(value) for name, value in values.items()})  # fmt: skip
    return wave


def wave_rules_set(*, wave: Wave, actor, **values) -> Wave:
    """Change a wave's name, registration period and rules under a lock on the wave.

    ``total_quota`` and ``max_per_kk`` are frozen once the selection is committed (or
    running), ``purchase_days`` once the wave is announced (the deadlines are set then).
    Audited with the values before and after.
    """
    unknown = set(values) - set(WAVE_FIELDS) - {"number"}
    if unknown:
        raise TypeError(f"unknown wave fields: {sorted(unknown)}")
    _check_wave_values(values)
    with transaction.atomic():
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        changes = {
            name: [_plain(getattr(locked, name)), _plain(value)]
            for name, value in values.items()
            if getattr(locked, name) != value
        }
        if any(name in changes for name in SELECTION_RULES) and wave_rules_frozen(locked):
            raise CohortError(wave_frozen_message(locked) if locked.selected_at else
                              _("The selection of this wave is running; its rules cannot change now."))  # fmt: skip
        if "purchase_days" in changes and locked.announced_at:
            raise CohortError(_("This wave has been announced: the purchase deadlines are already set."))
        opens_at = values.get("opens_at", locked.opens_at)
        closes_at = values.get("closes_at", locked.closes_at)
        if closes_at <= opens_at:
            raise CohortError(_("Registration must close after it opens."))
        if (
            "number" in changes
            and Wave.objects.filter(number=values["number"]).exclude(pk=locked.pk).exists()
        ):
            raise CohortError(_("Wave number %(number)d already exists.") % {"number": values["number"]})
        if changes:
            for name in changes:
                setattr(locked, name, values[name])
            locked.save(update_fields=list(changes))
            audit_log(actor=actor, action="cohorts.wave_changed", obj=locked, data={"changes": changes})
    for name in WAVE_FIELDS:
        setattr(wave, name, getattr(locked, name))
    return locked


def _quotas_write(*, wave: Wave, quotas: dict[str, int], actor, action: str, replace: bool) -> dict[str, int]:
    for code, quota in quotas.items():
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0 or quota > MAX_QUOTA:
            raise CohortError(
                _("The quota of province %(code)s must be a whole number from 0 to %(max)s.")
                % {"code": code, "max": f"{MAX_QUOTA:,}".replace(",", ".")}
            )
    known = set(Province.objects.filter(code__in=quotas).values_list("code", flat=True))
    unknown = sorted(set(quotas) - known)
    if unknown:
        raise CohortError(_("Unknown province code: %(codes)s.") % {"codes": ", ".join(unknown)})
    with transaction.atomic():
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        if wave_rules_frozen(locked):
            raise CohortError(wave_frozen_message(locked) if locked.selected_at else
                              _("The selection of this wave is running; its quotas cannot change now."))  # fmt: skip
        before = dict(ProvinceQuota.objects.filter(wave=locked).values_list("province_id", "quota"))
        after = dict(quotas) if replace else before | quotas
        changes = {
            code: [before.get(code), after.get(code)]
            for code in sorted(set(before) | set(after))
            if before.get(code) != after.get(code)
        }
        removed = [code for code, (_old, new) in changes.items() if new is None]
        if removed:
            ProvinceQuota.objects.filter(wave=locked, province_id__in=removed).delete()
        for code, (_old, new) in changes.items():
            if new is not None:
                ProvinceQuota.objects.update_or_create(wave=locked, province_id=code, defaults={"quota": new})
        if changes:
            audit_log(actor=actor, action=action, obj=locked, data={"changes": changes})
    return {
        "changed": sum(1 for _old, new in changes.values() if new is not None),
        "created": sum(1 for old, new in changes.values() if old is None and new is not None),
        "removed": len(removed),
        "unchanged": len(quotas) - sum(1 for code in quotas if code in changes),
    }


def wave_quotas_set(*, wave: Wave, quotas: dict[str, int], actor) -> dict[str, int]:
    """Set the whole quota table of ``wave`` (province code -> quota); provinces left out lose their quota."""
    return _quotas_write(
        wave=wave, quotas=quotas, actor=actor, action="cohorts.wave_quotas_set", replace=True
    )


def wave_quotas_import(*, wave: Wave, quotas: dict[str, int], actor) -> dict[str, int]:
    """Set the quotas of the provinces in ``quotas`` (from a spreadsheet); the others stay."""
    return _quotas_write(
        wave=wave, quotas=quotas, actor=actor, action="cohorts.wave_quotas_imported", replace=False
    )
