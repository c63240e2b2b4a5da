"""The simulated-clock soak of the access-code engine (``tests/test_soak.py``)."""
