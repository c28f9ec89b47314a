"""The partial unique index refuses a second open assignment, whatever the code does."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from custody.models import Assignment

pytestmark = pytest.mark.django_db


def _open(world, person):
    return Assignment.objects.create(
        device=world.device_a, person=person, holder_label=person.label, checked_out_at=timezone.now()
    )


def test_database_refuses_a_second_open_assignment_for_one_device(world):
    _open(world, world.person_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        _open(world, world.person_b)
    assert Assignment.objects.filter(device=world.device_a).count() == 1


def test_closed_assignments_do_not_count(world):
    first = _open(world, world.person_a)
    Assignment.objects.filter(pk=first.pk).update(checked_in_at=timezone.now())
    _open(world, world.person_b)
    assert Assignment.objects.filter(device=world.device_a, checked_in_at__isnull=True).count() == 1


def test_check_in_before_check_out_refused_by_database(world):
    a = _open(world, world.person_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=a.pk).update(checked_in_at=a.checked_out_at - timezone.timedelta(hours=1))
