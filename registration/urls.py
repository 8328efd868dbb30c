from django.urls import path

from registration import kemnaker_views, views

app_name = "registration"

urlpatterns = [
    path("wilayah/kabupaten/", views.regencies, name="regencies"),
    path("wilayah/kecamatan/", views.districts, name="districts"),
    path("profil/", views.profile_edit, name="profile"),
    path("profil/data/", views.profile_detail, name="profile_detail"),
    path("profil/periksa-nik/", views.civil_retry, name="civil_retry"),
    path("profil/nomor-hp/", views.phone_start, name="phone"),
    path("profil/nomor-hp/kode/", views.phone_code, name="phone_code"),
    path("profil/nomor-hp/kirim-ulang/", views.phone_resend, name="phone_resend"),
    path("klaim/", views.claim_start, name="claim"),
    path("klaim/kode/", views.claim_code, name="claim_code"),
    path("staf/", views.staff_home, name="staff_home"),
    path("staf/daftar/", views.staff_register, name="staff_register"),
    path("staf/impor/", views.staff_import, name="staff_import"),
    path("staf/impor/template.csv", views.staff_import_template, name="staff_import_template"),
    path("staf/impor/template.xlsx", views.staff_import_template_xlsx, name="staff_import_template_xlsx"),
    path("staf/impor/<int:job_id>/", views.staff_import_detail, name="staff_import_detail"),
    path("staf/pengajuan/", kemnaker_views.staff_submissions, name="staff_submissions"),
    path("staf/pengajuan/kirim/", kemnaker_views.staff_submission_send, name="staff_submission_send"),
    path(
        "staf/pengajuan/<int:submission_id>/",
        kemnaker_views.staff_submission_detail,
        name="staff_submission_detail",
    ),
    path("staf/kemnaker/", kemnaker_views.kemnaker_queue, name="kemnaker_queue"),
    path("staf/kemnaker/<int:submission_id>/", kemnaker_views.kemnaker_review, name="kemnaker_review"),
]
