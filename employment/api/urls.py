from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from employment.api import views

app_name = "job_api"

urlpatterns = [
    path("openapi.yaml", views.openapi_document, name="openapi"),
    path("ping", views.ping, name="ping"),
    path("profiles", views.profiles, name="profiles"),
    path("profiles/<str:profile_id>", views.profile, name="profile"),
    path("profiles/<str:profile_id>/openings", views.openings, name="openings"),
    path("profiles/<str:profile_id>/outcomes", views.outcomes, name="outcomes"),
    # Everything else under /api/jobs/v1/ is the API's JSON 404.
    re_path(r"^[\s\S]*\Z", csrf_exempt(views.not_found), name="not_found"),
]
