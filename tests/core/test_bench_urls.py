"""The HTTP bench's baseline endpoint exists only under controlplane.settings.bench."""

import pytest
from django.urls import Resolver404, resolve


def test_baseline_is_not_mounted_by_the_product_urls():
    with pytest.raises(Resolver404):
        resolve("/bench/baseline")


def test_baseline_is_mounted_by_the_bench_urls_beside_the_decision_api():
    assert (
        resolve("/bench/baseline", urlconf="controlplane.bench_urls").url_name == "bench-baseline"
    )
    evaluation = resolve("/access/v1/evaluation", urlconf="controlplane.bench_urls")
    assert evaluation.url_name == "access-evaluation"
