from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("gelombang/", views.wave_join, name="join"),
]
