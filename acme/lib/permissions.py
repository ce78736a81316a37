"""API permissions shared by every app."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions for every method, reads included.

    DRF's DjangoModelPermissions lets any signed-in user read; here GET/HEAD/OPTIONS need the
    model's `view` permission, like the admin.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
