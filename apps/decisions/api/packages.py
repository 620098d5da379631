"""Policy packages over REST (``/api/v1/decisions/packages/``): list, load, remove. For
people with the policy administrator permission (``decisions.change_policypackage``)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import ApiSerializer, error_responses
from apps.core.errors import PermissionDenied
from apps.decisions import packages
from apps.decisions.models import PolicyPackage

TAGS = ["decisions"]


class PackageSerializer(ApiSerializer):
    name = serializers.CharField()
    resource_types = serializers.ListField(child=serializers.CharField())
    revision = serializers.CharField()
    files = serializers.SerializerMethodField()
    tests_passed = serializers.ListField(child=serializers.CharField())
    reads_snapshot = serializers.SerializerMethodField(
        help_text="Whether its Rego may read data.steward.snapshot (anything under data besides "
        "the packages' data and its own rules). If so, after a catalog or grant change each "
        "serving thread loads the current snapshot before its next decision for the package."
    )
    loaded_at = serializers.DateTimeField()
    loaded_by = serializers.SerializerMethodField()

    def get_files(self, obj: PolicyPackage) -> list[str]:
        return sorted(obj.files)

    def get_reads_snapshot(self, obj: PolicyPackage) -> bool:
        return packages.reads_snapshot(obj.name, obj.files)

    def get_loaded_by(self, obj: PolicyPackage) -> str | None:
        return obj.loaded_by.get_username() if obj.loaded_by else None


class ActivePolicySerializer(ApiSerializer):
    policy_revision = serializers.CharField()
    packages = PackageSerializer(many=True)


def _require(request: Request) -> None:
    if not packages.may_manage(request.user):
        raise PermissionDenied("Policy packages need the policy administrator role.")


class PolicyPackagesApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=63)
        resource_types = serializers.ListField(child=serializers.CharField(max_length=63))
        files = serializers.DictField(
            child=serializers.CharField(trim_whitespace=False),
            help_text="Relative path -> Rego text; *_test.rego files are the package's tests.",
        )
        data = serializers.DictField(  # type: ignore[assignment]
            required=False, help_text="Mounted at data.steward.packages.<name>."
        )

    @extend_schema(
        operation_id="decisions_packages_list",
        tags=TAGS,
        responses={200: ActivePolicySerializer, **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        _require(request)
        active = packages.active_policy()
        listed = PolicyPackage.objects.select_related("loaded_by")
        return Response(
            {
                "policy_revision": active.revision,
                "packages": PackageSerializer(listed, many=True).data,
            }
        )

    @extend_schema(
        operation_id="decisions_packages_load",
        tags=TAGS,
        request=InputSerializer,
        responses={201: PackageSerializer, **error_responses(400, 403, 409, 413)},
        description="Compile the package with the governance policy and run its tests; only "
        "then does it become active (replacing its previous version).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        package = packages.package_load(
            actor=request.user,
            name=data["name"],
            files=data["files"],
            data=data.get("data", {}),
            resource_types=data["resource_types"],
        )
        return Response(PackageSerializer(package).data, status=status.HTTP_201_CREATED)


class PolicyPackageApi(APIView):
    @extend_schema(
        operation_id="decisions_packages_delete",
        tags=TAGS,
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request: Request, name: str) -> Response:
        _require(request)
        packages.package_delete(actor=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)
