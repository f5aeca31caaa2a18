"""Shared test set-up: Hypothesis profiles and small builders."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "ci" runs enough examples to mean something within CI's time budget; "dev" is quick.
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# pytest's own fixture for running pytest on generated test files (the plugin's tests).
pytest_plugins = ["pytester"]
