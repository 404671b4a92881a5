"""Lotsa's benchmarks, kept out of the service's own packages.

- `load`: `lotsa bench`, message delivery times under load against a real `lotsa serve`.
- `triage_speed`: `lotsa triage bench`, classify speed on one core and model load time.
- `outbox_relay`, `triage_crossval`: scripts run by hand (see each one's docstring).

`lotsa/cli.py` imports these only inside the command functions that run them.
"""
