"""The HTTP SMS gateway backend against a local gateway, and through the outbox."""

import pytest

from prakerja.enums import NotificationChannel, NotificationStatus
from prakerja.notifications import notification_queue, notification_send
from prakerja.sms import SmsError, SmsMessage, send_sms
from tests.http_stub import JsonStub


@pytest.fixture
def gateway(settings):
    with JsonStub(default=(200, {"id": "msg-1"})) as stub:
        settings.SMS_BACKEND = "prakerja.sms.HttpSmsBackend"
        settings.SMS_HTTP_URL = stub.url("/v1/sms")
        settings.SMS_HTTP_TOKEN = "gateway-token"
        settings.SMS_SENDER_ID = "PRAKERJA"
        yield stub


def test_a_message_is_posted_as_json_with_the_token(gateway):
    assert send_sms(to="+6281234567890", body="Kode Anda 123456") == "msg-1"
    [request] = gateway.requests
    assert request["path"] == "/v1/sms"
    assert request["auth"] == "Bearer gateway-token"
    assert request["body"] == {"to": "+6281234567890", "message": "Kode Anda 123456", "sender": "PRAKERJA"}


@pytest.mark.parametrize(
    ("status", "transient"), [(503, True), (500, True), (429, True), (400, False), (401, False), (422, False)]
)
def test_gateway_errors_say_whether_a_retry_can_help(gateway, status, transient):
    gateway.answers = [(status, {"error": "x"})]
    with pytest.raises(SmsError) as error:
        send_sms(to="+6281234567890", body="x")
    assert error.value.transient is transient


def test_an_unreachable_or_unset_gateway(settings):
    from prakerja.sms import HttpSmsBackend

    settings.SMS_HTTP_URL = "http://127.0.0.1:9/sms"  # the discard port: nothing listens
    settings.SMS_HTTP_TIMEOUT = 2
    with pytest.raises(SmsError, match="gateway unreachable") as error:
        HttpSmsBackend().send(SmsMessage(to="+6281234567890", body="x"))
    assert error.value.transient is True
    settings.SMS_HTTP_URL = ""
    with pytest.raises(SmsError) as error:
        HttpSmsBackend().send(SmsMessage(to="+6281234567890", body="x"))
    assert error.value.transient is False


@pytest.mark.django_db
def test_the_outbox_retries_a_busy_gateway_and_gives_up_on_a_refusal(gateway):
    busy = notification_queue(
        channel=NotificationChannel.SMS, recipient="+6281234567890", body="a", sensitive=True
    )
    gateway.answers = [(503, {}), (200, {"id": "msg-2"})]
    assert notification_send(notification_id=busy.pk) == NotificationStatus.QUEUED
    busy.refresh_from_db()
    assert (busy.attempts, busy.body) == (1, "a")
    assert "503" in busy.last_error
    busy.next_attempt_at = busy.created_at
    busy.save(update_fields=["next_attempt_at"])
    assert notification_send(notification_id=busy.pk) == NotificationStatus.SENT
    busy.refresh_from_db()
    assert busy.body == ""  # a sent one-time code is not kept

    refused = notification_queue(channel=NotificationChannel.SMS, recipient="+6281234567891", body="b")
    gateway.answers = [(400, {"error": "invalid number"})]
    assert notification_send(notification_id=refused.pk) == NotificationStatus.FAILED
    assert len(gateway.requests) == 3
