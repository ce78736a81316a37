from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from imports import progress, sources
from imports.column_mapping import MappingError, parse_mapping
from imports.detection import (
    AUTO,
    DELIMITER_ALIASES,
    DELIMITERS,
    DETECTION_BYTES,
    ENCODING_OPTIONS,
    ENCODINGS,
)
from imports.event_data import Counts
from imports.forms import PREVIEW_NEEDS_CSV, SHEET_NEEDS_WORKBOOK, SYNC_HELP
from imports.models import COUNT_FIELDS, ImportChange, ImportJob, ImportSource
from imports.uploads import file_format, validate_upload


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
    saved_source: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True,
        help_text="The saved source the import was started with (null: none, or deleted since).",
    )  # fmt: skip
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    error_report_url = serializers.SerializerMethodField()
    progress_url = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()
    changes_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "reverts", "force", "status", "phase", "original_name", "size", "source",
            "encoding", "delimiter", "sheet", "mapping", "validate_only", "strict", "sync",
            "saved_source", "commit_of",
            *COUNT_FIELDS,
            "counts", "unknown_columns", "durations", "error", "error_report_url",
            "cancel_requested", "attempts", "created_by", "created_at", "started_at",
            "finished_at", "progress", "progress_url", "events_url", "changes_url",
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

    def get_changes_url(self, job: ImportJob) -> str:
        """What the import created and updated (or, validate only, would), page by page."""
        path = reverse("import-change-list", kwargs={"job_id": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportChangeSerializer(serializers.ModelSerializer):
    """One product a job created or updated. `before` and `after` of an update hold only the
    fields that change; `after` of a creation holds every field written."""

    before = serializers.DictField(
        allow_null=True, help_text="Updated: the old values of the fields that change."
    )
    after = serializers.DictField(
        allow_null=True,
        help_text="Created: the values written; updated: the new values of the fields that change.",
    )

    class Meta:
        model = ImportChange
        fields = ["id", "kind", "product_id", "sku", "before", "after", "product_updated_at"]
        read_only_fields = fields
        extra_kwargs = {
            "product_id": {
                "help_text": "The product's id; null for a creation a validation foresees "
                "(nothing was created)."
            },
            "product_updated_at": {
                "help_text": "The product's updated_at as the import left it (validate "
                "only: as it was)."
            },
        }


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True},
        "example": {"sku": "Product Code", "name": "Title", "description": None},
    }
)
class MappingField(serializers.JSONField):
    """A JSON object, or its text in a multipart form: field -> column name, or null."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("binary", True)  # multipart sends the object as text
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value  # an object in JSON answers (binary=True would send its text)

    def to_internal_value(self, data):
        try:
            return parse_mapping(data)
        except MappingError as exc:
            raise serializers.ValidationError(str(exc)) from None


MAPPING_HELP = (
    'Catalogue field -> file column, as a JSON object: {"sku": "Product Code", "description": '
    "null}. null leaves the field out (never written); fields not named are suggested from "
    "the header (names and known aliases)."
)


class FileSettingsSerializer(serializers.Serializer):
    """How the file is read: the encoding and delimiter chosen, or `auto` to detect them
    (CSV files), and the column each catalogue field comes from."""

    encoding = serializers.ChoiceField(choices=ENCODING_OPTIONS, default=AUTO)
    delimiter = serializers.ChoiceField(
        choices=list(DELIMITER_ALIASES), default=AUTO,
        help_text='"auto", ",", ";", "|", or a tab ("\\t" or "tab").',
    )  # fmt: skip
    mapping = MappingField(required=False, default=dict, help_text=MAPPING_HELP)

    # DRF takes declared fields out of the class, so this does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, max_length=120,
        help_text="The name of a saved source (/api/import-sources/): its encoding, delimiter, "
        "sheet, mapping, strict and sync apply wherever this request leaves them unset "
        "(auto, blank, false); what the request sets wins.",
    )  # fmt: skip

    def validate_source(self, value: str) -> ImportSource | None:
        if not value.strip():
            return None
        try:
            return sources.source_named(value)
        except sources.UnknownSource as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_delimiter(self, value: str) -> str:
        return DELIMITER_ALIASES[value]


class ImportJobCreateSerializer(FileSettingsSerializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="A CSV (.csv, .tsv, .txt) or an Excel workbook (.xlsx)."
    )
    sheet = serializers.CharField(
        default="", allow_blank=True, max_length=255,
        help_text="An .xlsx workbook's sheet to read (default: the first); CSV files: leave out.",
    )  # fmt: skip
    validate_only = serializers.BooleanField(default=False)
    strict = serializers.BooleanField(default=False)
    sync = serializers.ChoiceField(
        choices=ImportJob.Sync.choices, default=ImportJob.Sync.OFF, allow_blank=True,
        help_text=f"Deactivate or delete the products the file does not name. {SYNC_HELP}",
    )  # fmt: skip

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


class ImportRevertSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False,
        help_text='"Revert anyway": also overwrite (or delete) the products changed since the '
        "import. Without it they are left as they are and listed as conflicts.",
    )
    confirm = serializers.BooleanField(
        default=False,
        help_text="Revert even though later imports changed some of the same products (they "
        "become conflicts). Without it, or `force`, such a revert is answered 409 with "
        "`later_imports`.",
    )


class LaterImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    products = serializers.IntegerField(help_text="How many of the same products it changed.")


class RevertNeedsConfirmationSerializer(serializers.Serializer):
    detail = serializers.CharField()
    later_imports = LaterImportSerializer(
        many=True,
        required=False,
        help_text="Only when later imports changed some of the same products: send `confirm` "
        "(or `force`) to revert anyway.",
    )


class PreviewRequestSerializer(FileSettingsSerializer):
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="A CSV file, or only its start: the preview reads the first "
        f"{DETECTION_BYTES // 1024} KiB and drops the rest as it arrives.",
    )

    def validate_file(self, uploaded):
        try:
            validate_upload(uploaded)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        if file_format(uploaded.name) != "csv":
            raise serializers.ValidationError(PREVIEW_NEEDS_CSV)
        return uploaded


class PreviewFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    # DRF's metaclass takes declared fields off the class; mypy sees Field.required.
    required = serializers.BooleanField()  # type: ignore[assignment]
    if_missing = serializers.CharField(help_text="What the import does without a column for it.")


class SuggestedSourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    """How the file will be read and imported, from its first block (read only)."""

    encoding = serializers.ChoiceField(choices=list(ENCODINGS))
    encoding_label = serializers.CharField()
    encoding_detected = serializers.BooleanField()
    delimiter = serializers.ChoiceField(choices=list(DELIMITERS))
    delimiter_label = serializers.CharField()
    delimiter_detected = serializers.BooleanField()
    header = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The first records as parsed (at most 10).",
    )
    rejections = serializers.ListField(
        child=serializers.CharField(allow_null=True),
        help_text="Per row: why the import would reject it, or null.",
    )
    mapping = MappingField(help_text="The column each field takes (requested or suggested).")
    unknown_columns = serializers.ListField(child=serializers.CharField())
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the import would fail as it is (empty when it would run).",
    )
    catalogue_fields = PreviewFieldSerializer(many=True)
    suggested_source = SuggestedSourceSerializer(
        allow_null=True,
        help_text="A saved source made for files with this header, when none was chosen.",
    )
    bytes_read = serializers.IntegerField()
