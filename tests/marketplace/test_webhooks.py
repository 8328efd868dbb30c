"""Signed webhooks to the platforms: queueing with the change, delivery, retries, the sweeper, the console."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import InvalidRequestBody
from werkzeug.datastructures import Headers

from marketplace import services, webhooks
from marketplace.api import signing
from marketplace.enums import CancelledBy, PurchaseChannel, VoucherStatus, WebhookEvent, WebhookStatus
from marketplace.exceptions import VoucherRefused
from marketplace.models import PlatformCredential, Voucher, WebhookDelivery
from prakerja.models import AuditEntry
from prakerja.roles import Role
from tests.factories import UserFactory
from tests.http_stub import JsonStub
from tests.marketplace.factories import (
    ListingFactory,
    PlatformFactory,
    credential_for,
    participant_with_balance,
    sms_code,
)

pytestmark = pytest.mark.django_db

WEBHOOK_PATH = "/prakerja/webhook?source=portal"


@pytest.fixture
def receiver():
    with JsonStub() as stub:
        yield stub


@pytest.fixture
def platform(receiver):
    return PlatformFactory(slug="pintaria", name="Pintaria", webhook_url=receiver.url(WEBHOOK_PATH))


@pytest.fixture
def secret(platform) -> str:
    _key_id, secret = credential_for(platform)
    return secret


def buy(platform, *, channel=PurchaseChannel.PORTAL, participant=None) -> Voucher:
    participant = participant or participant_with_balance(balance=1_000_000)
    listing = ListingFactory(platform=platform, price=250_000)
    started = services.purchase_start(
        participant_id=participant.pk,
        listing_id=listing.pk,
        channel=channel,
        platform_id=platform.pk if channel == PurchaseChannel.API else None,
    )
    return services.purchase_confirm(
        purchase_id=started.purchase.pk,
        code=sms_code(phone=participant.applicant.phone),
        platform_id=platform.pk if channel == PurchaseChannel.API else None,
    )


def make_due(delivery: WebhookDelivery) -> None:
    """Skip the backoff wait."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def verified(request: dict, secret: str) -> bool:
    """What the platform does: recompute the signature over the request as received."""
    headers = request["headers"]
    expected = signing.signature(
        secret=secret,
        method="POST",
        path=request["path"],
        timestamp=headers[signing.HEADER_TIMESTAMP],
        nonce=headers[signing.HEADER_NONCE],
        body=request["raw"],
    )
    return headers[signing.HEADER_SIGNATURE] == expected


# --- Queueing and delivery ----------------------------------------------------------


@pytest.mark.parametrize("channel", [PurchaseChannel.PORTAL, PurchaseChannel.API])
def test_buying_delivers_a_signed_voucher_issued_event(
    platform, secret, receiver, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(platform, channel=channel)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.platform_id, delivery.event_type, delivery.idempotency_key) == (
        platform.pk,
        WebhookEvent.VOUCHER_ISSUED,
        f"voucher:{voucher.pk}:issued",
    )
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        WebhookStatus.DELIVERED,
        1,
        200,
        "",
    )
    assert delivery.delivered_at is not None
    [request] = receiver.requests
    assert request["path"] == WEBHOOK_PATH
    headers = request["headers"]
    key_id = PlatformCredential.objects.get(platform=platform).key_id
    assert headers[signing.HEADER_KEY_ID] == key_id
    assert headers["X-Prakerja-Event"] == "voucher.issued"
    assert headers["X-Prakerja-Event-Id"] == str(delivery.event_id)
    assert headers["Content-Type"] == "application/json"
    assert verified(request, secret)
    assert not verified(request, secret + "x")
    body = request["body"]
    assert body == delivery.payload
    assert (body["id"], body["type"]) == (str(delivery.event_id), "voucher.issued")
    assert body["data"]["voucher"]["code"] == voucher.code
    assert body["data"]["voucher"]["status"] == "issued"
    assert body["data"]["voucher"]["purchase_id"] == voucher.purchase_id


def test_the_signature_covers_the_body(platform, secret, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    [request] = receiver.requests
    tampered = {**request, "raw": request["raw"].replace(b'"issued"', b'"redeemed"')}
    assert tampered["raw"] != request["raw"]
    assert verified(request, secret)
    assert not verified(tampered, secret)


def test_the_newest_valid_credential_signs(platform, secret, receiver, django_capture_on_commit_callbacks):
    _new_key_id, new_secret = credential_for(platform)  # rotation: the old one now expires later
    newest = PlatformCredential.objects.filter(platform=platform).order_by("-created_at", "-id").first()
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    [request] = receiver.requests
    assert request["headers"][signing.HEADER_KEY_ID] == newest.key_id
    assert verified(request, new_secret)


def test_the_same_event_queued_twice_is_one_row(platform, secret, django_capture_on_commit_callbacks):
    voucher = buy(platform)  # callbacks not run: the row stays queued
    first = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks() as callbacks:
        again = webhooks.webhook_queue(voucher_id=voucher.pk, event_type=WebhookEvent.VOUCHER_ISSUED)
    assert again.pk == first.pk
    assert again.event_id == first.event_id
    assert WebhookDelivery.objects.count() == 1
    assert callbacks == []  # nothing dispatched twice either
    # Confirming the paid purchase again (a retried API call) queues nothing new.
    services.purchase_confirm(purchase_id=voucher.purchase_id, code="000000")
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "by", [CancelledBy.PARTICIPANT, CancelledBy.OFFICER, CancelledBy.PLATFORM], ids=lambda by: by.value
)
def test_cancelling_delivers_voucher_cancelled(
    platform, secret, receiver, by, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(platform)
    with django_capture_on_commit_callbacks(execute=True):
        services.voucher_cancel(
            voucher_id=voucher.pk,
            by=by,
            platform_id=platform.pk if by == CancelledBy.PLATFORM else None,
            reason="Salah pilih",
        )

    cancelled = WebhookDelivery.objects.get(event_type=WebhookEvent.VOUCHER_CANCELLED)
    assert cancelled.idempotency_key == f"voucher:{voucher.pk}:cancelled"
    assert (cancelled.status, cancelled.attempts) == (WebhookStatus.DELIVERED, 1)
    assert [r["headers"]["X-Prakerja-Event"] for r in receiver.requests] == [
        "voucher.issued",
        "voucher.cancelled",
    ]
    request = receiver.requests[1]
    assert verified(request, secret)
    sent_voucher = request["body"]["data"]["voucher"]
    voucher.refresh_from_db()
    assert (sent_voucher["code"], sent_voucher["status"]) == (voucher.code, "cancelled")
    assert sent_voucher["cancelled_at"] == voucher.cancelled_at.isoformat()


def test_a_platform_without_webhook_url_gets_nothing(receiver, django_capture_on_commit_callbacks):
    platform = PlatformFactory(webhook_url="")
    credential_for(platform)
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(platform)
        services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT)
    assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.CANCELLED
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_a_refused_cancellation_queues_nothing(platform, secret, django_capture_on_commit_callbacks):
    voucher = buy(platform)
    services.voucher_redeem(code=voucher.code, platform_id=platform.pk)
    with pytest.raises(VoucherRefused):
        services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT)
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["voucher.issued"]


# --- Retries and failures ---------------------------------------------------------------


def test_a_503_is_retried_with_backoff_then_delivered(
    platform, secret, receiver, django_capture_on_commit_callbacks
):
    receiver.answers = [(503, {"error": "maintenance"}), (200, {})]
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (WebhookStatus.QUEUED, 1, 503)
    assert delivery.last_error.startswith("HTTP 503")
    assert delivery.sending_started_at is None
    assert delivery.next_attempt_at > timezone.now()  # waits 30 s

    assert webhooks.webhooks_sweep() == {"requeued": 0, "enqueued": 0}  # not due yet
    make_due(delivery)
    assert webhooks.webhooks_sweep() == {"requeued": 0, "enqueued": 1}  # eager: sent right here

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        WebhookStatus.DELIVERED,
        2,
        200,
        "",
    )
    first, second = receiver.requests
    assert first["headers"]["X-Prakerja-Event-Id"] == second["headers"]["X-Prakerja-Event-Id"]
    assert first["body"] == second["body"]
    assert first["headers"][signing.HEADER_NONCE] != second["headers"][signing.HEADER_NONCE]
    assert verified(second, secret)


@pytest.mark.parametrize("status", [408, 429, 500, 502])
def test_transient_answers_are_retried(
    platform, secret, receiver, status, django_capture_on_commit_callbacks
):
    receiver.default = (status, {})
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == (WebhookStatus.QUEUED, status)


def test_backoff_doubles_from_30_seconds_up_to_an_hour():
    delays = [webhooks.retry_delay(attempts).total_seconds() for attempts in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_other_answers_fail_at_once(platform, secret, receiver, status, django_capture_on_commit_callbacks):
    receiver.default = (status, {"message": "x" * 5000})
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        WebhookStatus.FAILED,
        1,
        status,
    )
    assert delivery.last_error.startswith(f"HTTP {status}")
    assert len(delivery.last_error) == 300  # the answer's body is cut short
    make_due(delivery)
    assert webhooks.webhook_send(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_eight_failures_mark_the_delivery_failed(platform, secret, receiver, settings):
    assert settings.MARKETPLACE_WEBHOOK_MAX_ATTEMPTS == 8
    receiver.default = (500, {})
    voucher = buy(platform)
    delivery = WebhookDelivery.objects.get()
    results = []
    for _attempt in range(9):
        make_due(delivery)
        results.append(webhooks.webhook_send(delivery_id=delivery.pk))
    assert results == [WebhookStatus.QUEUED] * 7 + [WebhookStatus.FAILED, "skipped"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (WebhookStatus.FAILED, 8, 500)
    assert len(receiver.requests) == 8
    assert voucher.code in receiver.requests[-1]["raw"].decode()


def test_an_unreachable_platform_is_retried(secret, platform, receiver):
    voucher = buy(platform)
    platform.webhook_url = "http://127.0.0.1:9/closed"  # the discard port: nobody listens
    platform.save()
    delivery = WebhookDelivery.objects.get(idempotency_key=f"voucher:{voucher.pk}:issued")
    assert webhooks.webhook_send(delivery_id=delivery.pk) == WebhookStatus.QUEUED
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, None)
    assert delivery.last_error.startswith("ConnectionError")


def test_production_never_sends_a_webhook_in_the_clear(secret, platform, receiver, settings):
    settings.SECURE_HTTPS = True
    buy(platform)  # the receiver is http://127.0.0.1:...
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_send(delivery_id=delivery.pk) == WebhookStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error == "The webhook URL must use https."
    assert receiver.requests == []


def test_sends_go_to_their_own_queue_when_one_is_set(
    platform, secret, settings, django_capture_on_commit_callbacks
):
    from unittest import mock

    from marketplace.tasks import webhooks_send_batch

    settings.MARKETPLACE_WEBHOOK_QUEUE = "webhooks"
    with (
        mock.patch.object(webhooks_send_batch, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        voucher = buy(platform)
    delivery = WebhookDelivery.objects.get(idempotency_key=f"voucher:{voucher.pk}:issued")
    send.assert_called_once_with(([delivery.pk],), queue="webhooks")
    settings.MARKETPLACE_WEBHOOK_QUEUE = ""
    with mock.patch.object(webhooks_send_batch, "apply_async") as send:
        webhooks.webhooks_sweep()  # the sweeper dispatches the same way; empty: the default queue
    send.assert_called_once_with(([delivery.pk],), queue=None)


def test_a_broker_outage_at_commit_does_not_fail_the_purchase(
    platform, secret, django_capture_on_commit_callbacks
):
    """The row is committed and the sweeper sends it later: the participant must not see an error."""
    from unittest import mock

    from marketplace.tasks import webhooks_send_batch

    with (
        mock.patch.object(webhooks_send_batch, "apply_async", side_effect=ConnectionError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        voucher = buy(platform)
    assert WebhookDelivery.objects.get(idempotency_key=f"voucher:{voucher.pk}:issued").status == "queued"


def test_without_a_valid_credential_the_delivery_fails(platform, receiver):
    credential_for(platform)
    PlatformCredential.objects.filter(platform=platform).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.webhook_send(delivery_id=delivery.pk) == WebhookStatus.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (WebhookStatus.FAILED, 1, None)
    assert delivery.last_error == "The platform has no valid API credential to sign the webhook with."
    assert receiver.requests == []


def test_a_platform_with_no_credential_at_all_fails_too(
    platform, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookStatus.FAILED
    assert "no valid API credential" in delivery.last_error
    assert receiver.requests == []


# --- The sweeper ------------------------------------------------------------------------


def test_the_sweeper_requeues_stuck_rows_and_dispatches_due_ones(platform, secret, receiver, settings):
    vouchers = [buy(platform) for _ in range(4)]
    stuck, due, later, leased = (
        WebhookDelivery.objects.get(idempotency_key=f"voucher:{v.pk}:issued") for v in vouchers
    )
    now = timezone.now()
    long_ago = now - datetime.timedelta(seconds=settings.MARKETPLACE_WEBHOOK_STUCK_AFTER_SECONDS + 60)
    # A worker died mid-send.
    WebhookDelivery.objects.filter(pk=stuck.pk).update(
        status=WebhookStatus.SENDING, sending_started_at=long_ago, attempts=1
    )
    # Waiting for its backoff.
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=now + datetime.timedelta(minutes=5))
    # Dispatched a moment ago; its task is still waiting in the queue.
    WebhookDelivery.objects.filter(pk=leased.pk).update(sending_started_at=now)

    assert webhooks.webhooks_sweep() == {"requeued": 1, "enqueued": 2}

    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {
        stuck.pk: WebhookStatus.DELIVERED,
        due.pk: WebhookStatus.DELIVERED,
        later.pk: WebhookStatus.QUEUED,
        leased.pk: WebhookStatus.QUEUED,
    }
    assert WebhookDelivery.objects.get(pk=stuck.pk).attempts == 2
    assert sorted(r["headers"]["X-Prakerja-Event-Id"] for r in receiver.requests) == sorted(
        [str(stuck.event_id), str(due.event_id)]
    )


def test_a_sweep_dispatches_a_bounded_batch(platform, secret, receiver, settings):
    settings.MARKETPLACE_WEBHOOK_SWEEP_BATCH = 2
    for _ in range(3):
        buy(platform)
    assert webhooks.webhooks_sweep() == {"requeued": 0, "enqueued": 2}
    assert webhooks.webhooks_sweep() == {"requeued": 0, "enqueued": 1}
    assert WebhookDelivery.objects.filter(status=WebhookStatus.DELIVERED).count() == 3
    assert len(receiver.requests) == 3


def test_the_sweep_task_is_scheduled_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["marketplace-webhooks-sweep"]
    assert entry == {"task": "marketplace.webhooks_sweep", "schedule": 60.0}
    from prakerja.celery import app

    assert "marketplace.webhooks_sweep" in app.tasks
    assert "marketplace.webhooks_send_batch" in app.tasks


# --- The contract and privacy -----------------------------------------------------------


@dataclass
class WebhookRequest:
    """A request the receiver got, in openapi-core's webhook request protocol."""

    name: str
    body: bytes
    parameters: RequestParameters = field(default_factory=RequestParameters)
    method: str = "post"
    content_type: str = "application/json"


def as_webhook_request(request: dict) -> WebhookRequest:
    return WebhookRequest(
        name=request["headers"]["X-Prakerja-Event"],
        body=request["raw"],
        parameters=RequestParameters(header=Headers(list(request["headers"].items()))),
    )


def test_webhook_requests_match_the_openapi_contract(
    platform, secret, receiver, openapi_spec, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(platform)
    with django_capture_on_commit_callbacks(execute=True):
        services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT)
    issued, cancelled = receiver.requests
    openapi_spec.validate_webhook_request(as_webhook_request(issued))
    openapi_spec.validate_webhook_request(as_webhook_request(cancelled))


def test_the_contract_check_can_fail(
    platform, secret, receiver, openapi_spec, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    [request] = receiver.requests
    body = json.loads(request["raw"])
    body["data"]["voucher"]["nik"] = "3275011403950001"
    broken = {**request, "raw": json.dumps(body).encode()}
    with pytest.raises(InvalidRequestBody, match="not valid"):
        openapi_spec.validate_webhook_request(as_webhook_request(broken))
    wrong_event = {**request, "headers": {**request["headers"], "X-Prakerja-Event": "voucher.cancelled"}}
    with pytest.raises(InvalidRequestBody, match="not valid"):
        openapi_spec.validate_webhook_request(as_webhook_request(wrong_event))


def test_the_payload_never_names_the_participant(
    platform, secret, receiver, django_capture_on_commit_callbacks
):
    participant = participant_with_balance(balance=1_000_000)
    applicant = participant.applicant
    with django_capture_on_commit_callbacks(execute=True):
        voucher = buy(platform, participant=participant)
        services.voucher_cancel(voucher_id=voucher.pk, by=CancelledBy.PARTICIPANT)
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        sent = request["raw"].decode() + json.dumps(request["headers"])
        for private in (
            applicant.nik,
            applicant.phone,
            applicant.phone.lstrip("+"),
            applicant.user.email,
            applicant.full_name,
            participant.card_number,
        ):
            assert private not in sent
        assert "balance" not in sent
    stored = json.dumps(list(WebhookDelivery.objects.values_list("payload", flat=True)))
    assert applicant.nik not in stored
    assert applicant.full_name not in stored


# --- The console -------------------------------------------------------------------------


def officer(role=Role.PROGRAMME_OFFICER):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_officers_see_the_deliveries(platform, secret, receiver, client, django_capture_on_commit_callbacks):
    receiver.default = (400, {})
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    client.force_login(officer())
    url = reverse("admin:marketplace_webhookdelivery_changelist")
    html = client.get(url).content.decode()
    assert "Pintaria" in html
    assert "retry_now" in html
    html = client.get(url, {"q": str(delivery.event_id)}).content.decode()
    assert reverse("admin:marketplace_webhookdelivery_change", args=[delivery.pk]) in html
    html = client.get(url, {"q": "not-an-id"}).content.decode()
    assert reverse("admin:marketplace_webhookdelivery_change", args=[delivery.pk]) not in html
    for filters in (
        {"status__exact": "failed"},
        {"event_type__exact": "voucher.issued"},
        {"platform__id__exact": platform.pk},
    ):
        response = client.get(url, filters)
        assert response.status_code == 200
        assert (
            reverse("admin:marketplace_webhookdelivery_change", args=[delivery.pk])
            in response.content.decode()
        )
    detail = client.get(reverse("admin:marketplace_webhookdelivery_change", args=[delivery.pk]))
    assert detail.status_code == 200
    assert str(delivery.event_id) in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_the_list_query_count_is_constant(platform, secret, client, django_assert_max_num_queries):
    buy(platform)
    client.force_login(officer())
    url = reverse("admin:marketplace_webhookdelivery_changelist")
    with django_assert_max_num_queries(20) as one:
        client.get(url)
    for _ in range(2):
        buy(platform)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_retry_now_sends_a_failed_delivery_again_and_is_audited(
    platform, secret, receiver, client, django_capture_on_commit_callbacks
):
    receiver.answers = [(400, {}), (200, {})]
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookStatus.FAILED
    user = officer()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:marketplace_webhookdelivery_changelist"),
            {"action": "retry_now", helpers.ACTION_CHECKBOX_NAME: [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookStatus.DELIVERED, 2)
    entry = AuditEntry.objects.get(action="marketplace.webhook.retried")
    assert entry.actor == user
    assert entry.target_id == str(delivery.pk)
    assert entry.data["status_before"] == "failed"
    assert entry.data["event_id"] == str(delivery.event_id)


def test_retry_now_leaves_delivered_rows_alone(
    platform, secret, receiver, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        buy(platform)
    delivery = WebhookDelivery.objects.get()
    client.force_login(officer())
    client.post(
        reverse("admin:marketplace_webhookdelivery_changelist"),
        {"action": "retry_now", helpers.ACTION_CHECKBOX_NAME: [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookStatus.DELIVERED, 1)
    assert not AuditEntry.objects.filter(action="marketplace.webhook.retried").exists()
    assert len(receiver.requests) == 1


def test_a_finance_officer_sees_but_cannot_retry(platform, client):
    buy(platform)  # no credential: fails at the first attempt
    delivery = WebhookDelivery.objects.get()
    webhooks.webhook_send(delivery_id=delivery.pk)
    client.force_login(officer(Role.FINANCE_OFFICER))
    url = reverse("admin:marketplace_webhookdelivery_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert "retry_now" not in response.content.decode()
    client.post(url, {"action": "retry_now", helpers.ACTION_CHECKBOX_NAME: [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookStatus.FAILED
    assert not AuditEntry.objects.filter(action="marketplace.webhook.retried").exists()


@pytest.mark.parametrize("role", [Role.PLATFORM, Role.KYC_REVIEWER, Role.DISNAKER_STAFF])
def test_other_roles_cannot_see_the_deliveries(platform, client, role):
    buy(platform)
    delivery = WebhookDelivery.objects.get()
    user = officer(role)
    assert not user.has_perm("marketplace.view_webhookdelivery")
    assert not user.has_perm("marketplace.retry_webhookdelivery")
    client.force_login(user)
    for url in (
        reverse("admin:marketplace_webhookdelivery_changelist"),
        reverse("admin:marketplace_webhookdelivery_change", args=[delivery.pk]),
    ):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert str(delivery.event_id) not in response.content.decode()


def test_programme_officers_hold_both_permissions():
    user = officer()
    assert user.has_perm("marketplace.view_webhookdelivery")
    assert user.has_perm("marketplace.retry_webhookdelivery")
