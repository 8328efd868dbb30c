from django.urls import include, path

from marketplace import purchase_views, views

app_name = "marketplace"

urlpatterns = [
    path("pelatihan/", views.catalog, name="catalog"),
    path("pelatihan/<int:pk>/", views.training_detail, name="training_detail"),
    path("pelatihan/beli/<int:listing_id>/", purchase_views.buy, name="buy"),
    path("pelatihan-saya/", purchase_views.my_trainings, name="my_trainings"),
    path("pelatihan-saya/<uuid:public_id>/", purchase_views.voucher, name="voucher"),
    path("pelatihan-saya/<uuid:public_id>/kode/", purchase_views.purchase_code, name="purchase_code"),
    path(
        "pelatihan-saya/<uuid:public_id>/kirim-ulang/", purchase_views.purchase_resend, name="purchase_resend"
    ),
    path("pelatihan-saya/<uuid:public_id>/batalkan/", purchase_views.voucher_cancel, name="voucher_cancel"),
    path(
        "pelatihan-saya/<uuid:public_id>/sertifikat.pdf",
        purchase_views.certificate_download,
        name="certificate_download",
    ),
    path("sertifikat/", views.certificate_verify, name="certificate_lookup"),
    path("sertifikat/<str:code>/", views.certificate_verify, name="certificate_verify"),
    path("lembaga/daftar/", views.provider_apply, name="provider_apply"),
    path("lembaga/daftar/terkirim/", views.provider_applied, name="provider_applied"),
    path("lembaga/wilayah/kecamatan/", views.districts, name="districts"),
    path("api/platform/v1/", include("marketplace.api.urls")),
]
