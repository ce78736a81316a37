"""An import's error report (its rejected records) as a CSV download, for the page and the API."""

from __future__ import annotations

import csv
import io

from django.http import FileResponse, Http404
from rest_framework.renderers import BaseRenderer

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
