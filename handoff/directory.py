"""The referral directory (config/referrals.yaml) and canned replies (config/canned_replies.yaml)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lotsa.settings import ConfigError, default_config_dir
from triage.vocabulary import GROUPS, NEEDS

ID = r"^[a-z0-9_-]{1,40}$"
log = logging.getLogger(__name__)


class DirectoryConfigError(ConfigError):
    """A directory file is invalid; the message names the file and the key."""


class Referral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=ID)
    name: dict[str, str] = Field(min_length=1)
    text: dict[str, str] = Field(min_length=1)
    phone: str | None = None
    url: str | None = None
    needs: list[str] = []
    groups: list[str] = []

    @model_validator(mode="after")
    def _vocabulary(self) -> Referral:
        bad = [n for n in self.needs if n not in NEEDS] + [g for g in self.groups if g not in GROUPS]
        if bad:
            raise ValueError(f"{bad} are not in the triage vocabulary")
        return self

    def localised(self, lang: str) -> dict[str, Any]:
        def pick(values: dict[str, str]) -> str:
            return values.get(lang) or values.get("en") or next(iter(values.values()))
        return {"id": self.id, "name": pick(self.name), "text": pick(self.text), "phone": self.phone,
                "url": self.url, "needs": self.needs, "groups": self.groups}


class CannedReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=ID)
    title: dict[str, str] = Field(min_length=1)
    text: dict[str, str] = Field(min_length=1)


class ReferralsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    referrals: list[Referral] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ReferralsFile:
        _unique_ids([r.id for r in self.referrals])
        return self


class CannedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    canned_replies: list[CannedReply] = []

    @model_validator(mode="after")
    def _unique(self) -> CannedFile:
        _unique_ids([c.id for c in self.canned_replies])
        return self


def _unique_ids(ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"ids used twice: {dupes}")


def _load(path: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as e:
        raise DirectoryConfigError(f"{path}: {e}") from None
    except ValidationError as e:
        raise DirectoryConfigError("; ".join(
            f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
            for err in e.errors())) from None


def _in_or_default(config_dir: Path, name: str) -> Path:
    path = config_dir / name
    if path.exists():
        return path
    log.warning("configuration file missing: using the packaged default", extra={"file": name})
    return default_config_dir() / name


class Directory:
    """Referrals and canned replies, as the console shows them."""

    def __init__(self, referrals: list[Referral], canned: list[CannedReply]) -> None:
        self.referrals = {r.id: r for r in referrals}
        self.canned = canned

    @classmethod
    def load(cls, config_dir: Path) -> Directory:
        """An admin's folder without these files (made before they existed) gets the packaged ones."""
        referrals = _load(_in_or_default(config_dir, "referrals.yaml"), ReferralsFile).referrals
        canned = _load(_in_or_default(config_dir, "canned_replies.yaml"), CannedFile).canned_replies
        return cls(referrals, canned)

    def referral_list(self, lang: str) -> list[dict[str, Any]]:
        return [r.localised(lang) for r in self.referrals.values()]

    def canned_list(self, lang: str) -> list[dict[str, str]]:
        def pick(values: dict[str, str]) -> str:
            return values.get(lang) or values.get("en") or next(iter(values.values()))
        return [{"id": c.id, "title": pick(c.title), "text": pick(c.text)} for c in self.canned]
