from django.contrib import admin

from registration.models import DisnakerStaff, District, Province, Regency


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Regency)
class RegencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]
    list_select_related = ["province"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "regency"]
    search_fields = ["code", "name"]
    list_select_related = ["regency"]
    show_full_result_count = False


@admin.register(DisnakerStaff)
class DisnakerStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "province", "office_name"]
    list_filter = ["province"]
    search_fields = ["user__email", "office_name"]
    autocomplete_fields = ["user", "province"]
    list_select_related = ["user", "province"]
