"""The admin area's navigation: one line per section. A section names its page, the catalogue keys of
its title and its one-line description (config/texts, any section of the catalogue), and who sees it.

A section's page joins the area by rendering a template that extends `admin_base.html` through
`lotsa.admin.pages.render` (after `lotsa.admin.pages.staff_page` for the session and role check)."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lotsa.models import Role

ADMINS = (Role.ADMIN,)
READERS = (Role.SUPERVISOR, Role.ADMIN)
"""Supervisors may look at what is configured (read-only); only admins change it."""


@dataclass(frozen=True)
class Section:
    path: str
    title: str
    about: str
    roles: Collection[str] = READERS


SECTIONS: list[Section] = [
    Section("/admin/documents/triage_script", "admin.nav.triage_script", "admin.nav.triage_script_about"),
    Section("/admin/documents/phrases", "admin.nav.phrases", "admin.nav.phrases_about"),
    Section("/admin/queues", "admin.nav.queues", "admin.nav.queues_about"),
    Section("/admin/documents/texts", "admin.nav.texts", "admin.nav.texts_about"),
    Section("/admin/documents/canned_replies/canned_replies", "admin.nav.canned_replies",
            "admin.nav.canned_replies_about"),
    Section("/admin/documents/referrals/referrals", "admin.nav.referrals", "admin.nav.referrals_about"),
    Section("/admin/staff", "staff_admin.title", "staff_admin.nav_about"),
    Section("/admin/statistics", "statistics.title", "statistics.nav_about"),
    Section("/admin/audit", "admin.nav.audit", "admin.nav.audit_about", ADMINS),
]


def visible(role: str) -> list[Section]:
    return [section for section in SECTIONS if role in section.roles]
