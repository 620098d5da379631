"""URLs under ``controlplane.settings.bench`` only: the product's URLs plus a baseline.

``POST /bench/baseline`` is what ``bench/decisions_http.py`` compares the decision API with:
the same body, DRF validation with a serializer of the same shape, and one INSERT (its own
commit) into ``bench_baseline``, a table the bench creates with raw SQL, so the product has no
model or migration for it. No authentication, no engine, no audit: the floor a Django + DRF +
Postgres endpoint stands on. Normal deployments (``controlplane.urls``) do not mount it.
"""

import json

from django.db import connection
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.urls import urlpatterns as product_urlpatterns

BASELINE_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_baseline (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    subject text NOT NULL,
    action text NOT NULL,
    resource text NOT NULL,
    context jsonb NOT NULL
)
"""


class _EntitySerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    properties = serializers.DictField(required=False)


class _ActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    properties = serializers.DictField(required=False)


class BaselineInsertApi(APIView):
    """Validate an evaluation-shaped body and INSERT one row; answers its id."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        subject = _EntitySerializer()
        action = _ActionSerializer()
        resource = _EntitySerializer()
        # A field named like Serializer.context is fine in DRF; the stubs type the attribute.
        context = serializers.DictField(required=False)  # type: ignore[assignment]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO bench_baseline (subject, action, resource, context)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                [
                    f"{data['subject']['type']}:{data['subject']['id']}",
                    data["action"]["name"],
                    data["resource"]["id"],
                    json.dumps(data.get("context", {})),
                ],
            )
            (row_id,) = cur.fetchone()
        return Response({"id": row_id, "recorded": True}, status=201)


urlpatterns = [
    path("bench/baseline", BaselineInsertApi.as_view(), name="bench-baseline"),
    *product_urlpatterns,
]
