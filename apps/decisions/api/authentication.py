from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from apps.decisions.credentials import credential_authenticate
from apps.decisions.models import ServiceCredential


class BearerCredentialAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer stw_...``: a service credential (see apps.decisions.credentials)."""

    def authenticate(self, request: Request) -> tuple[ServiceCredential, str] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: Bearer <service credential>'."
            )
        credential = credential_authenticate(token.strip())
        if credential is None:
            raise exceptions.AuthenticationFailed("The credential is unknown, expired or revoked.")
        return credential, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="steward"'


class HasScope(permissions.BasePermission):
    """The credential carries the view's ``required_scope``."""

    message = "This credential lacks the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        credential = request.user
        return (
            isinstance(credential, ServiceCredential) and view.required_scope in credential.scopes
        )


class BearerCredentialScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the decision API's bearer service credential."""

    target_class = "apps.decisions.api.authentication.BearerCredentialAuthentication"
    name = "serviceCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service credential: `stw_<prefix>_<secret>` (manage.py credential_create).",
        }
