"""Lotsa's testing toolkit: the rigs the tests and benchmarks drive the service with. The service
itself never imports it (tests/test_layering.py checks).

- `server`: settings, databases and the real application on a free port with an in-memory channel.
- `pytest_plugin`: the fixtures built on them (loaded by tests/conftest.py).
- `every_channel`: the server with Telegram and Twilio switched on against the fake providers.
- `fake_providers`: fake Telegram Bot API and Twilio REST servers on 127.0.0.1.
- `clients`: Python clients for the web-chat and console protocols.
- `memory`: an in-memory channel that writes as a person would.
- `browser`: headless chromium through Playwright.
"""
