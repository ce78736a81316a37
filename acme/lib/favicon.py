"""The site's icon at /favicon.ico, where browsers look for it on pages that do not link one
(the admin, the browsable API)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static

ICON = "favicon.svg"


@login_not_required
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Not permanent: the static URL carries a content hash that changes with the icon.
    return HttpResponseRedirect(static(ICON))
