import pytest
from django.core.management import call_command

from apps.access.models import AccessRequest, RoleBinding
from apps.audit.models import AuditEvent
from apps.catalog.models import ClassificationSuggestion, Column, Dataset, LineageEdge
from apps.reviews.models import ReviewItem


def _counts():
    return (
        Dataset.objects.count(),
        Column.objects.count(),
        LineageEdge.objects.count(),
        ClassificationSuggestion.objects.count(),
        AuditEvent.objects.count(),
        RoleBinding.objects.count(),
        AccessRequest.objects.count(),
        ReviewItem.objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    datasets, columns, edges, suggestions, _events, bindings, _requests, _items = first
    assert 35 <= datasets <= 45
    assert columns > 150
    assert edges > 10
    assert suggestions > 3
    assert bindings == 2
    assert list(AccessRequest.objects.values_list("status", "requester__username")) == [
        ("pending", "ana")
    ]
    assert sorted(ReviewItem.objects.values_list("principal", "reviewer__username")) == [
        ("user:ana", "admin"),  # the source's owner
        ("user:sam", "dana"),
    ]
    assert Dataset.objects.filter(effective_sensitivity__isnull=True).exists()
    assert Dataset.objects.filter(effective_sensitivity__isnull=False).exists()
    assert "admin" in capsys.readouterr().out
    addresses = Dataset.objects.get(fqn="crm.public.addresses")
    assert addresses.purposes == ["billing", "shipping", "support"]
    assert addresses.row_filter["column"] == "country_code"
