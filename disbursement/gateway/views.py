"""``POST /api/payout/v1/callbacks/<partner_id>/``: a payment partner reports a status change."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from disbursement.gateway.services import callback_receive

MAX_CALLBACK_BYTES = 64 * 1024


@csrf_exempt  # machine to machine: the partner's HMAC signature authenticates it
@require_POST
def partner_callback(request: HttpRequest, partner_id: int) -> JsonResponse:
    if len(request.body) > MAX_CALLBACK_BYTES:
        return JsonResponse({"error": {"code": "payload_too_large"}}, status=413)
    outcome = callback_receive(partner_id=partner_id, headers=request.headers, body=request.body)
    if outcome.http_status >= 400:
        return JsonResponse({"error": {"code": outcome.result}}, status=outcome.http_status)
    return JsonResponse({"result": outcome.result}, status=outcome.http_status)
