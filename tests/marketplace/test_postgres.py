"""PostgreSQL-only: the full-text index and races between concurrent requests."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from marketplace import services
from marketplace.enums import ProviderStatus
from marketplace.exceptions import TransitionNotAllowed
from marketplace.models import ApiIdempotencyRecord, Listing, Provider, Training
from marketplace.search import apply_search
from marketplace.selectors import CatalogQuery, catalog_listings
from prakerja.models import AuditEntry
from tests.marketplace.conftest import SignedClient
from tests.marketplace.factories import ListingFactory, PlatformFactory, ProviderFactory, credential_for

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_search_expression_matches_the_full_text_index():
    """The catalog searches with search.apply_search; its expression must be the indexed one."""
    for n in range(30):
        ListingFactory(training__title=f"Pelatihan Nomor {n}", training__description="Isi pelatihan.")
    ListingFactory(training__title="Desain Grafis dengan Canva")
    queryset, searched = apply_search(Training.objects.all(), text="canv")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on training_search_idx" in plan
    assert searched
    result = catalog_listings(query=CatalogQuery(text="canv"))
    assert [row.training.title for row in result.listings] == ["Desain Grafis dengan Canva"]


def _run_together(*calls):
    """Start the calls at the same moment in threads; return their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def runner(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_retries_with_one_idempotency_key_apply_once(transactional_db, openapi_spec, monkeypatch):
    platform = PlatformFactory(slug="pintaria")
    listing = ListingFactory(platform=platform, price=300_000)
    key_id, secret = credential_for(platform)
    original = services.listing_update

    def slow_update(**kwargs):
        time.sleep(0.3)  # keep the first transaction open while the second arrives
        return original(**kwargs)

    monkeypatch.setattr(services, "listing_update", slow_update)

    def call():
        api = SignedClient(Client(), key_id=key_id, secret=secret, spec=openapi_spec)
        return api.patch(
            f"/api/platform/v1/listings/{listing.pk}", {"price": 250_000}, idempotency_key="race-0001"
        )

    first, second = _run_together(call, call)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]
    assert AuditEntry.objects.filter(action="marketplace.listing.updated").count() == 1
    assert ApiIdempotencyRecord.objects.filter(key="race-0001").count() == 1
    assert Listing.objects.get(pk=listing.pk).price == 250_000


def test_concurrent_requests_with_one_nonce_only_one_gets_through(transactional_db, openapi_spec):
    platform = PlatformFactory(slug="pintaria")
    key_id, secret = credential_for(platform)
    timestamp = int(time.time())

    def call():
        api = SignedClient(Client(), key_id=key_id, secret=secret, spec=openapi_spec)
        return api.get("/api/platform/v1/ping", nonce="same-nonce-for-both", timestamp=timestamp)

    responses = _run_together(call, call, call)
    codes = sorted(response.status_code for response in responses)
    assert codes == [200, 401, 401]
    assert sorted(r.json().get("error", {}).get("code", "") for r in responses) == [
        "",
        "nonce_reused",
        "nonce_reused",
    ]


def test_two_officers_deciding_one_application_only_one_wins(transactional_db):
    provider = ProviderFactory(status=ProviderStatus.APPLIED)
    results = _run_together(
        lambda: services.provider_verify(provider_id=provider.pk, actor=None, reason="lengkap"),
        lambda: services.provider_reject(provider_id=provider.pk, actor=None, reason="tidak lengkap"),
    )
    wins = [r for r in results if isinstance(r, Provider)]
    losses = [r for r in results if isinstance(r, TransitionNotAllowed)]
    assert (len(wins), len(losses)) == (1, 1)
    provider.refresh_from_db()
    assert provider.status == wins[0].status
    assert (
        AuditEntry.objects.filter(
            action__in=["marketplace.provider.verified", "marketplace.provider.rejected"]
        ).count()
        == 1
    )
