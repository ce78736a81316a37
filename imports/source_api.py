"""Saved sources in the API: list, read, create, change, delete (imports.sources owns the
writes). Permissions are the model's: view, add, change, delete (imports.permissions)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from acme.lib.permissions import ModelPermissions
from imports import sources
from imports.column_mapping import MappingError, parse_mapping
from imports.detection import DELIMITER_ALIASES, ENCODINGS
from imports.models import ImportJob, ImportSource


class ImportSourceSerializer(serializers.ModelSerializer):
    encoding = serializers.ChoiceField(
        choices=["", *ENCODINGS], required=False, allow_blank=True,
        help_text='The encoding of the source\'s files; "" (default): detected, or as chosen '
        "at upload.",
    )  # fmt: skip
    delimiter = serializers.ChoiceField(
        choices=["", *DELIMITER_ALIASES], required=False, allow_blank=True,
        help_text='",", ";", a tab ("\\t" or "tab"), "|"; "" (default): detected.',
    )  # fmt: skip
    mapping = serializers.JSONField(
        required=False,
        help_text='Catalogue field -> the column that feeds it, or null: left out (never '
        'written); fields not named are suggested from the header. e.g. {"sku": "Product '
        'Code", "description": null}',
    )  # fmt: skip
    header = serializers.ListField(
        child=serializers.CharField(), required=False,
        help_text="The columns of the source's files: a new file with this header is suggested "
        "this source (stored normalized: lower case, single spaces).",
    )  # fmt: skip
    sync = serializers.ChoiceField(
        choices=ImportJob.Sync.choices, required=False, allow_blank=True,
        help_text='Sync mode for its imports: "" off, "deactivate" or "delete" the products '
        "the file does not name.",
    )  # fmt: skip
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ImportSource
        fields = [
            "id", "name", "encoding", "delimiter", "sheet", "mapping", "header", "strict",
            "sync", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_by", "created_at", "updated_at"]

    def validate_delimiter(self, value: str) -> str:
        return DELIMITER_ALIASES[value] if value else ""

    def validate_mapping(self, value) -> dict:
        try:
            return parse_mapping(value or {})
        except MappingError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def create(self, validated: dict) -> ImportSource:
        name = validated.pop("name")
        return _saved(lambda: sources.source_create(
            name=name, values=validated, user=self.context["request"].user
        ))  # fmt: skip

    def update(self, source: ImportSource, validated: dict) -> ImportSource:
        name = validated.pop("name", None)
        return _saved(lambda: sources.source_update(source=source, name=name, values=validated))


def _saved(write) -> ImportSource:
    try:
        return write()
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise ValidationError(detail) from None


class ImportSourceViewSet(viewsets.ModelViewSet):
    """Saved sources: named settings for a supplier's files, chosen when an import is
    started (`source` on POST /api/imports/)."""

    queryset = ImportSource.objects.select_related("created_by")
    serializer_class = ImportSourceSerializer
    permission_classes = [ModelPermissions]
    search_fields = ["name"]
    ordering_fields = ["name", "updated_at", "id"]

    def perform_destroy(self, source: ImportSource) -> None:
        sources.source_delete(source=source)
