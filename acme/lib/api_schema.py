"""The OpenAPI schema documents every answer an operation can give, errors included.

drf-spectacular documents the success answer of each operation; the error answers DRF gives on
its own follow from what the view is made of, so they are added here for every view, the ones
written later included:

- 400 when the operation reads a body (field errors, or a parse error's `detail`) or a
  django-filter FilterSet (a filter value it refuses),
- 401 when the first authentication scheme asks for credentials (else DRF answers 403),
- 403 when a permission class guards it (not signed in, bad token, no permission),
- 404 when the path names an object (no such object) or the list is paginated (no such page).

Errors only a view knows about (409 when the catalogue is busy, for instance) are declared on
the view with `extend_schema(responses=...)`; what a view declares wins over these defaults.
The bodies are DRF's own: `{"detail": "..."}`, or field names mapped to lists of messages.
"""

from __future__ import annotations

from typing import Any

import uritemplate
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import Direction, OpenApiResponse
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """DRF's body for every error that is not about fields."""

    detail = serializers.CharField(help_text="What went wrong, in words a user can act on.")

    class Meta:
        ref_name = "Error"


def error_response(description: str) -> OpenApiResponse:
    """An error answer a view declares itself: `extend_schema(responses={409: ...})`."""
    return OpenApiResponse(ErrorSerializer, description=description)


FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": (
        "Each refused field (or `non_field_errors`) with its messages; a list field's "
        "errors are keyed by item index."
    ),
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status, description, schema in self._error_answers():
            responses.setdefault(str(status), {"description": description, "content": {
                "application/json": {"schema": schema}
            }})  # fmt: skip
        return responses

    def _error_answers(self) -> list[tuple[int, str, dict]]:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        answers = []
        field_errors = self._component("FieldErrors", FIELD_ERRORS_SCHEMA)
        if self._get_request_body() is not None:
            answers.append((400, "A field is refused, or the body cannot be parsed (`detail`).",
                            {"oneOf": [field_errors, error]}))  # fmt: skip
        elif self._filters_validate():
            answers.append((400, "A filter value is refused.", field_errors))
        if self._asks_for_credentials():
            answers.append((401, "Not authenticated, or the token is invalid.", error))
        if self._guarded():
            answers.append((403, "Not signed in, an invalid token, or no permission.", error))
        reasons_404 = []
        if uritemplate.variables(self.path):
            reasons_404.append("no such object")
        if self._is_list_view() and self._get_paginator() is not None:
            reasons_404.append("no such page")
        if reasons_404:
            answers.append((404, "Not found: " + " or ".join(reasons_404) + ".", error))
        return answers

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _filters_validate(self) -> bool:
        """A FilterSet refuses values it cannot read (an unknown choice, a bad number)."""
        return any(
            issubclass(backend, DjangoFilterBackend)
            and isinstance(self.view, GenericAPIView)
            and backend().get_filterset_class(self.view, self.view.get_queryset()) is not None
            for backend in self.get_filter_backends()
        )

    def _asks_for_credentials(self) -> bool:
        # DRF answers 401 only when its first authentication class names a scheme for the
        # WWW-Authenticate header; otherwise failed authentication is a 403.
        authenticators = self.view.get_authenticators()
        return bool(authenticators) and bool(
            authenticators[0].authenticate_header(self.view.request)
        )

    def _guarded(self) -> bool:
        return any(not isinstance(p, AllowAny) for p in self.view.get_permissions())
