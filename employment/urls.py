from django.urls import include, path

from employment import views

app_name = "employment"

urlpatterns = [
    path("lowongan/", views.openings, name="openings"),
    path("lowongan/profil/", views.job_profile, name="job_profile"),
    path("lowongan/berhenti-berbagi/", views.sharing_stop, name="sharing_stop"),
    path("api/jobs/v1/", include("employment.api.urls")),
]
