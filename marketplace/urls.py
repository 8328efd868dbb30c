from django.urls import include, path

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("pelatihan/", views.catalog, name="catalog"),
    path("pelatihan/<int:pk>/", views.training_detail, name="training_detail"),
    path("lembaga/daftar/", views.provider_apply, name="provider_apply"),
    path("lembaga/daftar/terkirim/", views.provider_applied, name="provider_applied"),
    path("lembaga/wilayah/kecamatan/", views.districts, name="districts"),
    path("api/platform/v1/", include("marketplace.api.urls")),
]
