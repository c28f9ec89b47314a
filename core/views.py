"""The view decorator every page uses, form error helpers, and error pages. (The dashboard is ``reports.views``.)"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django_htmx.middleware import HtmxDetails

from core.errors import DomainError
from core.scoping import ADMIN, CHANGE, VIEW, Scope, scope_for


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware: ``request.htmx`` is truthy for htmx requests."""

    htmx: HtmxDetails


#: A view: any callable answering a request (a page, a redirect, a streamed download).
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def ledger_view(action: str = VIEW) -> Callable[[_View], _View]:
    """Require a logged-in user holding a role that allows ``action`` somewhere.

    A visitor who is not logged in (or whose session ended) logs in and comes back to the page,
    with a form they had sent offered again (:func:`login_to_resume`).

    A user without such a role gets the 403 page (:func:`refused`) that shows nothing. Data is scoped by
    the view itself through ``visible_to``; this decorator only turns people away early.
    """

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return login_to_resume(request)
            scope = scope_for(request.user)
            if not scope.allows(action):
                return refused(request, action=action, scope=scope)
            return view(request, *args, **kwargs)

        wrapped.ledger_action = action  # type: ignore[attr-defined]
        return cast(_View, wrapped)

    return decorator


#: Session key of a form sent after the session ended (:func:`login_to_resume`).
PENDING_FORM = "pending_form"
#: Most characters of a sent form kept for after the log-in (a bulk box holds 200,000).
PENDING_FORM_MAX = 250_000
#: Seconds a kept form lives: a shared front-office computer must not hand it out hours later.
PENDING_FORM_MAX_AGE = 30 * 60
#: Signed cookie naming the user who last logged in in this browser (set by :class:`LedgerLoginView`),
#: so that a form sent after that user's session ended is bound to them (:func:`login_to_resume`).
LAST_USER_COOKIE = "deviceledger_last_user"
_LAST_USER_SALT = "core.views.last_user"


def last_user_id(request: HttpRequest) -> int | None:
    """The id of the user who last logged in in this browser (the signed :data:`LAST_USER_COOKIE`),
    or None when there is none, it was tampered with or it is older than a session lives."""
    from django.conf import settings

    value = request.get_signed_cookie(
        LAST_USER_COOKIE, default=None, salt=_LAST_USER_SALT, max_age=settings.SESSION_COOKIE_AGE
    )
    return int(value) if value is not None and value.isdigit() else None


def take_pending_form(request: HttpRequest) -> dict[str, Any] | None:
    """The form kept by :func:`login_to_resume`, removed from the session, if it belongs to the
    logged-in user and is younger than :data:`PENDING_FORM_MAX_AGE`; otherwise it is removed all
    the same and None is returned (another user never learns there was one). Shape:
    ``{"page", "action", "fields": [[name, value], ...], "user": id, "saved": epoch seconds}``."""
    import time

    pending = request.session.pop(PENDING_FORM, None)
    if not isinstance(pending, dict) or not request.user.is_authenticated:
        return None
    if pending.get("user") != request.user.pk:
        return None
    saved = pending.get("saved")
    if not isinstance(saved, (int, float)) or not 0 <= time.time() - saved <= PENDING_FORM_MAX_AGE:
        return None
    return pending


def pending_form_page(request: HttpRequest) -> str | None:
    """The page a kept form is waiting on, without taking it (None if there is none)."""
    pending = request.session.get(PENDING_FORM)
    return pending.get("page") if isinstance(pending, dict) else None


class LedgerLoginView(LoginView):
    """Django's log-in page that also (a) marks this browser with the signed id of the user who
    logs in (:data:`LAST_USER_COOKIE`), and (b) throws away, silently, a form kept by
    :func:`login_to_resume` that another user had sent, or that is too old. Source: issue #8
    (a form typed by one technician must never be shown to the next person at the computer)."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        """Log in, keep the kept form only for its own user, and set the last-user cookie."""
        from django.conf import settings

        response = super().form_valid(form)
        request = self.request
        pending = request.session.get(PENDING_FORM)
        if pending is not None:
            kept = take_pending_form(request)
            if kept is not None:
                request.session[PENDING_FORM] = kept
            else:
                # Not theirs: land on the page they asked for, not on the other user's form.
                response = HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
        response.set_signed_cookie(
            LAST_USER_COOKIE,
            str(request.user.pk),
            salt=_LAST_USER_SALT,
            max_age=settings.SESSION_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response


def login_to_resume(request: HttpRequest) -> HttpResponseBase:
    """Send an anonymous visitor (a session that ended) to log in, then back where they were.

    A GET comes back to its own page. A POST (a move, transfer, status change, check-out or
    check-in sent after the session expired) would come back to an address that only takes
    POST (a bare 405, the action lost): the log-in instead leads back to the page the form was
    on (the same-site ``Referer``, else the address itself), and the fields sent are kept in
    the session (:data:`PENDING_FORM`: ``page``, ``action`` path, ``fields`` as name/value pairs;
    the CSRF token, passwords and files left out) for that page to offer again
    (``core.templatetags.resume``). Nothing is done until the user sends the form again.

    The kept form is bound to the user whose session ended — the signed id in
    :data:`LAST_USER_COOKIE` — and stamped with the time: only that user, logging in within
    :data:`PENDING_FORM_MAX_AGE`, gets it back (:func:`take_pending_form`); anyone else's log-in
    discards it silently (:class:`LedgerLoginView`). When the browser names no user, nothing is
    kept. Source: issue #8 (and the tester's report of one technician's entries shown to the next)."""
    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login
    from django.utils.http import url_has_allowed_host_and_scheme

    if request.method != "POST":
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    import time

    request.session.pop(PENDING_FORM, None)
    owner = last_user_id(request)
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
    if owner is not None:
        request.session[PENDING_FORM] = {
            "page": page,
            "action": request.path,
            "fields": fields,
            "user": owner,
            "saved": time.time(),
        }
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


#: Why a page was refused, as ``templates/403.html`` words it (:func:`refusal_reason`).
NO_ROLE, ADMIN_ONLY, READ_ONLY, NOT_ALLOWED = "no_role", "admin_only", "read_only", "not_allowed"


def refusal_reason(*, scope: Scope, action: str) -> str:
    """Why ``action`` is refused to a user of ``scope``, one of :data:`NO_ROLE` (no role at all),
    :data:`ADMIN_ONLY` (a district admins' page: staff, settings, district imports, the Django
    admin — whatever the user's role), :data:`READ_ONLY` (a change refused to someone whose
    roles only let them look) or :data:`NOT_ALLOWED` (anything else)."""
    if not scope.allows(VIEW):
        return NO_ROLE
    if action == ADMIN:
        return ADMIN_ONLY
    if action == CHANGE and not scope.allows(CHANGE):
        return READ_ONLY
    return NOT_ALLOWED


def refused(request: HttpRequest, *, action: str, scope: Scope | None = None) -> HttpResponse:
    """The product's 403 page for ``action`` refused to the request's user, worded by
    :func:`refusal_reason` (one page and one wording for every refusal)."""
    if scope is None:
        scope = scope_for(request.user) if request.user.is_authenticated else Scope()
    reason = refusal_reason(scope=scope, action=action)
    return render(request, "403.html", {"reason": reason, "action": action}, status=403)


def error_403(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The product's 403 for a ``PermissionDenied`` (see :func:`refused`)."""
    return refused(request, action="")


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
