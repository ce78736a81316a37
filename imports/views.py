"""Import pages: history, upload, a job's page, its live progress (JSON and SSE), its report.

Views validate input, call a service and render; live state comes from imports/progress.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from acme.lib.event_streams import event_stream
from acme.lib.pages import PAGE_SIZES, page_size, wants_json
from imports import change_list, progress, revert, services, upload_gate
from imports.csv_records import InvalidFile
from imports.downloads import changes_response, report_response
from imports.event_stream import job_event_stream
from imports.filters import LISTING_ORDER
from imports.forms import ImportUploadForm, PreviewForm
from imports.models import ImportChange, ImportJob
from imports.permissions import CONTROL, REVERT, START, VIEW
from imports.preview import preview_upload
from imports.uploads import too_large_message
from products.services import EDITABLE_FIELDS

CONFLICTS_PER_PAGE = 50

# What the progress panel shows for each of the import's phases: the step's label and the
# status text while the job is in it. Keyed by ImportJob.Phase, so a phase added there and
# not here fails at import time instead of leaving a step out.
_PHASE_STEPS = {
    ImportJob.Phase.PARSING: ("Parsing", "Parsing CSV"),
    ImportJob.Phase.VALIDATING: ("Validating", "Validating"),
    ImportJob.Phase.LOADING: ("Loading", "Loading"),
    ImportJob.Phase.MERGING: ("Merging", "Merging into the catalogue"),
}
# The row of steps on the progress panel: (key, label, status text), the phases in the order
# they run. imports-progress.js reads keys and texts from the page (data-step, data-text).
STEPS = [
    ("uploading", "Uploading", "Uploading"),
    ("queued", "Queued", "Queued: waiting for a worker"),
    *((phase.value, *_PHASE_STEPS[phase]) for phase in ImportJob.Phase),
    ("complete", "Complete", "Complete"),
]
# A revert or a delete-all reads no file: its panel shows the phases it runs (imports.revert:
# planning in LOADING, writing in MERGING), named for what it does.
KIND_STEPS = {
    ImportJob.Kind.IMPORT: STEPS,
    ImportJob.Kind.REVERT: [
        ("queued", "Queued", "Queued: waiting for a worker"),
        (ImportJob.Phase.LOADING.value, "Planning", "Comparing the changes with the catalogue"),
        (ImportJob.Phase.MERGING.value, "Reverting", "Writing the catalogue back"),
        ("complete", "Complete", "Complete"),
    ],
    ImportJob.Kind.DELETE_ALL: [
        (ImportJob.Phase.MERGING.value, "Deleting", "Deleting every product"),
        ("complete", "Complete", "Complete"),
    ],
}


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = ImportJob.objects.select_related("created_by")
    status = request.GET.get("status", "")
    if status in ImportJob.Status.values:
        jobs = jobs.filter(status=status)
    source = request.GET.get("source", "")
    if source in ImportJob.Source.values:
        jobs = jobs.filter(source=source)
    size = page_size(request)
    page = Paginator(jobs, size).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/list.html",
        {
            "page_obj": page,
            "jobs": page.object_list,
            "status": status,
            "source": source,
            "page_size": size,
            "page_sizes": PAGE_SIZES,
            "statuses": ImportJob.Status.choices,
            "sources": ImportJob.Source.choices,
            "filtered": bool(status or source),
        },
    )


@permission_required(START, raise_exception=True)
def job_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)  # reads the body
        too_large = upload_gate.refused_size(request)
        if too_large is not None:
            # Stopped as it arrived (imports.upload_gate): what came is gone.
            return upload_refused(request, message=too_large_message(too_large), status=413)
        if form.is_valid():
            job = services.import_job_create(
                uploaded_file=form.cleaned_data["file"], options=form.options(), user=request.user
            )
            if wants_json(request):
                return JsonResponse(_job_links(job), status=201)
            messages.success(request, f"“{job.original_name}” uploaded; the import is queued.")
            return redirect("imports:detail", pk=job.pk)
        if wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        return render(request, "imports/upload.html", _upload_context(form), status=400)
    return render(request, "imports/upload.html", _upload_context(ImportUploadForm()))


@require_POST
@permission_required(START, raise_exception=True)
def job_preview(request: HttpRequest) -> JsonResponse:
    """The upload page's preview (JSON): how the chosen file's first block reads, which the
    page's script sends alone; nothing is stored."""
    form = PreviewForm(request.POST, request.FILES)
    too_large = upload_gate.refused_size(request)
    if too_large is not None:
        message = too_large_message(too_large)
        return JsonResponse({"errors": {"file": [{"message": message, "code": "too_large"}]}},
                            status=413)  # fmt: skip
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    try:
        preview = preview_upload(form.cleaned_data["file"], **form.preview_settings())
    except InvalidFile as exc:
        return JsonResponse({"errors": {"file": [{"message": str(exc), "code": "unreadable"}]}},
                            status=400)  # fmt: skip
    return JsonResponse(preview.as_dict())


def upload_refused(request: HttpRequest, *, message: str, status: int) -> HttpResponse:
    """The upload form again with `message` on its file field (JSON for the page's script).

    imports.upload_gate answers with it before the body is read, the view after a file was
    stopped on its way in."""
    if wants_json(request):
        return JsonResponse({"errors": {"file": [{"message": message, "code": "too_large"}]}},
                            status=status)  # fmt: skip
    form = ImportUploadForm(data={})
    form.full_clean()
    form.errors.clear()
    form.add_error("file", message)
    return render(request, "imports/upload.html", _upload_context(form), status=status)


def _upload_context(form: ImportUploadForm) -> dict:
    return {
        "form": form,
        "max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
        "steps": STEPS,
        "state": {"status": "uploading", "percent": 0, "phase_label": "Uploading"},
        "links": {},
    }


def _job_links(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "url": reverse("imports:detail", args=[job.pk]),
        "progress_url": reverse("imports:progress", args=[job.pk]),
        "events_url": reverse("imports:events", args=[job.pk]),
        "cancel_url": reverse("imports:cancel", args=[job.pk]),
        "retry_url": reverse("imports:retry", args=[job.pk]),
        "report_url": reverse("imports:report", args=[job.pk]),
    }


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    # A finished row is the truth, whatever a live key left behind in Redis says.
    live = None if job.is_finished else progress.snapshot(job.pk)
    state = live or progress.from_job(job)
    steps = KIND_STEPS[ImportJob.Kind(job.kind)]
    # The status line in the words of the job's own steps ("Planning", not "Loading").
    texts = {key: text for key, _, text in steps}
    if state.get("phase") in texts and job.status == ImportJob.Status.RUNNING:
        state = {**state, "phase_label": texts[state["phase"]]}
    may_revert = request.user.has_perms(REVERT)
    can_revert = may_revert and revert.revert_refusal(job) is None
    conflicts = None
    if job.kind == ImportJob.Kind.REVERT and job.conflicts:
        conflicts = Paginator(
            job.changes.filter(kind=ImportChange.Kind.CONFLICT).order_by(*LISTING_ORDER),
            CONFLICTS_PER_PAGE,
        ).get_page(request.GET.get("conflicts_page"))
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "state": state,
            "links": _job_links(job),
            "steps": steps,
            "can_cancel": job.can_cancel and request.user.has_perm(CONTROL),
            "can_retry": job.can_retry and request.user.has_perm(CONTROL),
            "can_commit": job.can_commit and request.user.has_perm(START),
            "can_revert": can_revert,
            "later_imports": revert.later_jobs_touching(job) if can_revert else [],
            "reverted_by": job.reverted_by.order_by("-pk").first(),
            "conflicts": conflicts,
            "conflict_rows": [conflict_row(change) for change in conflicts] if conflicts else [],
            "durations": sorted(job.durations.items(), key=lambda item: _phase_order(item[0])),
            **(_changes_section(request, job) if change_list.has_changes_section(job) else {}),
        },
    )


def _changes_section(request: HttpRequest, job: ImportJob) -> dict:
    """The Changes section: the tab asked for (created, updated, rejected, and a sync's
    deactivated and deleted when it has some; the first one with rows by default), a page
    of it, the SKU searched for."""
    tabs = change_list.tabs(job)
    counts = {key: count for key, _, count in tabs}
    tab = request.GET.get("changes", "")
    if tab not in counts:
        tab = next((key for key, _, count in tabs if count), tabs[0][0])
    sku = request.GET.get("sku", "").strip()
    size = page_size(request)
    rows: object
    if tab == change_list.REJECTED:
        available = bool(job.error_report)
        rows = change_list.RejectedRows(job, sku=sku) if available else []
    else:
        available = not change_list.expired(job)
        rows = change_list.changes(job, kind=tab, sku=sku)
    known = None if sku else counts[tab]
    paginator = change_list.CountedPaginator(rows, size, count=known if available else 0)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "changes_tab": tab,
        "changes_tabs": tabs,
        "changes_sku": sku,
        # A creation's columns (its SKU first, on its own).
        "changes_columns": [field for field in change_list.FIELDS if field != "sku"],
        "changes_available": available,
        "changes_rows": [
            (row, change_list.field_changes(row)) if isinstance(row, ImportChange) else (row, [])
            for row in page.object_list
        ],
        "page_obj": page,
        "page_size": size,
        "page_sizes": PAGE_SIZES,
        "retention_days": settings.IMPORT_FILE_RETENTION_DAYS,
    }


def conflict_row(change: ImportChange) -> dict:
    """What the page shows of one conflict: why, and each field's current and old value."""
    before = change.before or {}
    after = change.after
    if after is None:
        why = "deleted since the import"
    elif change.product_id is not None and after.get("id", change.product_id) != change.product_id:
        why = f"its SKU is now used by product #{after['id']}"
    elif before and "id" in before:
        why = "back in the catalogue already"
    else:
        why = "changed since the import"
    if before and "id" not in before:  # an updated product: the fields the import changed
        fields = [(field, (after or {}).get(field), value) for field, value in before.items()]
    elif not before:  # a product the import created: reverting deletes it
        fields = [(field, value, None) for field, value in (after or {}).items()
                  if field in EDITABLE_FIELDS]  # fmt: skip
    else:  # a deleted product: reverting puts the whole row back
        fields = [(field, (after or {}).get(field), value) for field, value in before.items()
                  if field in EDITABLE_FIELDS]  # fmt: skip
    return {"sku": change.sku, "product_id": change.product_id, "why": why, "fields": fields,
            "deletes": not before}  # fmt: skip


def _phase_order(phase: str) -> int:
    order = list(ImportJob.Phase.values)
    return order.index(phase) if phase in order else len(order)


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    state = progress.snapshot(pk)
    if state is None:
        raise Http404("No such import.")
    return JsonResponse(_with_links(state), headers={"Cache-Control": "no-store"})


def _with_links(state: dict) -> dict:
    job_id = state["id"]
    state["url"] = reverse("imports:detail", args=[job_id])
    state["report_url"] = (
        reverse("imports:report", args=[job_id]) if state.get("has_report") else None
    )
    return state


@event_stream
@require_GET
@permission_required(VIEW, raise_exception=True)
def job_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Server-sent events of the job's progress (imports/event_stream.py)."""
    get_object_or_404(ImportJob.objects.only("pk"), pk=pk)
    return job_event_stream(request, pk, add_links=_with_links)


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_report(request: HttpRequest, pk: int) -> FileResponse:
    return report_response(get_object_or_404(ImportJob, pk=pk))


@require_GET
@permission_required(VIEW, raise_exception=True)
def job_changes_download(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The job's changes as CSV: the tab's kind (all kinds otherwise) and the SKU searched
    for, as on the page."""
    job = get_object_or_404(ImportJob, pk=pk)
    kind = request.GET.get("changes", "")
    if kind not in change_list.DOWNLOAD_KINDS:
        kind = ""
    return changes_response(job, kind=kind, sku=request.GET.get("sku", ""))


@require_POST
@permission_required(START, raise_exception=True)
def job_commit(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Import this file" button: the validation's stored file, same options, new job."""
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        commit = services.import_job_commit(job=job, user=request.user)
    except services.ImportJobError as exc:
        return _action_answer(request, job, str(exc), ok=False)
    if wants_json(request):
        return JsonResponse(_job_links(commit), status=201)
    messages.success(request, f"Importing “{commit.original_name}” as validated; it is queued.")
    return redirect("imports:detail", pk=commit.pk)


@require_POST
@permission_required(CONTROL, raise_exception=True)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        job = services.import_job_cancel(job=job)
    except services.ImportJobError as exc:
        return _action_answer(request, job, str(exc), ok=False)
    if job.status == ImportJob.Status.CANCELLED:
        text = "Import cancelled before it started."
    else:
        text = (
            "Cancelling: the import stops at its next chunk or merge step; "
            "the catalogue stays unchanged."
        )
    return _action_answer(request, job, text, ok=True)


@require_POST
@permission_required(CONTROL, raise_exception=True)
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        job = services.import_job_retry(job=job)
    except services.ImportJobError as exc:
        return _action_answer(request, job, str(exc), ok=False)
    return _action_answer(request, job, "Import queued again from the stored file.", ok=True)


@require_POST
@permission_required(REVERT, raise_exception=True)
def job_revert(request: HttpRequest, pk: int) -> HttpResponse:
    """The Revert dialog's form: `force` ("Revert anyway"); the dialog showed the later
    imports, so posting it confirms them."""
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        revert_job = services.import_job_revert(
            job=job,
            user=request.user,
            force=request.POST.get("force") in ("on", "true", "1"),
            confirm=request.POST.get("confirm") in ("on", "true", "1"),
        )
    except services.ImportJobError as exc:
        return _action_answer(request, job, str(exc), ok=False)
    return _action_answer(request, revert_job, f"Revert of import #{job.pk} queued.", ok=True)


def _action_answer(request: HttpRequest, job: ImportJob, text: str, *, ok: bool) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({**_job_links(job), "message": text}, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, text)
    return redirect("imports:detail", pk=job.pk)
