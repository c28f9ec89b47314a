"""Money fields refuse negative amounts next to the field, in every model form (the Django
admin's too), before the database's check constraint would."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms import modelform_factory
from django.urls import reverse

from inventory.models import Device, DeviceModel

pytestmark = pytest.mark.django_db

NEGATIVE = "Ensure this value is greater than or equal to 0."


@pytest.fixture
def admin_client(world, client_for):
    world.district_admin.is_staff = world.district_admin.is_superuser = True
    world.district_admin.save()
    return client_for(world.district_admin)


def test_a_negative_replacement_cost_in_the_admin_is_a_field_error(world, admin_client):
    """It used to say 'Constraint "devicemodel_replacement_cost_nonnegative" is violated.'"""
    model = world.device_a.model
    url = reverse("admin:inventory_devicemodel_change", args=[model.pk])
    data = {
        "manufacturer": str(model.manufacturer_id),
        "name": model.name,
        "model_number": model.model_number,
        "category": model.category,
        "replacement_cost": "-5.00",
        "service_life_months": "48",
        "auto_update_expiration": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"replacement_cost": [NEGATIVE]}
    assert "is violated" not in response.content.decode()
    model.refresh_from_db()
    assert model.replacement_cost >= 0


@pytest.mark.parametrize(("model", "field"), [(DeviceModel, "replacement_cost"), (Device, "purchase_cost")])
def test_money_fields_refuse_negative_amounts_on_the_field(world, model, field):
    instance = world.device_a if model is Device else world.device_a.model
    form_class = modelform_factory(model, fields=[field])
    form = form_class(data={field: "-0.01"}, instance=instance)
    assert form.errors == {field: [NEGATIVE]}
    assert form_class(data={field: "0.00"}, instance=instance).is_valid()
    assert getattr(instance, field) != Decimal("-0.01")
