"""Decision explorer: ask the decision point a question by hand, and browse recent decisions.

For people who may read the audit log (``audit.view_auditevent``; 404 otherwise): the
decisions they try are recorded like any other, with them as the caller.
"""

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.audit.models import AuditEvent
from apps.core.errors import ApplicationError
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
