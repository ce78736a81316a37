from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from acme.lib.api_schema import error_response
from acme.lib.event_streams import SSE_CONTENT_TYPE, EventStreamRenderer, event_stream
from imports import services, upload_gate
from imports.csv_records import InvalidFile
from imports.downloads import CSVRenderer, report_response
from imports.event_stream import job_event_stream
from imports.filters import LISTING_ORDER, ImportChangeFilter
from imports.models import ImportChange, ImportJob
from imports.permissions import ImportJobPermissions
from imports.preview import preview_upload
from imports.serializers import (
    ImportChangeSerializer,
    ImportJobCreateSerializer,
    ImportJobSerializer,
    ImportRevertSerializer,
    PreviewRequestSerializer,
    PreviewSerializer,
    RevertNeedsConfirmationSerializer,
)
from imports.uploads import too_large_message

# Answered by imports.upload_gate before the body is read (`file` repeats `detail`).
TOO_LARGE = error_response("The file is over IMPORT_MAX_UPLOAD_BYTES; nothing was stored.")
NOT_NOW = error_response("The import's state does not allow this now; `detail` says why.")


class ImportJobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """CSV imports: upload a file (multipart) to start one, then follow it here."""

    queryset = ImportJob.objects.select_related("created_by")
    serializer_class = ImportJobSerializer
    permission_classes = [ImportJobPermissions]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["kind", "status", "source", "validate_only"]
    ordering_fields = ["created_at", "finished_at", "rows_read", "id"]
    search_fields = ["original_name"]

    @extend_schema(request={"multipart/form-data": ImportJobCreateSerializer},
                   responses={201: ImportJobSerializer, 413: TOO_LARGE})  # fmt: skip
    def create(self, request: Request, *args, **kwargs) -> Response:
        # A body declared over the limit never gets here (imports.upload_gate); a file that
        # grew past it while arriving was stopped, and is answered here.
        data = request.data
        too_large = upload_gate.refused_size(request._request)
        if too_large is not None:
            message = too_large_message(too_large)
            return Response({"detail": message, "file": [message]}, status=413)
        serializer = ImportJobCreateSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["saved_source"] = data.pop("source", None)
        job = services.import_job_create(
            uploaded_file=data.pop("file"),
            options=data,
            user=request.user,
            source=ImportJob.Source.API,
        )
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": PreviewRequestSerializer},
                   responses={200: PreviewSerializer, 413: TOO_LARGE})  # fmt: skip
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """How a CSV would import, before any job is queued: the encoding and delimiter
        (chosen, or detected), the header, the first 10 records as parsed, and the column
        each field takes (`mapping` as sent, the rest suggested). Reads the file's first
        64 KiB only; nothing is stored."""
        data = request.data
        too_large = upload_gate.refused_size(request._request)
        if too_large is not None:
            message = too_large_message(too_large)
            return Response({"detail": message, "file": [message]}, status=413)
        serializer = PreviewRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        options = dict(serializer.validated_data)
        options["saved_source"] = options.pop("source", None)
        try:
            preview = preview_upload(options.pop("file"), **options)
        except InvalidFile as exc:
            return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(PreviewSerializer(preview.as_dict()).data)

    @extend_schema(request=None, responses={200: ImportJobSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        """Cancel a queued import, or stop a running one between chunks (nothing is merged)."""
        return self._act(services.import_job_cancel)

    @extend_schema(request=None, responses={200: ImportJobSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk=None) -> Response:
        """Queue a failed or cancelled import again from its stored file."""
        return self._act(services.import_job_retry)

    @extend_schema(
        request=ImportRevertSerializer,
        responses={
            201: ImportJobSerializer,
            409: OpenApiResponse(
                RevertNeedsConfirmationSerializer,
                description="The import cannot be reverted (`detail` says why), or later "
                "imports changed some of its products (`later_imports`: send `confirm` or "
                "`force`).",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def revert(self, request: Request, pk=None) -> Response:
        """Take back a completed import or delete-all: queues a job of kind `revert`
        (`reverts` = this import) that restores the products it updated (only the fields it
        changed), deletes those it created and puts back those it deleted, with their ids, in
        one transaction. Products changed since are conflicts, left as they are unless
        `force`. Needs the imports add and change permissions."""
        job = self.get_object()
        serializer = ImportRevertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            revert_job = services.import_job_revert(
                job=job, user=request.user, source=ImportJob.Source.API, **serializer.validated_data
            )
        except services.RevertNeedsConfirmation as exc:
            body = {"detail": str(exc), "later_imports": exc.later_imports}
            return Response(body, status=status.HTTP_409_CONFLICT)
        except services.ImportJobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = ImportJobSerializer(revert_job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            201: ImportJobSerializer,
            409: error_response(
                "Not a completed validation, or its file was deleted after the retention "
                "period; `detail` says why."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk=None) -> Response:
        """Import the file a completed validate-only job checked, with the same options, as
        a new job (`commit_of` names the validation); no upload. The new job's counts say
        what it did to the catalogue as it is when it runs."""
        try:
            job = services.import_job_commit(job=self.get_object(), user=request.user)
        except services.ImportJobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _act(self, service) -> Response:
        job = self.get_object()
        try:
            job = service(job=job)
        except services.ImportJobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ImportJobSerializer(job, context=self.get_serializer_context()).data)

    @extend_schema(
        responses={
            (200, SSE_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description="`progress` events (the job's live state, as JSON) while it "
                "runs, a `: keep-alive` comment when nothing changed for 15 s, then one "
                "`done` event with the final state, and the stream ends.",
            ),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, EventStreamRenderer])
    @event_stream
    def events(self, request: Request, pk=None) -> StreamingHttpResponse:
        """Follow the import as server-sent events (text/event-stream) until it ends.

        Each event's data is the same live state as `progress`, with `counts`, `outcome` and
        `report_url` once finished. Open connections hold no server thread: follow freely."""
        job = self.get_object()
        return job_event_stream(request, job.pk, add_links=self._state_links)

    def _state_links(self, state: dict) -> dict:
        url = self.request.build_absolute_uri
        state["url"] = url(reverse("import-detail", args=[state["id"]]))
        state["report_url"] = (
            url(reverse("import-report", args=[state["id"]])) if state.get("has_report") else None
        )
        return state

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The rejected records: record number, line, reason, then the "
                "record's original fields.",
            ),
            404: error_response("No such import, or it rejected nothing."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def report(self, request: Request, pk=None) -> FileResponse:
        """Download the error report of an import that rejected records (`error_report_url`)."""
        return report_response(self.get_object())


class ImportChangeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What an import created and updated (validate only: would), by SKU; each update with
    only the fields that change. Needs the imports view permission, as the job does."""

    permission_classes = [ImportJobPermissions]
    serializer_class = ImportChangeSerializer
    filterset_class = ImportChangeFilter
    # Listed in one order only (kind, then SKU: LISTING_ORDER), the one the index reads.
    ordering_fields: list[str] = []

    def get_queryset(self) -> QuerySet[ImportChange]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the types
            return ImportChange.objects.none()
        job = get_object_or_404(ImportJob.objects.only("pk"), pk=self.kwargs["job_id"])
        return ImportChange.objects.filter(job=job).order_by(*LISTING_ORDER)
