"""``{% resume_form %}``: offer again a form that was sent after the session ended.

``core.views.login_to_resume`` keeps the fields of a form sent by a visitor whose session had
ended; after the log-in the user lands on the page the form was on, where this tag (in
``base.html``) shows a notice and hands the fields to ``static/js/resume.js``, which fills the
form whose action they were sent to. On the log-in page it says that the entries are kept.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, json_script

from core.views import PENDING_FORM, pending_form_page, take_pending_form

register = template.Library()


@register.simple_tag(takes_context=True)
def resume_form(context: dict[str, Any]) -> str:
    """The notice and the kept fields, on the page they were sent from, for the user who sent
    them only (once: taken from the session, see ``core.views.take_pending_form``; another
    user's or a stale form is dropped without a word); on the log-in page a line saying they
    are kept for the same user; elsewhere nothing."""
    request = context.get("request")
    session = getattr(request, "session", None)
    if request is None or session is None:
        return ""
    page = pending_form_page(request)
    if page is None:
        return ""
    if not request.user.is_authenticated:
        return format_html(
            '<p class="msg warning" role="status">{}</p>',
            "The session in this browser ended before the last change was saved. Log in again "
            "as the same user within 30 minutes: you go back to that form with what was entered "
            "filled in, to check and send again.",
        )
    if page != request.get_full_path() and session[PENDING_FORM].get("user") == request.user.pk:
        return ""
    pending = take_pending_form(request)
    if pending is None or page != request.get_full_path():
        return ""
    data = {"action": pending.get("action", ""), "fields": pending.get("fields", [])}
    return format_html(
        '<p class="msg warning" role="alert" id="resume-notice">{}</p>{}',
        "Your session had ended, so your last change was NOT saved. What you entered is filled in "
        "again below: check it and send it again.",
        json_script(data, "resume-form"),
    )
