import datetime

import pytest
from django.core import mail
from django.utils import timezone
from stdnum import luhn

from cohorts import services
from cohorts.enums import ApplicationStatus, ParticipantStatus, RunKind, RunStatus, WaveStatus
from cohorts.models import Application, Blacklist, Participant, SelectionRun
from disbursement.enums import ProgrammeAccount
from disbursement.models import LedgerAccount, LedgerEntry, LedgerMovement
from disbursement.selectors import ledger_check
from prakerja.models import Notification
from tests.cohorts.factories import WaveFactory, pool, programme

pytestmark = pytest.mark.django_db


def _run(wave, kind, seed=""):
    run = services.selection_run_request(wave=wave, kind=kind, seed=seed)
    services.selection_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    wave.refresh_from_db()
    return run


def _result(run):
    """A job's result without its timings."""
    return {k: v for k, v in run.result.items() if k != "stage_seconds"}


@pytest.fixture
def announced():
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=4, purchase_days=30)
    applicants = pool(wave, district_code="32.75.01", count=6)
    applicants[0].user.language = "en"
    applicants[0].user.save()
    _run(wave, RunKind.SELECTION, seed="abc")
    run = _run(wave, RunKind.ANNOUNCEMENT)
    # The announcement queues the notification job when it commits; run it here.
    notify = SelectionRun.objects.get(wave=wave, kind=RunKind.NOTIFY)
    services.selection_run_execute(run_id=notify.pk)
    notify.refresh_from_db()
    assert _result(notify) == {"notifications_queued": 12}  # 6 people x (email + SMS)
    return wave, run


def test_announcement_creates_participants_with_cards_and_balances(announced):
    wave, run = announced
    assert wave.status == WaveStatus.ANNOUNCED
    assert _result(run) == {"participants_created": 4, "balances_credited": 4, "credited_amount": 4_000_000}
    assert set(run.result["stage_seconds"]) == {"participants", "balances"}
    participants = list(Participant.objects.filter(wave=wave).select_related("balance_account"))
    ranks = dict(
        Application.objects.filter(wave=wave, status="selected").values_list("applicant_id", "draw_rank")
    )
    assert len(participants) == 4
    for p in participants:
        assert len(p.card_number) == 16 and p.card_number.isdigit()
        assert luhn.is_valid(p.card_number)
        assert p.card_number.startswith(f"52{wave.number:03d}")
        # Computed in SQL, equal to the Python definition.
        assert p.card_number == services.card_number_for(
            wave_number=wave.number, ordinal=ranks[p.applicant_id]
        )
        assert p.balance_account.balance == 1_000_000
        assert p.status == ParticipantStatus.ACTIVE
        assert (
            timezone.now() + datetime.timedelta(days=29)
            < p.purchase_deadline
            <= timezone.now() + datetime.timedelta(days=30)
        )
    assert len({p.card_number for p in participants}) == 4
    budget = LedgerAccount.objects.get(code=ProgrammeAccount.TRAINING_BUDGET)
    assert budget.balance == -4_000_000
    assert ledger_check().ok


def test_announcement_is_idempotent(announced):
    wave, _run_ = announced
    movements = LedgerMovement.objects.count()
    # A crashed announcement is re-run step by step: nothing is created or paid twice.
    from cohorts.models import SelectionRun

    rerun = SelectionRun.objects.create(wave=wave, kind=RunKind.ANNOUNCEMENT, seed=wave.selection_seed)
    services.selection_run_execute(run_id=rerun.pk)
    rerun.refresh_from_db()
    assert _result(rerun) == {"participants_created": 0, "balances_credited": 0, "credited_amount": 0}
    renotify = SelectionRun.objects.create(wave=wave, kind=RunKind.NOTIFY)
    services.selection_run_execute(run_id=renotify.pk)
    renotify.refresh_from_db()
    assert _result(renotify) == {"notifications_queued": 0}
    assert SelectionRun.objects.filter(wave=wave, kind=RunKind.NOTIFY).count() == 2
    assert LedgerMovement.objects.count() == movements
    assert Participant.objects.filter(wave=wave).count() == 4


def test_everyone_is_notified_in_their_language(announced, django_capture_on_commit_callbacks):
    wave, _run_ = announced
    notes = Notification.objects.filter(idempotency_key__startswith=f"cohorts.wave:{wave.pk}:")
    assert notes.count() == 12
    selected_sms = notes.filter(channel="sms", idempotency_key__contains=":selected:")
    assert selected_sms.count() == 4
    english = notes.filter(user__language="en", channel="email").get()
    indonesian = notes.filter(user__language="id", channel="email").first()
    assert "Prakerja" in indonesian.subject
    assert english.subject != indonesian.subject
    # The sweeper sends them.
    from prakerja.notifications import notifications_sweep

    notifications_sweep()
    assert notes.filter(status="sent").count() == 12
    assert len(mail.outbox) == 6


def test_applicants_ruled_out_at_selection_are_told_too():
    from tests.cohorts.factories import put_on_list

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=10)
    applicants = pool(wave, district_code="32.75.01", count=3)
    put_on_list(applicants[:1], kind="exclusion", category="asn", reason="Tercatat sebagai ASN")
    _run(wave, RunKind.SELECTION, seed="s")
    _run(wave, RunKind.ANNOUNCEMENT)
    notify = SelectionRun.objects.get(wave=wave, kind=RunKind.NOTIFY)
    services.selection_run_execute(run_id=notify.pk)

    ruled_out = Notification.objects.filter(user=applicants[0].user, idempotency_key__contains=":ineligible:")
    assert sorted(ruled_out.values_list("channel", flat=True)) == ["email", "sms"]
    sms = ruled_out.get(channel="sms")
    assert "tidak dapat ikut diundi" in sms.body and "/dasbor/" in sms.body
    assert Notification.objects.filter(idempotency_key__contains=":selected:", channel="sms").count() == 2


def test_deadline_revokes_forfeits_and_blacklists_once(announced):
    wave, _run_ = announced
    participants = list(Participant.objects.filter(wave=wave).order_by("id"))
    buyer = participants[0]
    # The first participant bought a training in time: the clock stopped.
    from django.db import transaction

    with transaction.atomic():
        locked = services.participant_for_purchase(participant_id=buyer.pk)
        services.participant_record_purchase(participant=locked)
    later = timezone.now() + datetime.timedelta(days=31)
    result = services.participants_revoke_expired(now=later)
    assert result == {"revoked": 3, "forfeited_accounts": 3, "forfeited_amount": 3_000_000}
    assert services.participants_revoke_expired(now=later) == {
        "revoked": 0,
        "forfeited_accounts": 0,
        "forfeited_amount": 0,
    }
    statuses = dict(Participant.objects.filter(wave=wave).values_list("id", "status"))
    assert statuses[buyer.pk] == ParticipantStatus.ACTIVE
    assert sorted(s for pk, s in statuses.items() if pk != buyer.pk) == [ParticipantStatus.REVOKED] * 3
    assert Blacklist.objects.count() == 3
    forfeited = LedgerAccount.objects.get(code=ProgrammeAccount.FORFEITED)
    assert forfeited.balance == 3_000_000
    assert ledger_check().ok
    # A revoked card cannot buy.
    revoked = participants[1]
    with pytest.raises(services.CohortError, match="sudah tidak aktif"):
        services.participant_for_purchase(participant_id=revoked.pk)


def test_programme_end_forfeits_leftovers_once(announced):
    wave, _run_ = announced
    prog = programme(end_date=timezone.localdate() - datetime.timedelta(days=1))
    result = services.programme_end_forfeit()
    assert result == {"ended": 4, "forfeited_accounts": 4, "forfeited_amount": 4_000_000}
    assert services.programme_end_forfeit() == {"ended": 0, "forfeited_accounts": 0, "forfeited_amount": 0}
    assert LedgerAccount.objects.get(code=ProgrammeAccount.FORFEITED).balance == 4_000_000
    assert prog.end_date < timezone.localdate()


def test_programme_end_does_nothing_before_the_end_date(announced):
    programme(end_date=timezone.localdate())
    assert services.programme_end_forfeit()["forfeited_accounts"] == 0


def test_not_selected_can_join_next_wave(announced):
    from cohorts.models import Application

    wave, _run_ = announced
    loser = Application.objects.filter(wave=wave, status=ApplicationStatus.NOT_SELECTED).first().applicant
    next_wave = WaveFactory()
    check = services.wave_join_check(applicant=loser, wave=next_wave)
    assert check.eligible, check.reasons
    services.application_create(applicant=loser, wave=next_wave)


def test_a_participant_whose_account_existed_is_credited_once_too():
    from tests.disbursement.factories import TrainingBalanceFactory

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=3)
    applicants = pool(wave, district_code="32.75.01", count=3)
    # One of them already has a (still empty) training account: it is not opened again but credited.
    existing = TrainingBalanceFactory(owner=applicants[0].user)
    _run(wave, RunKind.SELECTION, seed="ada")
    run = _run(wave, RunKind.ANNOUNCEMENT)
    assert _result(run) == {"participants_created": 3, "balances_credited": 3, "credited_amount": 3_000_000}
    existing.refresh_from_db()
    assert existing.balance == 1_000_000
    assert Participant.objects.get(applicant=applicants[0]).balance_account_id == existing.pk
    assert LedgerAccount.objects.filter(participant__wave=wave, balance=1_000_000).count() == 3
    rerun = SelectionRun.objects.create(wave=wave, kind=RunKind.ANNOUNCEMENT, seed=wave.selection_seed)
    services.selection_run_execute(run_id=rerun.pk)
    rerun.refresh_from_db()
    assert _result(rerun) == {"participants_created": 0, "balances_credited": 0, "credited_amount": 0}
    # The two accounts opened: one batch credit; the account that existed: a credit of its own.
    assert LedgerMovement.objects.count() == 2
    assert ledger_check().ok


def test_notifications_wait_for_room_in_the_outbox_and_go_on_where_they_stopped(settings, monkeypatch):
    from cohorts.tasks import selection_run_task

    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=2)
    pool(wave, district_code="32.75.01", count=5)
    _run(wave, RunKind.SELECTION, seed="antri")
    _run(wave, RunKind.ANNOUNCEMENT)
    notify = SelectionRun.objects.get(wave=wave, kind=RunKind.NOTIFY)
    scheduled = []
    monkeypatch.setattr(selection_run_task, "apply_async", lambda *a, **kw: scheduled.append(kw))
    monkeypatch.setattr(services, "NOTIFY_CHUNK", 2)  # two people (four messages) per slice
    settings.COHORTS_NOTIFY_OUTBOX_HIGH_WATER = 3
    wave_notes = Notification.objects.filter(idempotency_key__startswith=f"cohorts.wave:{wave.pk}:")

    services.selection_run_execute(run_id=notify.pk)
    notify.refresh_from_db()
    # One slice, then the outbox holds 4 >= 3 queued messages: the job waits in the queue.
    assert (notify.status, notify.stage) == (RunStatus.QUEUED, "outbox")
    assert notify.result["notifications_queued"] == 4
    assert wave_notes.count() == 4
    # The selected are told first.
    assert wave_notes.filter(idempotency_key__contains=":selected:").count() == 4
    assert scheduled == (
        [] if settings.CELERY_TASK_ALWAYS_EAGER else [{"countdown": services.NOTIFY_RETRY_SECONDS}]
    )
    # Run again while the outbox is still full: nothing more is written.
    services.selection_run_execute(run_id=notify.pk)
    assert wave_notes.count() == 4

    # The sweeper sends them; the job goes on from where it stopped, until everyone is told.
    for _ in range(5):
        Notification.objects.filter(status="queued").update(status="sent")
        services.selection_run_execute(run_id=notify.pk)
    notify.refresh_from_db()
    assert notify.status == RunStatus.DONE, notify.error
    assert _result(notify) == {"notifications_queued": 10}
    assert wave_notes.count() == 10
    assert sorted(set(wave_notes.values_list("user_id", flat=True))) == sorted(
        Application.objects.filter(wave=wave).values_list("applicant__user_id", flat=True)
    )
    # A second job finds everything queued already.
    again = SelectionRun.objects.create(wave=wave, kind=RunKind.NOTIFY)
    services.selection_run_execute(run_id=again.pk)
    again.refresh_from_db()
    assert _result(again) == {"notifications_queued": 0}


def _announce_in_chunks():
    """Seven applicants, five selected, announced in chunks of two; checks what every chunking must give."""
    programme()
    wave = WaveFactory(status=WaveStatus.CLOSED, total_quota=5)
    pool(wave, district_code="32.75.01", count=7)
    _run(wave, RunKind.SELECTION, seed="potong")
    run = _run(wave, RunKind.ANNOUNCEMENT)
    assert _result(run) == {"participants_created": 5, "balances_credited": 5, "credited_amount": 5_000_000}
    ranks = dict(
        Application.objects.filter(wave=wave, status="selected").values_list("applicant_id", "draw_rank")
    )
    participants = list(Participant.objects.filter(wave=wave).select_related("balance_account"))
    assert sorted(p.applicant_id for p in participants) == sorted(ranks)
    for p in participants:
        assert p.card_number == services.card_number_for(
            wave_number=wave.number, ordinal=ranks[p.applicant_id]
        )
        assert p.balance_account.balance == 1_000_000
        assert p.balance_account.owner_id == p.applicant.user_id
    # One clock for the whole announcement, whatever chunk a participant was in.
    assert len({p.purchase_deadline for p in participants}) == 1
    assert LedgerAccount.objects.get(code=ProgrammeAccount.TRAINING_BUDGET).balance == -5_000_000
    # One batch credit per chunk (2 + 2 + 1), each with the budget's leg and one leg per participant.
    assert sorted(LedgerMovement.objects.values_list("amount", flat=True)) == [
        1_000_000,
        2_000_000,
        2_000_000,
    ]
    assert LedgerEntry.objects.count() == 3 + 5
    assert ledger_check().ok
    rerun = SelectionRun.objects.create(wave=wave, kind=RunKind.ANNOUNCEMENT, seed=wave.selection_seed)
    services.selection_run_execute(run_id=rerun.pk)
    rerun.refresh_from_db()
    assert _result(rerun) == {"participants_created": 0, "balances_credited": 0, "credited_amount": 0}
    assert LedgerMovement.objects.count() == 3
    return wave


def test_an_announcement_in_chunks_one_after_the_other(settings):
    settings.COHORTS_ANNOUNCE_CHUNK = 2
    _announce_in_chunks()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_announcement_in_chunks_side_by_side_on_their_own_connections(settings, monkeypatch):
    settings.COHORTS_ANNOUNCE_CHUNK = 2
    settings.COHORTS_ANNOUNCE_WORKERS = 2
    threads = set()
    chunk = services._announce_chunk

    def spy(**kwargs):
        import threading

        assert kwargs["side_by_side"] is True
        threads.add(threading.get_ident())
        return chunk(**kwargs)

    monkeypatch.setattr(services, "_announce_chunk", spy)
    _announce_in_chunks()
    assert len(threads) == 2
