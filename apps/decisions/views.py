"""Decision explorer: ask the decision point a question by hand, and browse recent decisions.

For people who may read the audit log (``audit.view_auditevent``; 404 otherwise): the
decisions they try are recorded like any other, with them as the caller.
"""

import datetime as dt
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from apps.audit.models import AuditEvent
from apps.core.errors import ApplicationError, ValidationFailed
from apps.core.forms import comma_separated
from apps.decisions.credentials import (
    MAX_DAYS,
    credential_create,
    credential_revoke,
    credential_rotate,
)
from apps.decisions.models import PolicyPackage, ServiceCredential
from apps.decisions.packages import (
    active_policy,
    may_manage,
    package_delete,
    package_load,
    reads_snapshot,
)
from apps.decisions.services import decision_evaluate


class ExplorerForm(forms.Form):
    subject_type = forms.ChoiceField(choices=[("user", "user"), ("group", "group")], initial="user")
    subject_id = forms.CharField(max_length=150, label="Subject (username or group)")
    action = forms.CharField(max_length=100, initial="read", help_text="read, write, export, …")
    resource_type = forms.ChoiceField(
        choices=[("dataset", "dataset")], initial="dataset", required=False
    )
    resource = forms.CharField(max_length=800, label="Dataset (source.schema.table) or resource id")
    purpose = forms.CharField(max_length=100, required=False)
    columns = forms.CharField(
        max_length=4000,
        required=False,
        label="Columns read (optional)",
        help_text="Comma-separated: masks are then answered for these columns only.",
    )

    def __init__(self, *args: Any, types: list[str] = (), **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["resource_type"].choices = [(t, t) for t in ["dataset", *types]]  # type: ignore[attr-defined]

    def request_body(self) -> dict:
        data = self.cleaned_data
        context = {"purpose": data["purpose"]} if data.get("purpose") else {}
        resource = {"type": data.get("resource_type") or "dataset", "id": data["resource"].strip()}
        columns = comma_separated(data.get("columns", ""))
        if columns:
            resource["properties"] = {"columns": columns}
        return {
            "subject": {"type": data["subject_type"], "id": data["subject_id"].strip()},
            "action": {"name": data["action"].strip()},
            "resource": resource,
            "context": context,
        }


@login_required
@require_http_methods(["GET", "POST"])
def explorer(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("audit.view_auditevent"):
        raise Http404("No such page.")
    active = active_policy()
    form = ExplorerForm(request.POST or None, types=sorted(active.queries))
    decision, error = None, None
    if request.method == "POST" and form.is_valid():
        try:
            decision = decision_evaluate(caller=request.user, request=form.request_body())
        except ApplicationError as exc:
            error = exc.message
    recent = AuditEvent.objects.filter(action="decision.evaluate").order_by("-id")[:50]
    return render(
        request,
        "decisions/explorer.html",
        {
            "form": form,
            "decision": decision,
            "obligations_json": json.dumps(decision.obligations, indent=2) if decision else "",
            "error": error,
            "recent": recent,
            "policy_revision": active.revision,
        },
        status=400 if request.method == "POST" and (not form.is_valid() or error) else 200,
    )


class CredentialForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=ServiceCredential.Scope.choices,
        initial=[ServiceCredential.Scope.EVALUATE],
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=90, label="Valid for (days)")


def _posted_credential(request: HttpRequest, key: str) -> ServiceCredential:
    pk = request.POST.get(key, "")
    credential = ServiceCredential.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if credential is None:
        raise Http404("No such credential.")
    return credential


@login_required
@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    """Service credentials: list, create and rotate (the token is shown on this response only),
    revoke."""
    if not request.user.has_perm("decisions.add_servicecredential"):
        raise Http404("No such page.")
    acting_on_one = "revoke" in request.POST or "rotate" in request.POST
    form = CredentialForm(request.POST or None) if not acting_on_one else CredentialForm()
    token, rotated, status = None, None, 200
    if request.method == "POST" and "revoke" in request.POST:
        credential = _posted_credential(request, "revoke")
        credential_revoke(actor=request.user, credential=credential)
        messages.success(request, f"Credential {credential.name!r} is revoked.")
        return redirect("decision-credentials")
    if request.method == "POST" and "rotate" in request.POST:
        try:
            rotated, token = credential_rotate(
                actor=request.user, credential=_posted_credential(request, "rotate")
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
    elif request.method == "POST":
        if form.is_valid():
            try:
                _, token = credential_create(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    days=form.cleaned_data["days"],
                )
                form = CredentialForm()
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status
        else:
            status = 400
    now = timezone.now()
    return render(
        request,
        "decisions/credentials.html",
        {
            "form": form,
            "token": token,
            "rotated": rotated,
            "credentials": ServiceCredential.objects.order_by("name"),
            "now": now,
            "soon": now + dt.timedelta(days=settings.DECISION_CREDENTIAL_WARN_DAYS),
        },
        status=status,
    )


class PackageForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Its Rego lives in package steward.ext.<name>.")
    resource_types = forms.CharField(
        max_length=1000, help_text="Comma-separated, e.g. invoice, payout."
    )
    rego_files = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"allow_multiple_selected": True, "accept": ".rego"}),
        label="Rego files (with their *_test.rego)",
        required=False,
    )
    data_json = forms.FileField(required=False, label="Static data (data.json, optional)")


MAX_UPLOAD = 1_000_000


def _uploaded(request: HttpRequest) -> tuple[dict[str, str], Any]:
    """The uploaded .rego files by name and the parsed data.json (``ApplicationError``s are
    shown on the form)."""
    files: dict[str, str] = {}
    for upload in request.FILES.getlist("rego_files"):
        if upload.size and upload.size > MAX_UPLOAD:
            raise ValidationFailed(f"{upload.name} is larger than {MAX_UPLOAD:,} bytes.")
        try:
            files[str(upload.name)] = upload.read().decode()
        except UnicodeDecodeError:
            raise ValidationFailed(f"{upload.name} is not UTF-8 text.") from None
    data: Any = {}
    data_file = request.FILES.get("data_json")
    if data_file is not None:
        raw = data_file.read(MAX_UPLOAD + 1)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested past what Python reads
            raise ValidationFailed("data.json is not valid JSON.", code="invalid_data") from None
    return files, data


@login_required
@require_http_methods(["GET", "POST"])
def policy_packages(request: HttpRequest) -> HttpResponse:
    """The active policy revision, the loaded packages, and loading or removing one."""
    if not may_manage(request.user):
        raise Http404("No such page.")
    form = PackageForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and "remove" in request.POST:
        try:
            package_delete(actor=request.user, name=request.POST["remove"])
            messages.success(request, f"Package {request.POST['remove']!r} removed.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("decision-packages")
    if request.method == "POST":
        if form.is_valid():
            try:
                files, data = _uploaded(request)
                package = package_load(
                    actor=request.user,
                    name=form.cleaned_data["name"].strip(),
                    files=files,
                    data=data,
                    resource_types=comma_separated(form.cleaned_data["resource_types"]),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"Package {package.name!r} is active (revision {package.revision}, "
                    f"{len(package.tests_passed)} tests passed).",
                )
                return redirect("decision-packages")
        else:
            status = 400
    listed = list(PolicyPackage.objects.select_related("loaded_by"))
    for package in listed:
        package.reads_snapshot = reads_snapshot(package.name, package.files)  # type: ignore[attr-defined]
    return render(
        request,
        "decisions/packages.html",
        {"form": form, "packages": listed, "policy_revision": active_policy().revision},
        status=status,
    )
