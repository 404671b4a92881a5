"""The webhook's signature check computes the HMAC once for the configured URL, and accepts
exactly what the twilio library's `validate` accepts."""
from __future__ import annotations

from twilio.request_validator import RequestValidator

from bot.twilio_webhook import signed

TOKEN = "12345678901234567890123456789012"
URL = "https://lotsa.example.org/hooks/twilio/sms"
PARAMS = {"MessageSid": "SM1", "From": "+46701234567", "Body": "hej"}


def test_a_signature_for_the_configured_url_is_accepted() -> None:
    validator = RequestValidator(TOKEN)
    assert signed(validator, URL, PARAMS, validator.compute_signature(URL, PARAMS))


def test_a_signature_for_the_url_with_its_port_is_accepted_as_twilio_s_validate_does() -> None:
    validator = RequestValidator(TOKEN)
    with_port = validator.compute_signature("https://lotsa.example.org:443/hooks/twilio/sms", PARAMS)
    assert validator.validate(URL, PARAMS, with_port)
    assert signed(validator, URL, PARAMS, with_port)


def test_a_wrong_signature_or_changed_parameters_are_refused() -> None:
    validator = RequestValidator(TOKEN)
    good = validator.compute_signature(URL, PARAMS)
    assert not signed(validator, URL, PARAMS, good[:-2] + "xx")
    assert not signed(validator, URL, {**PARAMS, "Body": "hej då"}, good)
    assert not signed(RequestValidator("0" * 32), URL, PARAMS, good)
    assert not signed(validator, URL, PARAMS, "åäö")
