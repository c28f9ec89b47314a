"""The change log (issue #7, "An audit trail for every change"): each kind of change writes
its entry in the same transaction, entries survive their actor and object, and they are shown
only to users who may see the object."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts import services as accounts_services
from accounts.models import StaffRole
from core.changelog import (
    ChangeEntry,
    change_log_for,
    change_log_insert_sql,
    change_log_record,
    change_log_record_many,
    changes,
    json_value,
)
from core.models import ChangeLog
from inventory import services as inventory_services
from inventory.models import DeviceModel
from people import services as people_services
from people.models import GuardianContact, Person
from sites import services as sites_services
from sites.models import District, Location, Site

A = ChangeLog.Action


def _entries(obj) -> list[ChangeLog]:
    return list(ChangeLog.objects.filter(object_type=obj._meta.label_lower, object_id=obj.pk))


# Each case: (name, make the change → the object it is about, expected action, expected after,
# read the changed value back from the database).
def _cases(world):
    guardian = GuardianContact.objects.create(person=world.person_a, name="Rosa Ruiz", phone="555-0100")
    model = world.device_a.model
    return {
        "district ownership mode": (
            lambda: sites_services.district_update(actor=world.district_admin, ownership_mode="decentralized"),
            A.CHANGED,
            {"ownership_mode": "decentralized"},
            lambda: District.get().ownership_mode,
        ),
        "site name": (
            lambda: sites_services.site_update(site=world.site_a, actor=world.district_admin, name="Alder K-8"),
            A.CHANGED,
            {"name": "Alder K-8"},
            lambda: Site.objects.get(pk=world.site_a.pk).name,
        ),
        "location added": (
            lambda: sites_services.location_create(site=world.site_a, name="Cart 7", actor=world.district_admin),
            A.CREATED,
            {"name": "Cart 7", "kind": "room", "active": True},
            lambda: Location.objects.filter(name="Cart 7").count(),
        ),
        "person withdrawn": (
            lambda: people_services.person_set_status(
                person=world.person_a, status=Person.Status.WITHDRAWN, actor=world.site_tech
            ),
            A.CHANGED,
            {"status": "withdrawn"},
            lambda: Person.objects.get(pk=world.person_a.pk).status,
        ),
        "person edited": (
            lambda: people_services.person_update(
                person=world.person_a, actor=world.site_tech, homeroom="7B", home_site=world.site_b
            ),
            A.CHANGED,
            {"homeroom": "7B", "home_site": "Birch Middle"},
            lambda: Person.objects.get(pk=world.person_a.pk).homeroom,
        ),
        "guardian changed": (
            lambda: people_services.guardian_update(guardian=guardian, actor=world.site_tech, phone="555-0199"),
            A.CHANGED,
            {"phone": "555-0199"},
            lambda: GuardianContact.objects.get(pk=guardian.pk).phone,
        ),
        "role granted": (
            lambda: accounts_services.staff_role_grant(
                user=world.nobody, role=StaffRole.Role.AUDITOR, site=world.site_a, actor=world.district_admin
            ),
            A.CREATED,
            {"role": "auditor", "site": "Alder Elementary"},
            lambda: StaffRole.objects.filter(user=world.nobody).count(),
        ),
        "replacement cost": (
            lambda: inventory_services.device_model_update(
                device_model=model, actor=world.district_admin, replacement_cost=Decimal("319.5")
            ),
            A.CHANGED,
            {"replacement_cost": "319.50"},
            lambda: DeviceModel.objects.get(pk=model.pk).replacement_cost,
        ),
    }


CASES = [
    "district ownership mode",
    "site name",
    "location added",
    "person withdrawn",
    "person edited",
    "guardian changed",
    "role granted",
    "replacement cost",
]


@pytest.mark.parametrize("case", CASES)
def test_each_kind_of_change_writes_its_entry(world, case):
    change, action, after, _read = _cases(world)[case]
    obj = change()
    [entry] = _entries(obj)
    assert (entry.action, entry.after, entry.source) == (action, after, ChangeLog.Source.WEB)
    assert entry.actor_label in {"district-admin", "site-tech"}
    assert entry.occurred_at.tzinfo is not None


@pytest.mark.parametrize("case", CASES)
def test_a_change_whose_entry_fails_is_not_saved(world, case, monkeypatch):
    """Same transaction: when writing the entry fails, the change is rolled back too."""
    change, _action, _after, read = _cases(world)[case]
    unchanged = read()

    def broken(*args, **kwargs):
        raise DatabaseError("the change log is unavailable")

    monkeypatch.setattr(ChangeLog.objects, "bulk_create", broken)
    with pytest.raises(DatabaseError):
        change()
    assert read() == unchanged
    assert not ChangeLog.objects.exists()


def test_a_refused_change_writes_no_entry(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        sites_services.district_update(actor=world.district_admin, time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="Unknown status"):
        people_services.person_set_status(person=world.person_a, status="expelled", actor=world.site_tech)
    assert not ChangeLog.objects.exists()


def test_nothing_changed_writes_nothing(world):
    sites_services.site_update(site=world.site_a, actor=world.district_admin, name="Alder Elementary")
    people_services.person_set_status(person=world.person_a, status=Person.Status.ACTIVE, actor=world.site_tech)
    assert not ChangeLog.objects.exists()


def test_role_changes_and_revocations_are_listed_on_the_user(world):
    grant = world.site_tech.staff_roles.get()
    accounts_services.staff_role_update(
        staff_role=grant, role=StaffRole.Role.SITE_TECHNICIAN, site=world.site_b, actor=world.district_admin
    )
    accounts_services.staff_role_revoke(staff_role=grant, actor=world.district_admin)
    entries = change_log_for(obj=world.site_tech, user=world.district_admin)
    assert [(e.action, e.before, e.after) for e in entries] == [
        (A.DELETED, {"role": "site_technician", "site": "Birch Middle"}, {}),
        (A.CHANGED, {"site": "Alder Elementary"}, {"site": "Birch Middle"}),
    ]
    assert change_log_for(obj=world.site_tech, user=world.district_tech) == []


def test_entries_survive_their_actor_and_their_object(world):
    guardian = people_services.guardian_create(person=world.person_a, name="Rosa Ruiz", actor=world.site_tech)
    people_services.person_set_status(person=world.person_a, status=Person.Status.WITHDRAWN, actor=world.site_tech)
    people_services.guardian_delete(guardian=guardian, actor=world.site_tech)
    world.site_tech.delete()
    world.person_a.delete()
    rows = list(ChangeLog.objects.order_by("id"))
    assert [(r.action, r.object_label, r.actor_id, r.actor_label) for r in rows] == [
        (A.CREATED, "Rosa Ruiz (contact)", None, "site-tech"),
        (A.CHANGED, "Ana Ruiz #0041873", None, "site-tech"),
        (A.DELETED, "Rosa Ruiz (contact)", None, "site-tech"),
    ]
    assert rows[1].change_rows() == [("Status", "Active", "Withdrawn")]


def test_the_person_page_shows_the_history_in_words_in_the_district_time_zone(world, client_for):
    sites_services.district_update(actor=world.district_admin, time_zone="America/Chicago")
    entry = people_services.person_set_status(
        person=world.person_a, status=Person.Status.WITHDRAWN, actor=world.district_admin, note="Moved away"
    )
    when = ChangeLog.objects.get(object_type="people.person").occurred_at
    world.district_admin.delete()  # the stored label stays
    page = client_for(world.site_tech).get(reverse("person_detail", args=[entry.pk])).content.decode()
    assert "History of changes" in page
    assert "Active → Withdrawn" in page
    assert "district-admin" in page and "Moved away" in page
    local = when.astimezone(datetime.timezone(datetime.timedelta(hours=-6 if when.month in (1, 2, 11, 12) else -5)))
    assert local.strftime("%Y-%m-%d %H:%M") in page


def test_another_sites_history_does_not_show_through_this_sites_pages(world, client_for):
    people_services.person_set_status(person=world.person_b, status=Person.Status.WITHDRAWN, actor=world.district_admin)
    sites_services.location_create(site=world.site_b, name="Secret cart", actor=world.district_admin)
    sites_services.location_create(site=world.site_a, name="Cart 7", actor=world.district_admin)
    client = client_for(world.site_tech)
    site_a = client.get(reverse("site_detail", args=[world.site_a.pk])).content.decode()
    assert "Cart 7" in site_a and "Secret cart" not in site_a
    assert client.get(reverse("person_detail", args=[world.person_b.pk])).status_code == 404
    assert client.get(reverse("site_detail", args=[world.site_b.pk])).status_code == 404
    person_a = client.get(reverse("person_detail", args=[world.person_a.pk])).content.decode()
    assert "Withdrawn" not in person_a
    assert change_log_for(obj=world.person_b, user=world.site_tech) == []
    assert change_log_for(obj=world.site_b, user=world.site_tech) == []
    assert len(change_log_for(obj=world.site_b, user=world.district_tech)) == 1


def test_the_district_settings_page_shows_its_history(world, client_for):
    client = client_for(world.district_admin)
    response = client.post(
        reverse("district_settings"),
        {
            "name": "Demo Unified School District",
            "time_zone": "America/Chicago",
            "ownership_mode": "decentralized",
            "fee_collector": "district",
            "school_year_start_month": 8,
            "school_year_start_day": 1,
        },
    )
    assert response.status_code == 302
    [entry] = ChangeLog.objects.all()
    assert (entry.source, entry.before, entry.after) == (
        ChangeLog.Source.WEB,
        {"ownership_mode": "centralized"},
        {"ownership_mode": "decentralized"},
    )
    page = client.get(reverse("district_settings")).content.decode()
    assert "Ownership mode:</span> Centralized (the district owns every device) → Decentralized" in page


# --- the Django admin goes through the services ------------------------------------------


@pytest.fixture
def admin_client(world, client_for):
    """The district admin in the Django admin (which also needs ``is_staff``)."""
    world.district_admin.is_staff = world.district_admin.is_superuser = True
    world.district_admin.save()
    return client_for(world.district_admin)


def _user_form(user, roles, *, prefix="staff_roles"):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        f"{prefix}-TOTAL_FORMS": str(len(roles) + 1),
        f"{prefix}-INITIAL_FORMS": str(sum(1 for r in roles if r.get("id"))),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, role in enumerate(roles):
        for key, value in role.items():
            data[f"{prefix}-{i}-{key}"] = value
        data[f"{prefix}-{i}-user"] = str(user.pk)
    return data


def test_admin_role_edits_write_entries(world, admin_client):
    client = admin_client
    url = reverse("admin:auth_user_change", args=[world.site_tech.pk])
    grant = world.site_tech.staff_roles.get()
    data = _user_form(
        world.site_tech,
        [
            {"id": str(grant.pk), "role": "site_technician", "site": str(world.site_b.pk)},
            {"role": "auditor", "site": ""},
        ],
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entries = change_log_for(obj=world.site_tech, user=world.district_admin)
    assert sorted((e.action, e.source, e.after.get("site")) for e in entries) == [
        (A.CHANGED, "admin", "Birch Middle"),
        (A.CREATED, "admin", "district-wide"),
    ]
    page = client.get(url).content.decode()
    assert "History of changes" in page and "Birch Middle" in page

    data = _user_form(
        world.site_tech,
        [{"id": str(grant.pk), "role": "site_technician", "site": str(world.site_b.pk), "DELETE": "on"}],
    )
    data["staff_roles-INITIAL_FORMS"] = "2"
    data["staff_roles-TOTAL_FORMS"] = "2"
    auditor = world.site_tech.staff_roles.get(role="auditor")
    data.update({"staff_roles-1-id": str(auditor.pk), "staff_roles-1-role": "auditor", "staff_roles-1-site": ""})
    data["staff_roles-1-user"] = str(world.site_tech.pk)
    assert client.post(url, data).status_code == 302
    assert list(world.site_tech.staff_roles.values_list("role", flat=True)) == ["auditor"]
    assert ChangeLog.objects.filter(action=A.DELETED, source="admin").count() == 1


def test_admin_device_model_edit_writes_an_entry_and_shows_it(world, admin_client):
    client = admin_client
    model = world.device_a.model
    url = reverse("admin:inventory_devicemodel_change", args=[model.pk])
    data = {
        "manufacturer": str(model.manufacturer_id),
        "name": model.name,
        "model_number": model.model_number,
        "category": model.category,
        "replacement_cost": "305.00",
        "service_life_months": "48",
        "auto_update_expiration": "",
    }
    assert client.post(url, data).status_code == 302
    [entry] = _entries(model)
    assert (entry.source, entry.before, entry.after) == (
        "admin",
        {"replacement_cost": "289.00"},
        {"replacement_cost": "305.00"},
    )
    page = client.get(url).content.decode()
    assert "Replacement cost (USD): 289.00 → 305.00" in page  # the field's words, first letter raised


def test_history_labels_keep_the_fields_own_capitals(world):
    """Labels were str.capitalize()d: "State / nces id", "Oneroster sourcedid"."""
    sites_services.site_update(site=world.site_a, actor=world.district_admin, state_id="0600001", sourced_id="org-9")
    [entry] = _entries(world.site_a)
    assert sorted(label for label, _, _ in entry.change_rows()) == ["OneRoster sourcedId", "State / NCES id"]
    gone = ChangeLog(object_type="inventory.gone", action=A.CHANGED, before={"old_field": 1}, after={"old_field": 2})
    assert gone.change_rows() == [("Old field", "1", "2")]


def test_admin_site_and_location_edits_write_entries(world, admin_client):
    client = admin_client
    url = reverse("admin:sites_site_change", args=[world.site_a.pk])
    data = {
        "code": "A",
        "name": "Alder K-8",
        "kind": "school",
        "grades": "",
        "state_id": "",
        "sourced_id": "",
        "active": "on",
        "locations-TOTAL_FORMS": "2",
        "locations-INITIAL_FORMS": "1",
        "locations-MIN_NUM_FORMS": "0",
        "locations-MAX_NUM_FORMS": "1000",
        "locations-0-id": str(world.location_a.pk),
        "locations-0-site": str(world.site_a.pk),
        "locations-0-name": "Library cart",
        "locations-0-kind": "cart",
        "locations-0-active": "on",
        "locations-1-site": str(world.site_a.pk),
        "locations-1-name": "Room 101",
        "locations-1-kind": "room",
        "locations-1-active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entries = change_log_for(obj=world.site_a, user=world.district_admin)
    assert sorted((e.object_type, e.action, tuple(sorted(e.after.items()))) for e in entries) == [
        ("sites.location", A.CHANGED, (("kind", "cart"),)),
        ("sites.location", A.CREATED, (("active", True), ("kind", "room"), ("name", "Room 101"))),
        ("sites.site", A.CHANGED, (("name", "Alder K-8"),)),
    ]
    assert {e.source for e in entries} == {"admin"}


# --- the bulk and SQL forms ----------------------------------------------------------------


def test_the_bulk_form_writes_one_entry_per_changed_row(world):
    people = [world.person_a, world.person_b]
    entries = [
        ChangeEntry.for_object(
            p, action=A.CHANGED, before={"status": "active"}, after={"status": "withdrawn"}, site_id=p.home_site_id
        )
        for p in people
    ] + [ChangeEntry.for_object(world.person_a, action=A.CHANGED)]  # nothing changed: skipped
    rows = change_log_record_many(actor=None, source=ChangeLog.Source.IMPORT, entries=entries, import_run_id=42)
    assert len(rows) == 2
    assert sorted(ChangeLog.objects.values_list("object_id", "site_id", "import_run_id", "actor_label")) == sorted(
        (p.pk, p.home_site_id, 42, "system") for p in people
    )


def test_the_sql_form_writes_one_entry_per_selected_row(world):
    json = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    rows_sql = (
        f"SELECT p.id AS object_id, p.given_name || ' ' || p.family_name AS object_label, "
        f"p.home_site_id AS site_id, {json}('status', p.status) AS before, "
        f"{json}('status', %(new_status)s) AS after FROM people_person p WHERE p.home_site_id = %(site)s"
    )
    sql, params = change_log_insert_sql(
        rows_sql=rows_sql, model=Person, actor=world.district_admin, source=ChangeLog.Source.IMPORT, import_run_id=7
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {**params, "new_status": "withdrawn", "site": world.site_a.pk})
    [entry] = change_log_for(obj=world.person_a, user=world.site_tech)
    assert (entry.before, entry.after, entry.object_label) == (
        {"status": "active"},
        {"status": "withdrawn"},
        "Ana Ruiz",
    )
    assert (entry.import_run_id, entry.source, entry.actor_id) == (7, "import", world.district_admin.pk)
    assert entry.change_rows() == [("Status", "Active", "Withdrawn")]


def test_stored_values():
    assert json_value(Decimal("5")) == "5.00"
    assert json_value(Decimal("2.345")) == "2.35"
    assert json_value(datetime.date(2026, 8, 1)) == "2026-08-01"
    moment = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(hours=-6)))
    assert json_value(moment) == "2026-01-02T09:04:00+00:00"
    assert json_value(True) is True


def test_changes_compares_stored_forms(world):
    model = world.device_a.model
    assert changes(instance=model, new_values={"replacement_cost": Decimal("289")}) == ({}, {})
    assert changes(instance=model, new_values={"replacement_cost": Decimal("300")}) == (
        {"replacement_cost": "289.00"},
        {"replacement_cost": "300.00"},
    )


def test_change_log_record_skips_an_empty_change(world):
    assert (
        change_log_record(
            actor=world.district_admin, source="web", obj=world.site_a, action=A.CHANGED, before={}, after={}
        )
        is None
    )


def test_removing_a_user_in_the_admin_revokes_their_roles_through_the_service(world, admin_client):
    url = reverse("admin:auth_user_delete", args=[world.site_tech.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    [entry] = ChangeLog.objects.all()
    assert (entry.action, entry.source, entry.before, entry.note) == (
        A.DELETED,
        "admin",
        {"role": "site_technician", "site": "Alder Elementary"},
        "The user was removed.",
    )
    assert entry.object_label == "site-tech — Site technician (A)"
