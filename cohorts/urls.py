from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("gelombang/", views.wave_join, name="join"),
    path("undian/", views.draw_index, name="draw_index"),
    path("undian/verify_draw.py", views.draw_script, name="draw_script"),
    path("undian/gelombang-<int:number>/", views.draw_detail, name="draw_detail"),
    path("undian/gelombang-<int:number>/undian.csv.gz", views.draw_file, name="draw_file"),
]
