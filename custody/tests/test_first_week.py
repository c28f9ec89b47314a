"""Custody and scanning from issue #8 ("A district's first week"): one-time keys on every
custody form (bound to user and content), a second device of one category, the default due
date, results that name the model, the bulk form keeping what was pasted, and refusals said
as sentences."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from core.errors import ConflictError, WrongStateError
from core.testing import DeviceFactory
from custody import rules
from custody.models import Assignment, Submission
from custody.services import device_check_out, submission_claim, submission_record
from inventory.models import Device, DeviceEvent
from people.models import Person
from sites.models import District

pytestmark = pytest.mark.django_db


def _bulk_key(client, operation: str) -> str:
    return client.get(reverse("bulk", args=[operation])).context["form"].initial["submission_key"]


def _devices(world, *tags: str) -> list[Device]:
    return [DeviceFactory(asset_tag=t, model=world.device_a.model, owner_site=world.site_a) for t in tags]


def test_bulk_check_out_sent_twice_answers_with_the_first_runs_results(client_for, world):
    """A double-click sent the bulk form twice: the second answer said '0 of 3 done' although all
    three were done. The repeated key answers with the first request's results."""
    _devices(world, "BK-1", "BK-2", "BK-3")
    client = client_for(world.site_tech)
    data = {
        "lines": "BK-1, 0041873\nBK-2, 0041873\nBK-3, 0041873",
        "condition": "good",
        "submission_key": _bulk_key(client, "check-out"),
    }
    first = client.post(reverse("bulk", args=["check-out"]), data)
    second = client.post(reverse("bulk", args=["check-out"]), data)
    assert first.status_code == second.status_code == 302
    page = client.get(second.url).content.decode()
    assert "3 of 3 done" in page
    assert Assignment.objects.open().count() == 3
    assert DeviceEvent.objects.filter(kind="checked_out").count() == 3


def test_bulk_check_in_sent_twice_answers_with_the_first_runs_results(client_for, world):
    for device in _devices(world, "BK-1", "BK-2"):
        device_check_out(device=device, person=world.person_a, actor=world.site_tech)
    client = client_for(world.site_tech)
    data = {"lines": "BK-1\nBK-2", "condition": "good", "submission_key": _bulk_key(client, "check-in")}
    client.post(reverse("bulk", args=["check-in"]), data)
    second = client.post(reverse("bulk", args=["check-in"]), data)
    assert "2 of 2 done" in client.get(second.url).content.decode()


def test_a_key_resent_with_other_content_is_refused_and_does_nothing(client_for, world):
    """A stale scan form re-sent with another device answered green for the old device and did
    nothing with the new one: it is refused in words."""
    (other,) = _devices(world, "CB-777")
    client = client_for(world.site_tech)
    key = client.get(reverse("check_out"), {"person": world.person_a.pk}).context["form"].initial["submission_key"]
    data = {"person": world.person_a.pk, "code": "CB-000001", "condition": "good", "submission_key": key}
    client.post(reverse("check_out"), data, HTTP_HX_REQUEST="true")
    again = client.post(reverse("check_out"), {**data, "code": "CB-777"}, HTTP_HX_REQUEST="true").content.decode()
    assert "already sent with different content" in again and 'class="result fail"' in again
    assert Device.objects.get(pk=other.pk).status == Device.Status.IN_STOCK

    bulk_key = _bulk_key(client, "check-in")
    client.post(
        reverse("bulk", args=["check-in"]), {"lines": "CB-000001", "condition": "good", "submission_key": bulk_key}
    )
    refused = client.post(
        reverse("bulk", args=["check-in"]), {"lines": "CB-777", "condition": "good", "submission_key": bulk_key}
    )
    assert refused.status_code == 200
    assert "already sent with different content" in refused.content.decode()


def test_a_key_is_bound_to_its_user(world):
    claim = submission_claim(key="k1", actor=world.site_tech, operation="check-in", content={"code": "a"})
    submission_record(claim=claim, result={"ok": True})
    assert submission_claim(key="k1", actor=world.site_tech, operation="check-in", content={"code": "a"}).replay == {
        "ok": True
    }
    with pytest.raises(ConflictError, match="different content"):
        submission_claim(key="k1", actor=world.district_tech, operation="check-in", content={"code": "a"})
    with pytest.raises(ConflictError, match="still being processed"):
        submission_claim(key="k2", actor=world.site_tech, operation="check-in", content={})
        submission_claim(key="k2", actor=world.site_tech, operation="check-in", content={}, wait=0.1)
    assert Submission.objects.count() == 2


def test_service_key_for_another_device_is_refused(world):
    (other,) = _devices(world, "CB-778")
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech, submission_key="s1")
    with pytest.raises(ConflictError):
        device_check_out(device=other, person=world.person_a, actor=world.site_tech, submission_key="s1")


def test_check_in_scan_sent_twice_is_done_once(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    client = client_for(world.site_tech)
    data = {"code": "CB-000001", "condition": "good", "submission_key": "c" * 32}
    client.post(reverse("check_in"), data, HTTP_HX_REQUEST="true")
    again = client.post(reverse("check_in"), data, HTTP_HX_REQUEST="true").content.decode()
    assert "checked in from Ana Ruiz #0041873" in again and "form sent twice: done once" in again
    assert DeviceEvent.objects.filter(kind="checked_in").count() == 1


@pytest.mark.parametrize(("policy", "refused"), [("warn", False), ("refuse", True), ("allow", False)])
def test_second_device_of_a_category_is_warned_or_refused_by_district_setting(client_for, world, policy, refused):
    District.objects.filter(pk=District.get().pk).update(second_device_policy=policy)
    (second,) = _devices(world, "CB-779")
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    client = client_for(world.site_tech)
    body = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "CB-779", "condition": "good"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    out = Device.objects.get(pk=second.pk).status == Device.Status.ASSIGNED
    assert out is not refused
    if policy == "allow":
        assert "already holds" not in body and "more than one" not in body
    elif refused:
        assert "Ana Ruiz already holds a device of the same category (Chromebook): CB-000001;" in body
    else:
        assert "Ana Ruiz now holds more than one device of the same category (Chromebook): also CB-000001." in body
    # What the student holds now comes back with every scan.
    assert 'id="holdings"' in body and "CB-000001" in body.split('id="holdings"')[1]


def test_second_device_lost_or_loaner_rules():
    assert rules.second_device_message(
        person_label="A", category_label="Chromebook", held_tags=["X"], policy="refuse", is_loaner=True
    ) == ("A now holds more than one device of the same category (Chromebook): also X.", False)
    assert (
        rules.second_device_message(
            person_label="A", category_label="Chromebook", held_tags=[], policy="refuse", is_loaner=False
        )
        is None
    )


def test_lost_device_does_not_count_as_held(world):
    District.objects.filter(pk=District.get().pk).update(second_device_policy="refuse")
    (second,) = _devices(world, "CB-780")
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    Device.objects.filter(pk=world.device_a.pk).update(status=Device.Status.LOST)
    device_check_out(device=second, person=world.person_a, actor=world.site_tech)


@pytest.mark.parametrize(
    ("month", "day", "today", "expected"),
    [
        (6, 12, datetime.date(2025, 1, 10), datetime.date(2025, 6, 12)),
        (6, 12, datetime.date(2025, 6, 12), datetime.date(2025, 6, 12)),
        (6, 12, datetime.date(2025, 6, 13), datetime.date(2026, 6, 12)),
        (2, 29, datetime.date(2025, 1, 1), datetime.date(2025, 2, 28)),
        (None, None, datetime.date(2025, 1, 1), None),
    ],
)
def test_default_due_on(month, day, today, expected):
    assert rules.default_due_on(month=month, day=day, today=today) == expected


def test_check_out_page_prefills_the_district_default_due_date(client_for, world):
    District.objects.filter(pk=District.get().pk).update(default_due_month=6, default_due_day=12)
    client = client_for(world.site_tech)
    form = client.get(reverse("check_out"), {"person": world.person_a.pk}).context["form"]
    expected = rules.default_due_on(month=6, day=12, today=rules.district_today())
    assert form.initial["due_on"] == expected
    District.objects.filter(pk=District.get().pk).update(default_due_month=None, default_due_day=None)
    assert client.get(reverse("check_out"), {"person": world.person_a.pk}).context["form"].initial["due_on"] is None


def test_bulk_check_out_shows_the_due_date_it_sets(client_for, world):
    """The bulk check-out form has the due date, pre-filled with the district's default (blank:
    no due date, said on the form), and its results say which due date the devices got."""
    District.objects.filter(pk=District.get().pk).update(default_due_month=6, default_due_day=15)
    default = rules.default_due_on(month=6, day=15, today=rules.district_today())
    _devices(world, "BD-1", "BD-2", "BD-3")
    client = client_for(world.site_tech)
    page = client.get(reverse("bulk", args=["check-out"]))
    assert page.context["form"].initial["due_on"] == default
    body = page.content.decode()
    assert f'value="{default.isoformat()}"' in body and "leave it blank for no due date" in body
    assert 'name="due_on"' not in client.get(reverse("bulk", args=["check-in"])).content.decode()

    chosen = rules.district_today() + datetime.timedelta(days=30)
    answer = client.post(
        reverse("bulk", args=["check-out"]),
        {"lines": "BD-1, 0041873", "condition": "good", "due_on": chosen.isoformat()},
        follow=True,
    )
    assert Assignment.objects.get(device__asset_tag="BD-1").due_on == chosen
    assert f"Due date set on the devices checked out: <strong>{chosen.isoformat()}</strong>." in answer.content.decode()

    answer = client.post(
        reverse("bulk", args=["check-out"]), {"lines": "BD-2, 0041873", "condition": "good", "due_on": ""}, follow=True
    )
    assert Assignment.objects.get(device__asset_tag="BD-2").due_on is None
    assert "No due date was set on the devices checked out." in answer.content.decode()

    # too far ahead: refused on the form before any line runs, naming the latest allowed date
    answer = client.post(
        reverse("bulk", args=["check-out"]), {"lines": "BD-3, 0041873", "condition": "good", "due_on": "9999-12-31"}
    )
    assert answer.status_code == 200
    latest = rules.latest_due_on(today=rules.district_today()).isoformat()
    assert f"the latest allowed is {latest}" in answer.content.decode()
    assert not Assignment.objects.filter(device__asset_tag="BD-3").exists()


def test_device_and_person_pages_offer_check_out_and_check_in(client_for, world):
    client = client_for(world.site_tech)
    page = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert f"{reverse('check_out')}?device=CB-000001" in page
    # Check out from the device page: the device rides along through choosing the person.
    found = client.get(reverse("check_out"), {"find": "0041873", "device": "CB-000001"})
    assert found.url.endswith(f"?person={world.person_a.pk}&device=CB-000001")
    assert client.get(found.url).context["form"].initial["code"] == "CB-000001"
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    page = client.get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert f"{reverse('check_in')}?code=CB-000001" in page
    assert client.get(f"{reverse('check_in')}?code=CB-000001").context["form"].initial["code"] == "CB-000001"
    person = client.get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert f'href="{reverse("check_in")}"' in person and "Check out to this person" in person


def test_bulk_results_page_keeps_what_was_pasted(client_for, world):
    client = client_for(world.site_tech)
    pasted = "CB-000001, 0041873\nNOPE-1, 0041873"
    response = client.post(
        reverse("bulk", args=["check-out"]), {"lines": pasted, "condition": "fair", "submission_key": "b" * 32}
    )
    page = client.get(response.url)
    assert "1 of 2 done" in page.content.decode()
    assert page.context["form"].initial["lines"] == pasted
    assert page.context["form"].initial["condition"] == "fair"
    assert page.context["form"].initial["submission_key"] != "b" * 32


def test_bulk_results_name_the_model(client_for, world):
    client = client_for(world.site_tech)
    response = client.post(reverse("bulk", args=["check-out"]), {"lines": "CB-000001, 0041873", "condition": "good"})
    assert f"CB-000001 ({world.device_a.model}) checked out to Ana Ruiz" in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("transferred", "Ana Ruiz has transferred to another school; devices can only be checked out"),
        ("withdrawn", "Ana Ruiz has withdrawn;"),
        ("graduated", "Ana Ruiz has graduated;"),
        ("inactive", "Ana Ruiz is inactive;"),
    ],
)
def test_a_person_who_left_is_refused_in_a_sentence(client_for, world, status, words):
    """'Phillip Benson is transferred' did not read as a sentence."""
    Person.objects.filter(pk=world.person_a.pk).update(status=status)
    world.person_a.refresh_from_db()
    with pytest.raises(WrongStateError) as info:
        device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    assert words in str(info.value)
    page = client_for(world.site_tech).get(reverse("check_out"), {"person": world.person_a.pk}).content.decode()
    assert "is transferred" not in page and "is withdrawn" not in page


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("~CB-000001#\t", "CB-000001"), ("~CB-000001#\r\n", "CB-000001"), ("CB-000001", "CB-000001"), ("~#", "#")],
)
def test_scan_clean_strips_the_scanner_prefix_and_suffix(typed, expected):
    from core.querystring import scan_clean

    assert scan_clean(typed, prefix="~", suffix="#") == expected


def test_every_scan_field_drops_the_districts_scanner_prefix_and_suffix(client_for, world):
    """A '~' prefix and '#' suffix made every scan 'not found' (the district setting)."""
    District.objects.filter(pk=District.get().pk).update(scanner_prefix="~", scanner_suffix="#")
    client = client_for(world.site_tech)
    found = client.get(reverse("check_out"), {"find": "~0041873#\t"})
    assert found.status_code == 302 and found.url.endswith(f"?person={world.person_a.pk}")
    body = client.post(
        reverse("check_out"),
        {"person": world.person_a.pk, "code": "~cb-000001#\r", "condition": "good"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "checked out to Ana Ruiz" in body
    back = client.post(reverse("check_in"), {"code": "~SNA1#", "condition": "good"}, HTTP_HX_REQUEST="true")
    assert "checked in from Ana Ruiz" in back.content.decode()
    bulk = client.post(reverse("bulk", args=["check-out"]), {"lines": "~CB-000001#, ~0041873#", "condition": "good"})
    assert "checked out to Ana Ruiz" in client.get(bulk.url).content.decode()
    page = client.get(reverse("device_list"), {"q": "~CB-000001#"}, follow=True).content.decode()
    assert "CB-000001" in page and 'data-scan-prefix="~"' in page
