from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Now

from imports.csv_records import KNOWN_COLUMNS
from imports.detection import AUTO, DELIMITERS, ENCODINGS
from imports.uploads import file_format

# The counts of a run, in the order pages and payloads show them: columns of ImportJob below
# and fields of imports.pipeline.ImportResult with the same names.
# `deactivated` and `deleted`: the products a sync (imports.sync) wrote because the file does
# not name them. `restored`, `deleted` and `conflicts`: what a revert did (imports.revert);
# `deleted` is also what a delete-all removed.
COUNT_FIELDS = (
    "rows_read", "rows_valid", "rows_rejected", "created", "updated", "unchanged",
    "deactivated", "deleted", "restored", "conflicts",
)  # fmt: skip


class ImportJob(models.Model):
    """One CSV import: the stored upload, its options, and what happened to it.

    Final state lives here; the live progress of a running job lives in Redis
    (imports/progress.py) and is folded back into these columns when the job finishes.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        PARSING = "parsing", "Parsing CSV"
        VALIDATING = "validating", "Validating"
        LOADING = "loading", "Loading"
        MERGING = "merging", "Merging"

    class Source(models.TextChoices):
        WEB = "web", "Web upload"
        API = "api", "API"
        COMMAND = "command", "Command line"

    class Kind(models.TextChoices):
        IMPORT = "import", "Import"
        REVERT = "revert", "Revert"
        DELETE_ALL = "delete_all", "Delete all"

    class Sync(models.TextChoices):
        """Sync mode (imports.sync): what happens to the products the file does not name."""

        OFF = "", "Off: products not in the file are left as they are"
        DEACTIVATE = "deactivate", "Deactivate products not in the file"
        DELETE = "delete", "Delete products not in the file"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.IMPORT)
    # A revert job: the import (or delete-all) it takes back, and whether it overwrites the
    # products changed since ("Revert anyway"); see imports.revert.
    reverts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reverted_by"
    )
    force = models.BooleanField(default=False)

    # Blank for imports run from the shell without --queue: the file stayed where it was.
    file = models.FileField(upload_to="imports/uploads/%Y/%m/%d/", max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField(help_text="Size of the uploaded file in bytes.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEB)

    # As chosen (imports.detection: AUTO until the worker has read the file's first block),
    # then as the file was read: the detected encoding and delimiter.
    encoding = models.CharField(max_length=16, default=AUTO)
    delimiter = models.CharField(max_length=8, default=AUTO)
    # An .xlsx workbook's sheet to read; blank: the first. (Encoding and delimiter apply to
    # CSV files only; the format follows the file's name, imports.uploads.file_format.)
    sheet = models.CharField(max_length=255, blank=True, default="")
    # Catalogue field -> file column, or null: left out (imports.column_mapping). As
    # requested (fields it does not name are suggested from the header), then as resolved.
    mapping = models.JSONField(default=dict, blank=True)
    validate_only = models.BooleanField(default=False)
    strict = models.BooleanField(default=False)
    sync = models.CharField(max_length=16, choices=Sync.choices, blank=True, default=Sync.OFF)
    # The saved source whose settings the job was started with (imports.sources), if any.
    saved_source = models.ForeignKey(
        "ImportSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The validate-only job whose stored file and options this job imports ("Import this
    # file"); null for a job started from an upload.
    commit_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="commits"
    )

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_default=Status.QUEUED
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, blank=True, default="")
    # Raised by each claim; a worker only writes to the job while it holds the same attempt,
    # so a stale worker cannot overwrite a retried job.
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When its task message was last sent; a job still queued long after is sent again
    # (imports.tasks.requeue_stale_jobs), in case the broker lost the message.
    enqueued_at = models.DateTimeField(null=True, blank=True)

    rows_read = models.BigIntegerField(default=0)
    rows_valid = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    deactivated = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)
    restored = models.BigIntegerField(default=0)
    conflicts = models.BigIntegerField(default=0)
    unknown_columns = models.JSONField(default=list, blank=True)
    durations = models.JSONField(default=dict, blank=True, help_text="Phase name -> seconds.")

    error = models.TextField(blank=True, default="")
    error_report = models.FileField(
        upload_to="imports/reports/%Y/%m/%d/", max_length=300, blank=True
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # fail_lost_jobs: running jobs whose heartbeat is older than the timeout.
            models.Index(
                fields=["heartbeat_at"],
                name="importjob_running_heartbeat",
                condition=models.Q(status="running"),
            ),
            # requeue_stale_jobs: queued jobs whose message was sent long ago.
            models.Index(
                fields=["enqueued_at"],
                name="importjob_queued_enqueued_at",
                condition=models.Q(status="queued"),
            ),
            # delete_expired_files: finished jobs whose files outlived the retention.
            models.Index(
                fields=["finished_at"],
                name="importjob_finished_at",
                condition=models.Q(finished_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_cancel(self) -> bool:
        active = (self.Status.QUEUED, self.Status.RUNNING)
        return self.status in active and not self.cancel_requested

    @property
    def can_retry(self) -> bool:
        # A revert runs from the change set it takes back, not from a file.
        has_input = bool(self.file) or self.kind == self.Kind.REVERT
        return self.status in (self.Status.FAILED, self.Status.CANCELLED) and has_input

    @property
    def can_commit(self) -> bool:
        """A completed validation whose stored file is still there can be imported."""
        return self.validate_only and self.status == self.Status.COMPLETED and bool(self.file)

    @property
    def total_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def outcome_text(self) -> str:
        """One sentence for a finished job (the page's JS writes the same)."""
        if self.status == self.Status.COMPLETED:
            if self.kind == self.Kind.REVERT:
                kept = "overwritten" if self.force else "left as they are"
                return (
                    f"Revert complete: {self.restored:,} restored, {self.deleted:,} deleted, "
                    f"{self.conflicts:,} changed since the import ({kept})"
                )
            if self.kind == self.Kind.DELETE_ALL:
                return f"Deleted all {self.deleted:,} products"
            if self.validate_only:
                return (
                    f"Validation complete: would create {self.created:,}, update "
                    f"{self.updated:,}, {self.unchanged:,} unchanged, {self.rows_rejected:,} "
                    f"rejected{self._synced('would ')}. The catalogue was not changed."
                )
            return (
                f"Import complete: {self.created:,} created, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged, {self.rows_rejected:,} rejected{self._synced()}"
            )
        if self.status == self.Status.CANCELLED:
            return self.error or "Import cancelled; the catalogue is unchanged."
        if self.status == self.Status.FAILED:
            return f"Import failed: {self.error or 'unknown error'}"
        return ""

    def _synced(self, would: str = "") -> str:
        """What a sync did (or would do) to the products the file does not name."""
        if self.sync == self.Sync.DEACTIVATE:
            return (
                f", {would}deactivate {self.deactivated:,}"
                if would
                else (f", {self.deactivated:,} deactivated (not in the file)")
            )
        if self.sync == self.Sync.DELETE:
            return (
                f", {would}delete {self.deleted:,}"
                if would
                else (f", {self.deleted:,} deleted (not in the file)")
            )
        return ""

    @property
    def file_format(self) -> str:
        return file_format(self.original_name)

    @property
    def delimiter_label(self) -> str:
        if self.delimiter == AUTO:
            return "Detected"
        return DELIMITERS.get(self.delimiter, self.delimiter)

    @property
    def encoding_label(self) -> str:
        if self.encoding == AUTO:
            return "Detected"
        known = ENCODINGS.get(self.encoding)
        return known.label if known else self.encoding

    @property
    def read_as_text(self) -> str:
        """How a CSV is read: "cp1252 (Windows-1252), semicolon-separated"; AUTO until the
        worker has detected it."""
        encoding = "encoding detected" if self.encoding == AUTO else self.encoding_label
        if self.delimiter == AUTO:
            return f"{encoding}, delimiter detected"
        return f"{encoding}, {self.delimiter_label.lower()}-separated"

    @property
    def mapping_text(self) -> str:
        """The column each field comes from: "sku ← Product Code, description left out"."""
        return ", ".join(
            f"{field} ← {column}" if column else f"{field} left out"
            for field, column in self.mapping.items()
        )


# The phase a job of each kind starts in when a worker claims it: an import reads its file,
# a revert plans first (imports.revert), a delete-all only writes.
FIRST_PHASE = {
    ImportJob.Kind.IMPORT: ImportJob.Phase.PARSING,
    ImportJob.Kind.REVERT: ImportJob.Phase.LOADING,
    ImportJob.Kind.DELETE_ALL: ImportJob.Phase.MERGING,
}


class ImportChange(models.Model):
    """One product a job created, updated, deleted or deactivated: its change set, written
    set-based in the job's own transaction by imports.change_set (never row by row here).

    Unchanged products get no row (the job's `unchanged` count says how many). Deleted with
    the job's stored files after IMPORT_FILE_RETENTION_DAYS (imports.change_set.delete_expired).

    How a row is stored is chosen for the cost of writing 500k of them inside an import
    (issue #14: at most 15% of the import). Measured on 470,142 updated products
    (bench/README.md, "Change sets"): the values as plain columns instead of jsonb objects
    built per row, and one index instead of three, took the recording from ~8 s to ~4 s.
    - The values of a created or updated product are plain columns, `old_<field>` and
      `new_<field>` for each of VALUE_FIELDS; NULL means "not changed" (an update stores
      only the fields that change; the catalogue's columns are never NULL).
    - The whole rows of deleted and deactivated products, and a revert's conflicts, are
      jsonb (`before_json`, `after_json`): few, and read back with jsonb_populate_record.
    `before` and `after` (properties here; imports.change_set.BEFORE / AFTER in SQL) read
    either as the same dicts.
    """

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        DEACTIVATED = "deactivated", "Deactivated"
        # A revert's: a product it found changed since the import it takes back (left as it
        # is unless forced); `before` holds the values the revert would restore, `after` the
        # product's current ones (imports.revert).
        CONFLICT = "conflict", "Conflict"

    # The product's fields an import writes, stored as old_<field> / new_<field> (the same
    # as imports.staging.MERGED_VALUES: imports.change_set checks it).
    VALUE_FIELDS = ("sku", "name", "description", "active")

    # `id` (Django's automatic one) is no primary key in the database (migration 0010):
    # ids come from the column's identity sequence, and nothing reads a change by id
    # (pages, the API and a revert read by job, kind and SKU; retention deletes by job), so
    # the primary key's index would only cost every insert.
    # No index of its own (importchange_job_kind_sku leads with job) and no constraint in
    # the database: a change set is written only by its own job's transaction, and a foreign
    # key would queue one deferred check per row (a lookup and a lock of the job row at
    # commit: ~40% of the cost of recording 500k changes). Jobs are never deleted by the
    # site; the ORM still cascades if one is.
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.CASCADE,
        related_name="changes",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # No foreign key: the product may be gone. Null for "created" in a validate-only job.
    product_id = models.BigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255)
    # NULL in these eight means "not changed" (never an empty string: DJ001 does not apply).
    # Updated: the old values of the fields that change; created: NULL.
    old_sku = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    old_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    old_description = models.TextField(null=True, blank=True)  # noqa: DJ001
    old_active = models.BooleanField(null=True, blank=True)
    # Created: every value written; updated: the new values of the fields that change.
    new_sku = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    new_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    new_description = models.TextField(null=True, blank=True)  # noqa: DJ001
    new_active = models.BooleanField(null=True, blank=True)
    # Deleted / deactivated: the whole row (every column, id, created_at and updated_at
    # included); conflict: the values the revert would restore.
    before_json = models.JSONField(null=True, blank=True)
    # Deactivated: {"active": false}; conflict: the product now.
    after_json = models.JSONField(null=True, blank=True)
    # The product's updated_at as this job left it: a product whose updated_at differs now
    # was changed since (a revert conflict).
    product_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The only index. A job's changes of one kind, page by page in SKU order
            # (`WHERE job_id = %s AND kind = %s ORDER BY lower(sku), id`): the page, the
            # API, the download and a revert; and the SKU search within a job, every kind
            # named (`kind = ANY(...) AND lower(sku) = %s`, one probe per kind).
            models.Index("job", "kind", Lower("sku"), "id", name="importchange_job_kind_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sku} (import #{self.job_id})"

    def _values(self, prefix: str) -> dict:
        return {
            field: value
            for field in self.VALUE_FIELDS
            if (value := getattr(self, f"{prefix}_{field}")) is not None
        }

    @property
    def before(self) -> dict | None:
        """Updated: the old values of the fields that change; deleted / deactivated: the
        whole row; conflict: what the revert would restore; created: None."""
        if self.before_json is not None:
            return self.before_json
        return self._values("old") if self.kind == self.Kind.UPDATED else None

    @property
    def after(self) -> dict | None:
        """Created: the values written; updated: the new values of the fields that change;
        deactivated: {"active": false}; conflict: the product now; deleted: None."""
        if self.after_json is not None:
            return self.after_json
        if self.kind in (self.Kind.CREATED, self.Kind.UPDATED):
            return self._values("new")
        return None


class ImportSource(models.Model):
    """A saved source ("Supplier A weekly feed"): how its files are read and merged, chosen
    at upload instead of each option (imports.sources applies it). A blank setting is not
    set: the import's own choice (or detection) applies."""

    name = models.CharField(max_length=120)
    encoding = models.CharField(max_length=16, blank=True, default="")
    delimiter = models.CharField(max_length=8, blank=True, default="")
    sheet = models.CharField(max_length=255, blank=True, default="")
    # Catalogue field -> file column, or null: left out (imports.column_mapping).
    mapping = models.JSONField(default=dict, blank=True)
    # The header of the files the source is for, each cell as columns are compared
    # (imports.column_mapping.normalized): a new file with this header is suggested it.
    header = models.JSONField(default=list, blank=True)
    strict = models.BooleanField(default=False)
    sync = models.CharField(
        max_length=16, choices=ImportJob.Sync.choices, blank=True, default=ImportJob.Sync.OFF
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_sources",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            # Chosen by name on the page, in the API and the command, in any letter case.
            models.UniqueConstraint(Lower("name"), name="importsource_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def mapping_items(self) -> list[tuple[str, str | None]]:
        """The mapping in the catalogue's field order (jsonb keeps keys in its own)."""
        mapping = self.mapping or {}
        return [(name, mapping[name]) for name in KNOWN_COLUMNS if name in mapping]

    @property
    def read_as_text(self) -> str:
        """How its CSV files are read: "cp1252 (Windows-1252), semicolon-separated"."""
        encoding = ENCODINGS[self.encoding].label if self.encoding in ENCODINGS else "detected"
        delimiter = DELIMITERS.get(self.delimiter, "detected").lower()
        text = f"encoding {encoding}, delimiter {delimiter}"
        return f"{text}; sheet “{self.sheet}”" if self.sheet else text
