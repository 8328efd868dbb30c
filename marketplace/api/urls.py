from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from marketplace.api import views

app_name = "platform_api"

urlpatterns = [
    path("openapi.yaml", views.openapi_document, name="openapi"),
    path("ping", views.ping, name="ping"),
    path("listings", views.listings, name="listings"),
    path("listings/<int:listing_id>", views.listing, name="listing"),
    # Reserved for the buying half of issue 6 (answer 501 not_implemented).
    path("purchases", views.reserved, name="purchases"),
    path("purchases/<int:purchase_id>/confirm", views.reserved, name="purchase_confirm"),
    path("vouchers/<str:code>", views.reserved, name="voucher"),
    path("vouchers/<str:code>/redeem", views.reserved, name="voucher_redeem"),
    path("vouchers/<str:code>/complete", views.reserved, name="voucher_complete"),
    path("<path:rest>", csrf_exempt(views.not_found), name="not_found"),
]
