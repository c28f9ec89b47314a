"""The view decorator every page uses, form error helpers, and error pages. (The dashboard is ``reports.views``.)"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from core.errors import DomainError
from core.scoping import VIEW, scope_for


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware: ``request.htmx`` is truthy for htmx requests."""

    htmx: HtmxDetails


#: A view: any callable answering a request (a page, a redirect, a streamed download).
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def ledger_view(action: str = VIEW) -> Callable[[_View], _View]:
    """Require a logged-in user holding a role that allows ``action`` somewhere.

    A visitor who is not logged in (or whose session ended) logs in and comes back to the page,
    with a form they had sent offered again (:func:`login_to_resume`).

    A user without such a role gets a 403 page that shows nothing. Data is scoped by
    the view itself through ``visible_to``; this decorator only turns people away early.
    """

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return login_to_resume(request)
            scope = scope_for(request.user)
            if not scope.allows(action):
                return render(request, "no_role.html", {"action": action, "has_role": scope.allows(VIEW)}, status=403)
            return view(request, *args, **kwargs)

        wrapped.ledger_action = action  # type: ignore[attr-defined]
        return cast(_View, wrapped)

    return decorator


#: Session key of a form sent after the session ended (:func:`login_to_resume`).
PENDING_FORM = "pending_form"
#: Most characters of a sent form kept for after the log-in (a bulk box holds 200,000).
PENDING_FORM_MAX = 250_000


def login_to_resume(request: HttpRequest) -> HttpResponseBase:
    """Send an anonymous visitor (a session that ended) to log in, then back where they were.

    A GET comes back to its own page. A POST (a move, transfer, status change, check-out or
    check-in sent after the session expired) would come back to an address that only takes
    POST (a bare 405, the action lost): the log-in instead leads back to the page the form was
    on (the same-site ``Referer``, else the address itself), and the fields sent are kept in
    the session (:data:`PENDING_FORM`: ``page``, ``action`` path, ``fields`` as name/value pairs;
    the CSRF token, passwords and files left out) for that page to offer again
    (``core.templatetags.resume``). Nothing is done until the user sends the form again.
    Source: issue #8."""
    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login
    from django.utils.http import url_has_allowed_host_and_scheme

    if request.method != "POST":
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    page = request.path
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        page = parts.path + (f"?{parts.query}" if parts.query else "")
    fields, size = [], 0
    for name, values in request.POST.lists():
        if name == "csrfmiddlewaretoken" or "password" in name.lower():
            continue
        for value in values:
            size += len(name) + len(value)
            if size > PENDING_FORM_MAX:
                break
            fields.append([name, value])
    request.session[PENDING_FORM] = {"page": page, "action": request.path, "fields": fields}
    return redirect_to_login(page, settings.LOGIN_URL)


def form_error(form: Any, error: DomainError) -> None:
    """Attach a service's DomainError to the form field it names (or the whole form)."""
    field = error.field if error.field in getattr(form, "fields", {}) else None
    form.add_error(field, error.message)


def form_error_messages(form: Any) -> list[str]:
    """Each form error as "Field label: message" (whole-form errors without a label)."""
    out = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field is not None else ""
        out += [f"{label}: {error}" if label else str(error) for error in errors]
    return out


def error_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A plain 404 that reveals nothing about whether the object exists."""
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The product's 403 for a ``PermissionDenied`` (pages refused by role render ``no_role.html``)."""
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent from a page that had expired (opened before a log-in or
    log-out, or with cookies refused). Says what happened and links back to the page the form
    came from (same site only) and to the dashboard; ``DEBUG=1`` shows Django's own explanation."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme
    from django.views.csrf import csrf_failure as django_csrf_failure

    if settings.DEBUG:
        return django_csrf_failure(request, reason)
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return render(request, "403_csrf.html", {"back": back}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    """500 without a template context that could fail again."""
    return render(request, "500.html", status=500)
