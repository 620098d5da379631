"""Decision explorer: ask the decision point a question by hand, and browse recent decisions.

For people who may read the audit log (``audit.view_auditevent``; 404 otherwise): the
decisions they try are recorded like any other, with them as the caller.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.audit.models import AuditEvent
from apps.core.errors import ApplicationError
from apps.decisions.credentials import MAX_DAYS, credential_create, credential_revoke
from apps.decisions.models import ServiceCredential
from apps.decisions.services import decision_evaluate


class ExplorerForm(forms.Form):
    subject_type = forms.ChoiceField(choices=[("user", "user"), ("group", "group")], initial="user")
    subject_id = forms.CharField(max_length=150, label="Subject (username or group)")
    action = forms.ChoiceField(choices=[(a, a) for a in ("read", "write", "export")])
    resource = forms.CharField(max_length=800, label="Dataset (source.schema.table)")
    purpose = forms.CharField(max_length=100, required=False)

    def request_body(self) -> dict:
        data = self.cleaned_data
        context = {"purpose": data["purpose"]} if data.get("purpose") else {}
        return {
            "subject": {"type": data["subject_type"], "id": data["subject_id"].strip()},
            "action": {"name": data["action"]},
            "resource": {"type": "dataset", "id": data["resource"].strip()},
            "context": context,
        }


@login_required
@require_http_methods(["GET", "POST"])
def explorer(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("audit.view_auditevent"):
        raise Http404("No such page.")
    form = ExplorerForm(request.POST or None)
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


@login_required
@require_http_methods(["GET", "POST"])
def credentials(request: HttpRequest) -> HttpResponse:
    """Service credentials: list, create (the token is shown on this response only), revoke."""
    if not request.user.has_perm("decisions.add_servicecredential"):
        raise Http404("No such page.")
    form = (
        CredentialForm(request.POST or None) if "revoke" not in request.POST else CredentialForm()
    )
    token, status = None, 200
    if request.method == "POST" and "revoke" in request.POST:
        pk = request.POST.get("revoke", "")
        credential = ServiceCredential.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        if credential is None:
            raise Http404("No such credential.")
        credential_revoke(actor=request.user, credential=credential)
        messages.success(request, f"Credential {credential.name!r} is revoked.")
        return redirect("decision-credentials")
    if request.method == "POST":
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
    return render(
        request,
        "decisions/credentials.html",
        {"form": form, "token": token, "credentials": ServiceCredential.objects.order_by("name")},
        status=status,
    )
