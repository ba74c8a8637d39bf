"""Shared test configuration: hypothesis profiles.

Select with the environment variable ``HYPOTHESIS_PROFILE``: ``ci`` (derandomised, 10
examples) or ``dev`` (the default, 20 examples).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=10, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Hypothesis imports its failure-patch writer (libcst) lazily while reporting a failing
# example; under filterwarnings=error a DeprecationWarning from that third-party import
# turns every hypothesis failure into a pytest INTERNALERROR. Import it once up front.
import warnings  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except Exception:  # pragma: no cover - libcst missing or broken: nothing to pre-import
        pass
