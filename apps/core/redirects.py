"""Where a form goes after it is posted."""

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """To the form's ``next`` when it is a path on this site, else to ``fallback`` (a URL
    pattern name). A path only: anything else (another site, or a word such as
    ``true``, which ``redirect`` would look up as a pattern name and fail on) goes to
    ``fallback``."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(fallback)
