from allauth.account import views as account_views
from django.contrib import admin
from django.urls import include, path

from prakerja import security, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("bahasa/", views.set_language, name="set_language"),
    path("dasbor/", views.dashboard, name="dashboard"),
    path("sesi/perpanjang/", views.session_keepalive, name="session_keepalive"),
    path("privasi/", views.privacy, name="privacy"),
    path("bantuan/", views.help_page, name="help"),
    path("accounts/", include("allauth.urls")),
    # The console signs in and out through allauth only (rate limits, TOTP): these two come
    # before the admin's own login and logout.
    path("admin/login/", security.admin_login),
    path("admin/logout/", account_views.logout),
    # The officers' programme dashboard (oversight), inside the console's look and login.
    # Before admin.site.urls, whose catch-all would take it.
    path("admin/dasbor-program/", include("oversight.dashboard_urls")),
    path("admin/", admin.site.urls),
    path("", include("registration.urls")),
    path("", include("kyc.urls")),
    path("", include("disbursement.urls")),
    path("", include("cohorts.urls")),
    path("", include("marketplace.urls")),
    path("", include("surveys.urls")),
    path("", include("employment.urls")),
    path("", include("oversight.urls")),
]
