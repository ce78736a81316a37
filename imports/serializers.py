from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from imports import progress
from imports.event_data import Counts
from imports.forms import SHEET_NEEDS_WORKBOOK
from imports.models import COUNT_FIELDS, ImportJob
from imports.pipeline import ENCODINGS
from imports.uploads import DELIMITER_ALIASES, file_format, validate_upload


class LiveProgressSerializer(serializers.Serializer):
    """The schema of `progress` while a job is queued or running (read only)."""

    status = serializers.ChoiceField(choices=["queued", "running"])
    phase = serializers.ChoiceField(choices=ImportJob.Phase.choices, allow_null=True)
    step = serializers.CharField(
        allow_null=True, help_text='What the merge is doing, e.g. "building index 3 of 8".'
    )
    records_processed = serializers.IntegerField()
    bytes_processed = serializers.IntegerField(allow_null=True)
    bytes_total = serializers.IntegerField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)
    rate = serializers.FloatField(allow_null=True, help_text="Records per second.")
    eta_seconds = serializers.FloatField(allow_null=True)
    updated_at = serializers.CharField(allow_null=True, help_text="ISO 8601.")


class ImportJobSerializer(serializers.ModelSerializer):
    # Empty until a worker starts the job; declared because DRF drops `allow_blank` from
    # read-only model fields, and the schema would then leave "" out of the choices.
    phase = serializers.ChoiceField(
        choices=ImportJob.Phase.choices, allow_blank=True, read_only=True
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    delimiter = serializers.CharField(read_only=True)
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    error_report_url = serializers.SerializerMethodField()
    progress_url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "phase", "original_name", "size", "source",
            "encoding", "delimiter", "sheet", "validate_only", "strict",
            *COUNT_FIELDS,
            "counts", "unknown_columns", "durations", "error", "error_report_url",
            "cancel_requested", "attempts", "created_by", "created_at", "started_at",
            "finished_at", "progress", "progress_url", "events_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(Counts)
    def get_counts(self, job: ImportJob) -> dict[str, int]:
        return progress.counts(job)

    @extend_schema_field(LiveProgressSerializer(allow_null=True))
    def get_progress(self, job: ImportJob) -> dict | None:
        """Live progress while the job runs (from Redis), else what the row knows."""
        if job.is_finished:
            return None
        state = progress.snapshot(job.pk)
        if state is None or state["finished"]:
            return None
        return {key: state.get(key) for key in LiveProgressSerializer().get_fields()}

    def _url(self, name: str, job: ImportJob) -> str:
        path = reverse(name, args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_error_report_url(self, job: ImportJob) -> str | None:
        """The CSV of rejected records, for token or session clients (None when none)."""
        return self._url("import-report", job) if job.error_report else None

    def get_progress_url(self, job: ImportJob) -> str:
        """JSON progress, the same as the page polls."""
        return self._url("imports:progress", job)

    def get_events_url(self, job: ImportJob) -> str:
        """Server-sent events (text/event-stream) until the import finishes, for token or
        session clients."""
        return self._url("import-events", job)


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="A CSV (.csv, .tsv, .txt) or an Excel workbook (.xlsx)."
    )
    encoding = serializers.ChoiceField(choices=list(ENCODINGS), default="utf-8")
    delimiter = serializers.ChoiceField(
        choices=list(DELIMITER_ALIASES), default=",",
        help_text='",", ";", or a tab ("\\t" or "tab").',
    )  # fmt: skip
    sheet = serializers.CharField(
        default="", allow_blank=True, max_length=255,
        help_text="An .xlsx workbook's sheet to read (default: the first); CSV files: leave out.",
    )  # fmt: skip
    validate_only = serializers.BooleanField(default=False)
    strict = serializers.BooleanField(default=False)

    def validate(self, data: dict) -> dict:
        uploaded = data.get("file")
        if data.get("sheet", "").strip() and uploaded and file_format(uploaded.name) != "xlsx":
            raise serializers.ValidationError({"sheet": [SHEET_NEEDS_WORKBOOK]})
        return data

    def validate_file(self, uploaded):
        try:
            validate_upload(uploaded)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return uploaded

    def validate_delimiter(self, value: str) -> str:
        return DELIMITER_ALIASES[value]
