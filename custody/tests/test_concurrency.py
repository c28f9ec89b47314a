"""Two simultaneous check-outs of one device: exactly one wins, the other gets a clear conflict.

Runs on both databases in CI. On PostgreSQL the second transaction waits on the
device's row lock (SELECT … FOR UPDATE); on SQLite on the database write lock.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from core.errors import ConflictError
from core.testing import PersonFactory
from custody.models import Assignment
from custody.services import device_check_in, device_check_out
from inventory.models import Device, DeviceEvent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rounds", [5])
def test_two_threads_checking_out_one_device(world, rounds):
    other = PersonFactory(home_site=world.site_a, given_name="Cy", family_name="Lee")
    for _ in range(rounds):
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def attempt(person, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait(timeout=10)
                device = Device.objects.get(pk=world.device_a.pk)
                outcomes.append(device_check_out(device=device, person=person, actor=world.site_tech))
            except Exception as error:  # surfaced by the assertions below
                outcomes.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(p,)) for p in (world.person_a, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

        errors = [o for o in outcomes if isinstance(o, Exception)]
        wins = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(wins) == 1, outcomes
        assert len(errors) == 1 and isinstance(errors[0], ConflictError), errors
        assert "already checked out" in str(errors[0]) or "just checked out" in str(errors[0])
        assert Assignment.objects.filter(device=world.device_a, checked_in_at__isnull=True).count() == 1
        device_check_in(device=Device.objects.get(pk=world.device_a.pk), actor=world.site_tech)

    assert DeviceEvent.objects.filter(device=world.device_a, kind="checked_out").count() == rounds
