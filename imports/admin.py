from django.contrib import admin

from imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs change only through imports.services (pages, API, command)."""

    list_display = ["id", "original_name", "status", "phase", "rows_read", "created", "updated",
                    "unchanged", "rows_rejected", "source", "created_by", "created_at",
                    "finished_at"]  # fmt: skip
    list_filter = ["status", "source", "validate_only", "strict"]
    search_fields = ["original_name", "error"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
