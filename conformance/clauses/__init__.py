"""The spec: one test_<area>_<topic>.py per contract topic, each test one clause, and beside them
the scenario helpers of each area (``_models``, ``_expected``, ``_logging``, ...)."""
