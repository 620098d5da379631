"""Liveness and readiness probes against the real database and Redis broker."""

import pytest


@pytest.mark.django_db
def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "policy_engine": "ok"}


@pytest.fixture
def broker_down(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.django_db
@pytest.mark.usefixtures("broker_down")
def test_readyz_names_the_broker_when_it_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


@pytest.mark.django_db
def test_readyz_names_policies_that_do_not_compile(client, settings, tmp_path):
    (tmp_path / "governance").mkdir()
    (tmp_path / "governance" / "governance.rego").write_text(
        "package steward.governance\n\nallow if {\n"
    )
    settings.POLICIES_DIR = str(tmp_path)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["policy_engine"].startswith(
        "policies do not compile: governance"
    )


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")["X-Request-ID"]
    assert generated != "bad id with spaces"
    assert len(generated) == 32


def test_every_response_says_how_long_the_application_spent_on_it(client):
    """W3C Server-Timing: the decision bench reads server time from it over real HTTP."""
    import re

    for response in (client.get("/healthz"), client.get("/no/such/page")):
        match = re.fullmatch(r"app;dur=(\d+\.\d{2})", response["Server-Timing"])
        assert match, response["Server-Timing"]
        assert 0 < float(match.group(1)) < 60_000
