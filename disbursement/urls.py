from django.urls import path

from disbursement import views
from disbursement.gateway import views as gateway_views

app_name = "disbursement"

urlpatterns = [
    path("insentif/", views.incentives, name="incentives"),
    path("rekening/", views.payout_account, name="payout_account"),
    path("rekening/kode/", views.payout_account_code, name="payout_account_code"),
    path(
        "api/payout/v1/callbacks/<int:partner_id>/",
        gateway_views.partner_callback,
        name="partner_callback",
    ),
]
