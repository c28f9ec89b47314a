"""The demo district (Maple Valley Unified School District), generated deterministically.

* ``python manage.py seed_demo [--scale tiny|tiny_history|small|district|metro] [--seed N] [--if-empty]``
* :func:`demo.generator.generate` — the same, from code; :func:`demo.generator.demo_is_seeded`.
* :func:`demo.testing.seed_tiny` — a small, fixed world for tests (2 sites, 60 students, 80 devices).
* :func:`demo.checks.invariant_violations` — the custody rules as queries, for any database.
* :data:`demo.scales.SCALES` — the sizes, reusable by benchmarks.

Logins: ``district-admin``, ``district-tech``, ``site-tech`` and ``principal`` (both at the
first site, the high school), ``auditor``; password ``demo``.
"""
