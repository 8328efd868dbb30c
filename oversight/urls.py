from django.urls import path

from oversight import monitoring_views, programme_stats, views

app_name = "oversight"

urlpatterns = [
    path("pengaduan/", views.complaint_list, name="complaint_list"),
    path("pengaduan/baru/", views.complaint_new, name="complaint_new"),
    path("pengaduan/nik/", views.nik_report, name="nik_report"),
    path("pengaduan/nik/kode/", views.nik_report_code, name="nik_report_code"),
    path("pengaduan/<str:ticket>/", views.complaint_detail, name="complaint_detail"),
    path("pengaduan/<str:ticket>/lampiran/", views.complaint_attachment, name="complaint_attachment"),
    path("staf/pengaduan/", views.staff_complaints, name="staff_complaints"),
    path("staf/pengaduan/baru/", views.staff_complaint_new, name="staff_complaint_new"),
    path("staf/pemantauan/", monitoring_views.monitoring_home, name="monitoring_home"),
    path("staf/pemantauan/data/<slug:slug>/", monitoring_views.monitoring_dataset, name="monitoring_dataset"),
    path(
        "staf/pemantauan/data/<slug:slug>.csv",
        monitoring_views.monitoring_download,
        name="monitoring_download",
    ),
    path(
        "staf/pemantauan/undian/gelombang-<int:number>.csv.gz",
        monitoring_views.monitoring_draw_file,
        name="monitoring_draw_file",
    ),
    path("statistik/", programme_stats.public_statistics, name="statistics"),
    path("statistik/data/", programme_stats.open_data_index, name="open_data"),
    path("statistik/data/<slug:slug>.<str:fmt>", programme_stats.open_data, name="open_data_file"),
]
