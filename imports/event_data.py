"""The `data` of `import.completed`, `import.reverted` and `import.failed`. The import
services build it with this serializer and the OpenAPI schema documents it from it
(webhooks.payload_schema)."""

from __future__ import annotations

from rest_framework import serializers

from imports.models import ImportJob


class Counts(serializers.Serializer):
    """An import's counts (imports.models.COUNT_FIELDS), as the API's `counts` and the events'
    `data` carry them."""

    rows_read = serializers.IntegerField()
    rows_valid = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    deactivated = serializers.IntegerField(
        help_text="Sync mode: active products the file does not name, deactivated."
    )
    deleted = serializers.IntegerField(
        help_text="Sync mode: products the file does not name, deleted; a revert's: products "
        "the import created, deleted again; a delete-all's: the products it deleted."
    )
    restored = serializers.IntegerField(
        help_text="A revert's: products put back as they were before the import it takes back."
    )
    conflicts = serializers.IntegerField(
        help_text="A revert's: products changed since the import (left as they are unless the "
        "revert was forced)."
    )


class ImportEventData(Counts):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    reverts = serializers.IntegerField(
        source="reverts_id", allow_null=True, help_text="A revert's: the job it takes back."
    )
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    file = serializers.CharField(source="original_name", help_text="The uploaded file's name.")
    validate_only = serializers.BooleanField()
    unknown_columns = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(allow_null=True, help_text="Why it failed; null if it did not.")
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, job: ImportJob) -> dict:
        data = super().to_representation(job)
        data["error"] = data["error"] or None
        return data
