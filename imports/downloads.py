"""An import's downloads: its error report (its rejected records), for the page and the API,
and its changes (imports.change_list)."""

from __future__ import annotations

import csv
import io

from django.http import FileResponse, Http404, StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

from imports import change_list
from imports.models import ImportJob

REPORT_CONTENT_TYPE = "text/csv; charset=utf-8"
NO_REPORT = "This import has no error report."


def report_response(job: ImportJob) -> FileResponse:
    """Raises Http404 when the job rejected nothing (or its report was deleted)."""
    if not job.error_report:
        raise Http404(NO_REPORT)
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-rejected-records.csv",
        content_type=REPORT_CONTENT_TYPE,
    )


def changes_response(job: ImportJob, *, kind: str = "", sku: str = "") -> StreamingHttpResponse:
    """The job's changes (of `kind`, for `sku`) as a streamed CSV (imports.change_list)."""
    rows = change_list.download_rows(change_list.changes(job, kind=kind, sku=sku))
    name = f"import-{job.pk}-{kind or 'changes'}.csv"
    return StreamingHttpResponse(
        change_list.download_lines(rows),
        content_type=REPORT_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class CSVRenderer(BaseRenderer):
    """Lets a client that accepts only text/csv reach the API's report download (the file
    itself bypasses renderers); a refusal reaches it as a one-column `detail` CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["detail"])
        writer.writerow([data.get("detail", "") if isinstance(data, dict) else data])
        return out.getvalue().encode()
