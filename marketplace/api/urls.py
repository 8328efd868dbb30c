from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from marketplace.api import buying, views

app_name = "platform_api"

urlpatterns = [
    path("openapi.yaml", views.openapi_document, name="openapi"),
    path("ping", views.ping, name="ping"),
    path("listings", views.listings, name="listings"),
    path("listings/<int:listing_id>", views.listing, name="listing"),
    path("purchases", buying.purchases, name="purchases"),
    path("purchases/<int:purchase_id>", buying.purchase, name="purchase"),
    path("purchases/<int:purchase_id>/confirm", buying.purchase_confirm, name="purchase_confirm"),
    path("purchases/<int:purchase_id>/resend-code", buying.purchase_resend, name="purchase_resend"),
    path("vouchers/<str:code>", buying.voucher, name="voucher"),
    path("vouchers/<str:code>/redeem", buying.voucher_redeem, name="voucher_redeem"),
    path("vouchers/<str:code>/complete", buying.voucher_complete, name="voucher_complete"),
    path("vouchers/<str:code>/cancel", buying.voucher_cancel, name="voucher_cancel"),
    # Everything else under /api/platform/v1/ is the API's JSON 404, also a path with a newline
    # (``<path:>`` is ``.+``, which stops at one, and the portal's HTML page would answer).
    re_path(r"^[\s\S]*\Z", csrf_exempt(views.not_found), name="not_found"),
]
