"""Login required everywhere, except what is marked otherwise.

Pages use Django's LoginRequiredMiddleware (redirect to the login page). API views are left
to DRF, which authenticates sessions and tokens itself and answers 401/403 in JSON; the
middleware cannot see a token, so it must not redirect those requests.
"""

from django.contrib.auth import middleware
from rest_framework.views import APIView


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
