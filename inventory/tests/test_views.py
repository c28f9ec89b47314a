"""Device and person pages: search, scan-to-open, lists that never show another site's data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.testing import DeviceFactory
from custody.services import device_check_out
from inventory.models import Device

pytestmark = pytest.mark.django_db


def test_exact_scan_opens_the_device(client_for, world):
    client = client_for(world.site_tech)
    response = client.get(reverse("device_list"), {"q": "  cb-000001\t"})
    assert response.status_code == 302 and response.url == reverse("device_detail", args=[world.device_a.pk])
    # Another site's exact tag does not open, and does not appear.
    response = client.get(reverse("device_list"), {"q": "CB-000002"})
    assert response.status_code == 200 and response.context["page"].items == []
    assert "No devices match" in response.content.decode()


def test_search_by_holder_student_number_and_name(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    client = client_for(world.district_tech)
    for q in ("0041873", "Ruiz", "ana"):
        body = client.get(reverse("device_list"), {"q": q, "exact": "0"}).content.decode()
        assert "CB-000001" in body and "CB-000002" not in body, q


def test_lists_never_show_another_sites_devices_or_students(client_for, world):
    client = client_for(world.site_tech)
    pages = [
        client.get(reverse("device_list")),
        client.get(reverse("person_list")),
        client.get(reverse("person_lookup"), {"q": "Ok"}),
        client.get(reverse("person_list"), {"q": "Oka"}),
        client.get(reverse("site_list")),
        client.get(reverse("dashboard")),
    ]
    for response in pages:
        body = response.content.decode()
        assert response.status_code == 200
        assert "CB-000002" not in body and "Okafor" not in body and "Birch" not in body
    body = client.get(reverse("device_list")).content.decode()
    assert "CB-000001" in body


def test_decentralized_mode_scopes_devices_by_owner_site(client_for, world):
    from sites.models import District

    District.objects.filter(pk=1).update(ownership_mode=District.OwnershipMode.DECENTRALIZED)
    # Site A owns a device that sits at site B.
    visiting = DeviceFactory(asset_tag="CB-777", owner_site=world.site_a, current_site=world.site_b)
    body = client_for(world.site_tech).get(reverse("device_list")).content.decode()
    assert "CB-777" in body
    District.objects.filter(pk=1).update(ownership_mode=District.OwnershipMode.CENTRALIZED)
    body = client_for(world.site_tech).get(reverse("device_list")).content.decode()
    assert "CB-777" not in body
    assert visiting.pk


def test_paging_walks_every_device_once(client_for, world):
    for n in range(120):
        DeviceFactory(asset_tag=f"ZZ-{n:04d}", owner_site=world.site_a)
    client = client_for(world.site_tech)
    seen: list[str] = []
    params = {"exact": "0"}
    while True:
        page = client.get(reverse("device_list"), params).context["page"]
        seen += [d.asset_tag for d in page.items]
        if not page.next_cursor:
            break
        params = {"exact": "0", "after": page.next_cursor}
    expected = sorted(Device.objects.filter(current_site=world.site_a).values_list("asset_tag", flat=True))
    assert seen == expected
    back = client.get(reverse("device_list"), {"exact": "0", "before": page.prev_cursor}).context["page"]
    assert [d.asset_tag for d in back.items] == expected[-(len(page.items) + 50) : -len(page.items)]


def test_create_device_form_names_the_field_in_error(client_for, world):
    client = client_for(world.site_tech)
    response = client.post(
        reverse("device_create"),
        {
            "asset_tag": "cb-000001",
            "model": world.device_a.model_id,
            "owner_site": world.site_a.pk,
            "purchase_cost": "-5",
        },
    )
    form = response.context["form"]
    assert "purchase_cost" in form.errors
    response = client.post(
        reverse("device_create"),
        {"asset_tag": "cb-000001", "model": world.device_a.model_id, "owner_site": world.site_a.pk},
    )
    assert "already used by another live device" in response.context["form"].errors["asset_tag"][0]
    response = client.post(
        reverse("device_create"),
        {"asset_tag": "NEW-1", "model": world.device_a.model_id, "owner_site": world.site_b.pk},
    )
    assert "owner_site" in response.context["form"].errors
    assert not Device.objects.filter(asset_tag="NEW-1").exists()


def test_device_actions_through_the_page(client_for, world):
    client = client_for(world.site_tech)
    url = reverse("device_action", args=[world.device_a.pk, "status"])
    client.post(url, {"action": "lost", "note": "bus"})
    assert Device.objects.get(pk=world.device_a.pk).status == Device.Status.LOST
    response = client.post(url, {"action": "lost"})
    assert any("cannot be marked lost" in str(m) for m in response.wsgi_request._messages)
    response = client.post(url, {"action": "explode"})
    assert any("Select a valid choice" in str(m) for m in response.wsgi_request._messages)
    transfer = client.post(reverse("device_action", args=[world.device_a.pk, "transfer"]), {"site": world.site_b.pk})
    assert transfer.status_code == 302 and transfer.url == reverse("device_list")
    assert Device.objects.get(pk=world.device_a.pk).current_site == world.site_b


def test_timeline_speaks_in_words(client_for, world):
    device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    body = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Status:</span> In stock → Assigned" in body
    assert "in_stock" not in body


def test_a_stale_edit_form_does_not_overwrite_a_newer_edit(client_for, world):
    url = reverse("device_edit", args=[world.device_a.pk])
    client_a = client_for(world.site_tech)
    form = client_a.get(url).context["form"]
    stale = {k: v for k, v in form.initial.items() if v is not None}
    stale.update({"model": world.device_a.model_id, "owner_site": world.site_a.pk, "vendor": "CDW-G"})
    client_b = client_for(world.district_tech)
    fresh = dict(stale, vendor="", notes="Screen cracked")
    fresh["version"] = client_b.get(url).context["form"].initial["version"]
    assert client_b.post(url, fresh).status_code == 302
    response = client_a.post(url, stale)
    assert response.status_code == 200
    assert "changed CB-000001 after you opened this form" in response.content.decode()
    assert Device.objects.get(pk=world.device_a.pk).notes == "Screen cracked"


def test_mac_address_and_dates_are_checked(client_for, world):
    url = reverse("device_edit", args=[world.device_a.pk])
    data = {"asset_tag": "CB-000001", "model": world.device_a.model_id, "owner_site": world.site_a.pk,
            "wifi_mac": "zz:zz", "purchase_date": "2024-08-01", "warranty_end": "2024-01-01"}  # fmt: skip
    form = client_for(world.site_tech).post(url, data).context["form"]
    assert "wifi_mac" in form.errors and "warranty_end" in form.errors
    data.update(wifi_mac="3c22fb123456", warranty_end="2027-08-01")
    assert client_for(world.site_tech).post(url, data).status_code == 302
    assert Device.objects.get(pk=world.device_a.pk).wifi_mac == "3C:22:FB:12:34:56"


def test_overdue_filter(client_for, world):
    import datetime

    from django.utils import timezone

    result = device_check_out(device=world.device_a, person=world.person_a, actor=world.site_tech)
    from custody.models import Assignment

    Assignment.objects.filter(pk=result.assignment.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=3))
    page = client_for(world.district_tech).get(reverse("device_list"), {"overdue": "1", "exact": "0"}).context["page"]
    assert [d.asset_tag for d in page.items] == ["CB-000001"]


def test_device_page_tells_the_model_aue_from_the_one_google_reported(client_for, world):
    """QA F4: "Auto-update expiration 2034-06-01" (the model's) beside "June 1, 2031" (Google's
    per-device value) read as a contradiction: both are labelled for what they are, same format."""
    import datetime

    from inventory.models import DeviceLastSeen

    model = world.device_a.model
    model.auto_update_expiration = datetime.date(2034, 6, 1)
    model.save()
    DeviceLastSeen.objects.create(device=world.device_a, auto_update_expiration=datetime.date(2031, 6, 1))
    page = client_for(world.site_tech).get(reverse("device_detail", args=[world.device_a.pk])).content.decode()
    assert "Model's auto-update expiration</dt><dd>2034-06-01" in page
    assert "Auto-update expiration reported by Google Admin</dt><dd>2031-06-01" in page
    assert "June 1, 2031" not in page
