"""The officers' programme dashboard, mounted at /admin/dasbor-program/ by prakerja.urls (before the admin)."""

from django.contrib import admin
from django.urls import path

from oversight import programme_stats

urlpatterns = [
    path("", admin.site.admin_view(programme_stats.programme_dashboard), name="programme_dashboard"),
    path(
        "hitung-ulang/",
        admin.site.admin_view(programme_stats.programme_dashboard_refresh),
        name="programme_dashboard_refresh",
    ),
]
