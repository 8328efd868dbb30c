from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("pelatihan-saya/<uuid:public_id>/nilai/", views.rate, name="rate"),
    path("survei/", views.survey_list, name="list"),
    path("survei/<int:assignment_id>/", views.answer, name="answer"),
    path("survei/<int:assignment_id>/jawaban/", views.answer_autosave, name="autosave"),
]
