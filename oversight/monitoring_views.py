"""The monitors' pages (/staf/pemantauan/): read-only datasets and draw files, each download audited."""

from __future__ import annotations

import csv
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cohorts import draw
from cohorts.models import Wave
from oversight import monitoring, summary
from oversight.models import MonitorAccess
from oversight.programme_stats import SUPPRESS_BELOW
from prakerja.spreadsheets import spreadsheet_cell


def monitor_required(view):
    """A monitor whose access is in force today. An expired access says so (403 with the date)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(monitoring.MONITOR_PERMISSION):
            raise PermissionDenied
        access = monitoring.monitor_access_for(request.user)
        if access is None:
            ended = MonitorAccess.objects.filter(user=request.user).first()
            message = (
                _("Your monitoring access ended on %(date)s. Ask the programme to extend it.")
                % {"date": ended.expires_on.strftime("%d-%m-%Y")}
                if ended
                else _("Your account has no monitoring access.")
            )
            return render(request, "oversight/monitoring/expired.html", {"message": message}, status=403)
        request.monitor_access = access
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@monitor_required
@never_cache
def monitoring_home(request):
    return render(
        request,
        "oversight/monitoring/home.html",
        {
            "access": request.monitor_access,
            "datasets": monitoring.datasets().values(),
            "waves": monitoring.draw_files(),
            "suppress_below": SUPPRESS_BELOW,
            "updated": summary.summary_refreshed_at(),
        },
    )


@require_GET
@monitor_required
@never_cache
def monitoring_dataset(request, slug: str):
    dataset = monitoring.datasets().get(slug)
    if dataset is None:
        raise Http404
    rows = dataset.build()
    return render(
        request,
        "oversight/monitoring/dataset.html",
        {
            "dataset": dataset,
            "rows": rows,
            "suppress_below": SUPPRESS_BELOW,
            "access": request.monitor_access,
        },
    )


@require_GET
@monitor_required
@never_cache
def monitoring_download(request, slug: str):
    dataset = monitoring.datasets().get(slug)
    if dataset is None:
        raise Http404
    rows = dataset.build()
    monitoring.monitor_download_record(
        user=request.user, access=request.monitor_access, dataset=slug, rows=len(rows)
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(dataset.columns)
    for row in rows:
        writer.writerow(["" if value is None else spreadsheet_cell(value) for value in row])
    return response


@require_GET
@monitor_required
@never_cache
def monitoring_draw_file(request, number: int):
    wave = Wave.objects.filter(number=number).first()
    name = draw.draw_file_name(wave) if wave else ""
    if wave is None or not draw.draw_is_public(wave) or not default_storage.exists(name):
        raise Http404(_("The draw file of this wave is not available yet."))
    monitoring.monitor_download_record(
        user=request.user, access=request.monitor_access, dataset=f"undian-gelombang-{wave.number}", rows=0
    )
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename=f"gelombang-{wave.number}-undian.csv.gz",
        content_type="application/gzip",
    )
