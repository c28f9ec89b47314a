"""One way to write money, counts and grades on every page, and a navigation that marks the
current page (issue #8, "Polish" and "Settings": grade codes shown as words)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from core.templatetags.formatting import count, grade, grades, money


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def test_money_has_thousands_separators_and_cents():
    assert money(Decimal("1234.5")) == "$1,234.50"
    assert money(Decimal("289")) == "$289.00"
    assert money(None) == "—" and money("n/a") == "n/a"


def test_counts_have_thousands_separators():
    assert count(4178) == "4,178" and count(1234567) == "1,234,567" and count(0) == "0"
    assert count(None) == "—"


@pytest.mark.parametrize(
    "code,words",
    [("09", "Grade 9"), ("KG", "Kindergarten"), ("PK", "Pre-kindergarten"), ("12", "Grade 12"), ("", ""), ("ZZ", "ZZ")],
)
def test_grade_codes_in_words(code, words):
    assert grade(code) == words


@pytest.mark.parametrize(
    "codes,words",
    [
        ("KG,01,02,03,04,05", "Kindergarten–Grade 5"),
        ("09,10,11,12", "Grades 9–12"),
        ("06,07,08", "Grades 6–8"),
        ("PK,TK,KG,03", "Pre-kindergarten–Kindergarten, Grade 3"),
        ("PK,KG", "Pre-kindergarten, Kindergarten"),
        ("", "—"),
    ],
)
def test_a_sites_grades_in_words(codes, words):
    assert grades(codes) == words


def test_the_filters_need_no_load_on_any_template():
    assert render("{{ n|count }} · {{ m|money }} · {{ g|grade }}", n=4178, m=Decimal("1500"), g="KG") == (
        "4,178 · $1,500.00 · Kindergarten"
    )


def test_the_navigation_marks_the_current_page():
    request = RequestFactory().get("/devices/12/edit/")
    html = render('{% nav_link "dashboard" "Dashboard" %}{% nav_link "device_list" "Devices" %}', request=request)
    assert f'<a href="{reverse("dashboard")}">Dashboard</a>' in html
    assert f'<a href="{reverse("device_list")}" class="current" aria-current="page">Devices</a>' in html
    request = RequestFactory().get("/bulk/check-out/")
    html = render('{% nav_link "check_out" "Check out" also="/bulk/check-out/" %}', request=request)
    assert 'aria-current="page"' in html


@pytest.mark.django_db
def test_pages_show_grades_in_words_and_money_with_separators(client_for, world):
    world.site_a.grades = "KG,01,02,03,04,05"
    world.site_a.save()
    world.device_a.purchase_cost = Decimal("1249.5")
    world.device_a.save()
    client = client_for(world.site_tech)
    assert "Kindergarten–Grade 5" in client.get(reverse("site_detail", args=[world.site_a.pk])).content.decode()
    assert "Kindergarten–Grade 5" in client.get(reverse("site_list")).content.decode()
    assert "$1,249.50" in client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    world.person_a.grade = "09"
    world.person_a.save()
    lookup = client.get(reverse("person_lookup"), {"q": "Ruiz"}).content.decode()
    assert "Grade 9" in lookup


@pytest.mark.django_db
def test_the_people_list_shows_grades_in_words(client_for, world):
    world.person_a.grade = "KG"
    world.person_a.save()
    body = client_for(world.site_tech).get(reverse("person_list")).content.decode()
    assert "<td>Kindergarten</td>" in body
