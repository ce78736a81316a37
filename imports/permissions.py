"""Who may do what with imports: one rule for the pages, the API and the admin.

Reading a job (its page, progress, event stream, error report: the rejected records' fields,
its change set and its download) needs `view`; starting one needs `add` (importing the file a
validation checked included); cancelling or retrying one needs `change`; reverting one
(which starts a revert job that rewrites the catalogue) needs both `add` and `change`
(REVERT). Everything is checked against ImportJob's permissions, a job's change set
included. The admin applies `view` itself; its one write is the revert action, with REVERT.
"""

from __future__ import annotations

from acme.lib.permissions import ModelPermissions
from imports.models import ImportJob

VIEW = "imports.view_importjob"
START = "imports.add_importjob"
CONTROL = "imports.change_importjob"
# Saved sources (imports.sources): reading them needs `view`, and each write its own model
# permission, on the pages, in the API and the admin alike. Choosing one when starting an
# import needs only START.
SOURCE_VIEW = "imports.view_importsource"
SOURCE_ADD = "imports.add_importsource"
SOURCE_CHANGE = "imports.change_importsource"
SOURCE_DELETE = "imports.delete_importsource"
REVERT = (START, CONTROL)
# API actions beyond the model permissions DRF maps from the method (POST would mean `add`,
# so `revert` needs REVERT).
CONTROL_ACTIONS = ("cancel", "retry", "revert")


class ImportJobPermissions(ModelPermissions):
    """ImportJob's model permissions (reads need VIEW, POST needs START, the commit action
    included); the cancel, retry and revert actions also need CONTROL."""

    def has_permission(self, request, view) -> bool:
        # Checked against ImportJob alone, never the view's queryset: a job's change set is
        # part of the job, and reading the queryset looks the job up (404 before 403).
        if not (request.user and request.user.is_authenticated):
            return False
        required = self.get_required_permissions(request.method, ImportJob)
        if getattr(view, "action", None) in CONTROL_ACTIONS:
            required = [*required, CONTROL]
        return request.user.has_perms(required)
