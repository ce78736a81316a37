"""Who may do what with imports: one rule for the pages, the API and the admin.

Reading a job (its page, progress, event stream, error report: the rejected records' fields)
needs `view`; starting one needs `add`; cancelling or retrying one needs `change`; reverting
one (which starts a revert job that rewrites the catalogue) needs both `add` and `change`
(REVERT). The admin applies `view` itself; its one write is the revert action, with REVERT.
"""

from __future__ import annotations

from acme.lib.permissions import ModelPermissions

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
    """Reads need VIEW, POST needs START; the cancel and retry actions need CONTROL."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) in CONTROL_ACTIONS:
            return request.user.has_perm(CONTROL)
        return True
