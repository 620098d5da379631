"""The API contract every app's ``api/`` shares: the error envelope, strict input, pages.

- Errors: every 4xx/5xx body is ``{"error": {"code", "message", "fields"?}}``
  (``apps.core.api.exceptions``); ``ErrorSerializer`` is its one OpenAPI component and
  ``error_responses(400, 404, ...)`` declares it on an operation.
- Input: request bodies are strict. A field the operation does not know is refused with
  400 ``unknown_field`` rather than silently ignored, so a typo (``"sensitivty"``) in an
  automation script fails loudly instead of leaving data unclassified.
- Components: serializers nested in a view (``DatasetListApi.OutputSerializer``) are named
  after it (``DatasetListOutput``), so the many ``InputSerializer`` classes never collide.
- Pages: list endpoints answer ``{"count", "next", "previous", "results"}``.
"""

from collections.abc import Callable, Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.pagination import Pagination
from apps.core.errors import ValidationFailed


def _component_name(qualname: str) -> str:
    """``DatasetListApi.OutputSerializer`` -> ``DatasetListOutput``."""
    parts = [p.removesuffix("Api").removesuffix("Serializer") for p in qualname.split(".")]
    return "".join(p for p in parts if p != "<locals>")


class ApiSerializer(serializers.Serializer):
    """Base for API input and output serializers (plain serializers, no model coupling).

    Set ``reject_unknown_fields = False`` on serializers that read query strings, which also
    carry pagination parameters.
    """

    reject_unknown_fields = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        meta: Any = cls.__dict__.get("Meta")
        if meta is None:
            meta = type("Meta", (), {})
            setattr(cls, "Meta", meta)  # noqa: B010 - plain assignment: the stubs know no Meta
        if not hasattr(meta, "ref_name"):
            meta.ref_name = _component_name(cls.__qualname__)

    def to_internal_value(self, data: Any) -> Any:
        if self.reject_unknown_fields and isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(k) for k in data if k not in writable)
            if unknown:
                raise ValidationFailed(
                    f"Unknown field {unknown[0]!r}; this operation accepts: "
                    f"{', '.join(sorted(writable)) or 'no fields'}.",
                    code="unknown_field",
                    extra={"fields": {name: ["Unknown field."] for name in unknown}},
                )
        return super().to_internal_value(data)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable machine-readable code, e.g. `unknown_sensitivity`, `lineage_cycle`."
    )
    message = serializers.CharField(help_text="What went wrong, in words a person can act on.")
    # The metaclass moves declared fields off the class, so this does not shadow .fields at
    # runtime; the stubs cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="Per-field messages, when the input failed validation.",
    )

    class Meta:
        ref_name = "ErrorDetail"


class ErrorSerializer(serializers.Serializer):
    """The one error envelope. Unknown request fields answer 400 ``unknown_field``."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


_ERROR_DESCRIPTIONS = {
    400: "Invalid input: `invalid`, `malformed_request`, `unknown_field`, or a domain code such "
    "as `unknown_sensitivity`.",
    401: "Not authenticated (`not_authenticated`, `authentication_failed`).",
    403: "The object is visible but the caller may not change it (`permission_denied`).",
    404: "No such object, or not visible to the caller (`not_found`).",
    409: "Conflicts with the current state (e.g. `duplicate_fqn`).",
    413: "Request body too large (`payload_too_large`).",
    415: "Unsupported body encoding (`unsupported_media_type`, `unsupported_content_encoding`).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses (401 is always included)."""
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in sorted({401, *statuses})
    }


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter(
        "page_size",
        int,
        description=f"Items per page (default {Pagination.page_size}, at most "
        f"{Pagination.max_page_size}).",
    ),
]


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The OpenAPI shape of one page of ``serializer_class`` items."""
    name = getattr(getattr(serializer_class, "Meta", None), "ref_name", serializer_class.__name__)
    return inline_serializer(
        name=f"{name}Page",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def paginated_response(
    *,
    request: Request,
    view: APIView,
    queryset: Any,
    serializer_class: type[serializers.Serializer],
    context_for: Callable[[list[Any]], dict[str, Any]] | None = None,
) -> Response:
    """One page of ``queryset`` (``?page=``, ``?page_size=``) serialized by ``serializer_class``
    (with ``context_for(page)`` added to its context: reads for the whole page at once)."""
    paginator = Pagination()
    page = list(paginator.paginate_queryset(queryset, request, view=view) or [])
    context = {"request": request, **(context_for(page) if context_for else {})}
    data = serializer_class(page, many=True, context=context).data
    return paginator.get_paginated_response(data)


def one_url(name: str, *operations: type[APIView]) -> type[APIView]:
    """One view class for a URL served by several single-operation views.

    REST puts list and create on one path (``GET``/``POST /sources/``) while each operation
    stays its own ``<Entity><Action>Api`` class. Operations must not share an HTTP method or a
    nested serializer name (outputs shared by operations live at module level).
    """
    seen: dict[str, str] = {}
    for operation in operations:
        for attr in vars(operation):
            if attr in APIView.http_method_names or attr.endswith("Serializer"):
                if attr in seen:
                    raise TypeError(f"{operation.__name__} and {seen[attr]} both define {attr}")
                seen[attr] = operation.__name__
    return type(name, operations, {"__doc__": operations[0].__doc__})
