from django.urls import path

from kyc import views

app_name = "kyc"

urlpatterns = [
    path("kyc/", views.upload, name="upload"),
    # Under /staf/ so that the officers' two-factor rule applies.
    path("staf/kyc/foto/<int:submission_id>/<str:image>/", views.photo, name="photo"),
]
