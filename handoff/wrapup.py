"""The wrap-up form a counsellor fills in before closing: outcome, referrals given, needs confirmed, and
triage confirmed or corrected (group and flags: prefilled with what triage found, so one click when it
was right). The review goes only to the anonymous statistics (triage agreement per group and flag)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lotsa.errors import Refused
from triage.vocabulary import FLAGS, GROUPS, NEEDS

OUTCOMES = ("supported", "referred", "information", "emergency", "left", "not_relevant")
"""supported: a support talk; referred: sent onward; information: questions answered; emergency:
emergency services or social services alerted; left: the person left; not_relevant: test, abuse."""


class WrapUpForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    outcome: str
    referrals: list[str] = Field(default=[], max_length=30)
    needs: list[str] = Field(default=[], max_length=len(NEEDS))
    group: str | None = None
    """The group the counsellor confirms or corrects triage to; None: not reviewed."""
    flags: list[str] | None = Field(default=None, max_length=len(FLAGS))


def _invalid(message: str) -> Refused:
    return Refused("wrapup_required", message, 400)


def parse_wrapup(body: Any, referral_ids: set[str]) -> WrapUpForm:
    """Validate a wrap-up; the error names the field that is wrong."""
    if not isinstance(body, dict):
        raise _invalid("wrapup: a JSON object with outcome, referrals and needs is required")
    try:
        form = WrapUpForm.model_validate(body)
    except ValidationError as e:
        err = e.errors()[0]
        raise _invalid(f"wrapup.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    if form.outcome not in OUTCOMES:
        raise _invalid(f"wrapup.outcome: one of {', '.join(OUTCOMES)}")
    unknown = [r for r in form.referrals if r not in referral_ids]
    if unknown:
        raise _invalid(f"wrapup.referrals: unknown {unknown}")
    bad = [n for n in form.needs if n not in NEEDS]
    if bad:
        raise _invalid(f"wrapup.needs: unknown {bad}")
    if form.group is not None and form.group not in GROUPS:
        raise _invalid(f"wrapup.group: one of {', '.join(GROUPS)}")
    wrong = [f for f in form.flags or [] if f not in FLAGS]
    if wrong:
        raise _invalid(f"wrapup.flags: unknown {wrong}")
    return WrapUpForm(outcome=form.outcome, referrals=sorted(set(form.referrals)), needs=sorted(set(form.needs)),
                      group=form.group, flags=None if form.flags is None else sorted(set(form.flags)))
