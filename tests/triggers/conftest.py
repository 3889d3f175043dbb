"""The triggers tests' fixture: a collector with triggers on, delivering fast to private addresses."""

from tests.support.triggers import hooked  # noqa: F401  (a fixture)
