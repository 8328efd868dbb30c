"""Console import pages on the one spreadsheet pipeline (ImportJob, Celery, dry run, progress).

An admin names its ``import_kind`` (a registered RowHandler). The mixin adds
``import/`` (upload) and ``import/<job>/`` (dry-run result, confirm or cancel, progress)
under the names django-import-export used (``<app>_<model>_import``), so links and the
role x URL test keep finding them. Every page needs the handler's permissions (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext

from prakerja.spreadsheets import spreadsheet_csv
from registration import imports
from registration.enums import ImportStatus
from registration.forms import ImportUploadForm
from registration.import_registry import RowHandler, import_handler
from registration.models import ImportJob


class PipelineImportAdminMixin:
    import_kind: str = ""
    # django-import-export's ExportMixin puts this template in front of the admin's own
    # (``change_list_template`` would make the page extend itself).
    import_export_change_list_template = "admin/registration/pipeline/change_list.html"

    @property
    def import_row_handler(self) -> RowHandler:
        handler = import_handler(self.import_kind)
        if handler is None:
            raise LookupError(f"no import handler registered for {self.import_kind!r}")
        return handler

    def has_pipeline_import_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perms(self.import_row_handler.permissions)

    def _url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.pipeline_import_view), name=self._url_name("import")),
            path(
                "import/template.csv",
                view(self.pipeline_template_view),
                name=self._url_name("import_template"),
            ),
            path("import/<int:job_id>/", view(self.pipeline_job_view), name=self._url_name("import_job")),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"has_pipeline_import_permission": self.has_pipeline_import_permission(request)}
        return super().changelist_view(request, extra_context={**extra, **(extra_context or {})})

    def _context(self, request, **kwargs):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "handler": self.import_row_handler,
            "import_url_name": f"admin:{self._url_name('import')}",
            "template_url_name": f"admin:{self._url_name('import_template')}",
            **kwargs,
        }

    def pipeline_import_view(self, request):
        if not self.has_pipeline_import_permission(request):
            raise PermissionDenied
        handler = self.import_row_handler
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = imports.import_job_create(
                    kind=handler.kind, upload=form.cleaned_data["file"], user=request.user
                )
            except imports.ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect(f"admin:{self._url_name('import_job')}", job_id=job.pk)
        jobs = ImportJob.objects.filter(kind=handler.kind).select_related("created_by")[:10]
        context = self._context(
            request,
            title=gettext("Import: %(what)s") % {"what": handler.label},
            form=form,
            jobs=jobs,
        )
        return TemplateResponse(request, "admin/registration/pipeline/import.html", context)

    def pipeline_template_view(self, request):
        if not self.has_pipeline_import_permission(request):
            raise PermissionDenied
        handler = self.import_row_handler
        rows = [handler.columns, handler.example] if handler.example else [handler.columns]
        response = HttpResponse(spreadsheet_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{handler.kind}.csv"'
        return response

    def pipeline_job_view(self, request, job_id):
        if not self.has_pipeline_import_permission(request):
            raise PermissionDenied
        handler = self.import_row_handler
        job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id, kind=handler.kind)
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "confirm" and imports.import_job_confirm(job=job, actor=request.user):
                messages.success(request, gettext("The import has started."))
            elif action == "cancel" and imports.import_job_cancel(job=job, actor=request.user):
                messages.info(request, gettext("The import is cancelled. Nothing was changed."))
            return redirect(f"admin:{self._url_name('import_job')}", job_id=job.pk)
        context = self._context(
            request,
            title=gettext("Import: %(what)s") % {"what": handler.label},
            job=job,
            statuses=ImportStatus,
        )
        return TemplateResponse(request, "admin/registration/pipeline/import_job.html", context)
