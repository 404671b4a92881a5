"""The phone line's text-to-speech voice per language (`config/voice.yaml`), validated at start."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lotsa.settings import ConfigError, default_config_dir

log = logging.getLogger(__name__)
FILE = "voice.yaml"


class Voice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    language: str = Field(pattern=r"^[a-z]{2,3}-[A-Z]{2}$")
    """The <Say> language attribute (a locale: sv-SE)."""
    voice: str = Field(pattern=r"^(Polly|Google)\.[A-Za-z0-9-]{2,40}$")


class VoiceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    voices: dict[str, Voice] = Field(min_length=1)


@dataclass(frozen=True)
class Voices:
    by_language: dict[str, Voice]
    where: str = FILE

    @classmethod
    def load(cls, config_dir: Path) -> Voices:
        path = config_dir / FILE
        if not path.is_file():
            log.warning("configuration file missing: using the packaged voices", extra={"file": FILE})
            path = default_config_dir() / FILE
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return cls(VoiceFile.model_validate(data).voices, str(path))
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{path}: cannot be read: {e}") from None
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
            raise ConfigError(f"{path}: {problems}") from None

    def require(self, languages: Iterable[str], why: str) -> None:
        """Every language the line may speak has a voice; else the start stops naming the file."""
        for lang in sorted(set(languages)):
            if lang not in self.by_language:
                raise ConfigError(f"{self.where}: voices.{lang}: missing ({why} speaks {lang!r})")

    def __getitem__(self, lang: str) -> Voice:
        return self.by_language[lang]
