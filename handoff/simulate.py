"""`lotsa simulate`: a day of contacts against N counsellors, for coordinators planning staffing.

Contacts arrive at random (Poisson) at the rate of each hour of the plan, with a risk, a group and a
language drawn from the plan's mix; each is routed to its queue by the service's own routing
(`triage.routing.pick_queue` over the configured queues, acute risk to the acute queue) and waits
in the line the console's "take next" reads: surge newcomers last, then risk (acute first), then
handed back first, then arrival (`line_key`, the order of `lotsa.conversations.waiting_order`,
pinned to the real take-next by tests/test_simulate.py). A counsellor with room for one more chat
takes the first contact they may take (`handoff.skills.skilled_for`: their languages and queues).
A chat lasts an exponentially drawn time; a person not answered within their patience (drawn
likewise) gives up. The clock is simulated: a discrete-event loop, no sleeping.

Beside it, Erlang C for the same load (each hour's rate, the same counsellors and chat length):
what the textbook predicts with no priorities and nobody giving up.
"""
from __future__ import annotations

import heapq
import itertools
import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handoff.erlang import Load, mixture_p_wait_longer, mixture_quantile
from handoff.queues import QueueDirectory
from handoff.skills import skilled_for
from lotsa.models import LINE_NORMAL, LINE_SURGE, RISK_RANK, Role, StaffUser
from triage.result import TriageResult
from triage.routing import QueueRule, pick_queue
from triage.vocabulary import GROUPS, RISKS

HOUR = 3600.0
FLAGS_FOR_RISK = {"acute": ("immediate_danger", "suicide", "minor"), "elevated": ("trafficking",), "routine": ()}
"""The flags a contact of each risk level is given (one of them, at random), so that routing
decides from flags as it does for real."""


class PlanError(ValueError):
    """The plan is invalid; the message names the file and the key."""


class StaffPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    count: int = Field(ge=0)
    languages: list[str] = []
    """Languages taken (empty: any), as `lotsa user add --languages`."""
    queues: list[str] = []
    max_chats: int = Field(default=1, ge=1)
    """Chats at once: each is a server for Erlang C, as if a counsellor's chats did not slow each other."""


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    per_hour: list[float] = Field(min_length=24, max_length=24)
    """Contacts arriving in each hour of the day, 00–01 first (a mean: the simulation draws around it)."""
    risk_mix: dict[str, float]
    group_mix: dict[str, float] = {"other": 1.0}
    language_mix: dict[str, float] = {"sv": 1.0}
    chat_minutes: float = Field(gt=0)
    """A chat's mean length, counsellor's wrap-up included."""
    patience_minutes: float = Field(default=0, ge=0)
    """How long people wait on average before they give up (0: nobody gives up)."""
    staff: list[StaffPlan] = Field(min_length=1)
    days: int = Field(default=1, ge=1, le=3650)
    target_seconds: float = Field(default=20, ge=0)
    seed: int = 1

    @field_validator("per_hour", mode="before")
    @classmethod
    def _every_hour(cls, value: object) -> object:
        """One number: the same every hour."""
        return [value] * 24 if isinstance(value, int | float) else value

    @field_validator("per_hour")
    @classmethod
    def _not_negative(cls, value: list[float]) -> list[float]:
        if any(rate < 0 for rate in value):
            raise ValueError("arrivals per hour cannot be negative")
        return value

    @field_validator("risk_mix", "group_mix", "language_mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        if any(share < 0 for share in value.values()) or sum(value.values()) <= 0:
            raise ValueError("shares are zero or more, and not all zero")
        return value

    @field_validator("risk_mix")
    @classmethod
    def _risks(cls, value: dict[str, float]) -> dict[str, float]:
        if unknown := set(value) - set(RISKS):
            raise ValueError(f"not a risk level: {sorted(unknown)} (acute, elevated, routine)")
        return value

    @field_validator("group_mix")
    @classmethod
    def _groups(cls, value: dict[str, float]) -> dict[str, float]:
        if unknown := set(value) - set(GROUPS):
            raise ValueError(f"not a group: {sorted(unknown)} ({', '.join(GROUPS)})")
        return value

    @property
    def servers(self) -> int:
        return sum(s.count * s.max_chats for s in self.staff)

    @property
    def pooled(self) -> bool:
        """Everyone can take everyone: the case Erlang C describes."""
        return all(not s.languages and not s.queues for s in self.staff if s.count)


def load_plan(path: Path, overrides: Mapping[str, Any] | None = None) -> Plan:
    """The plan in `path` (YAML), with `overrides` (command-line flags) on top."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise PlanError(f"{path}: {e}") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path}: a mapping of settings is expected")
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return Plan(**data)
    except ValidationError as e:
        where = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise PlanError(f"{path}: {where}") from None


def line_key(risk_rank: int, line_rank: int, queued_at: float, ident: int) -> tuple[bool, int, int, float, int]:
    """A contact's place in line, as `lotsa.conversations.waiting_order` sorts it."""
    return (line_rank >= LINE_SURGE, risk_rank, line_rank, queued_at, ident)


@dataclass(eq=False)
class Contact:
    ident: int
    risk: str
    queue: str
    language: str
    arrived: float
    chat_seconds: float
    patience_seconds: float
    line_rank: int = LINE_NORMAL
    taken_at: float | None = None
    gave_up: bool = False

    @property
    def key(self) -> tuple[bool, int, int, float, int]:
        return line_key(RISK_RANK[self.risk], self.line_rank, self.arrived, self.ident)


class Line:
    """The contacts waiting, in one heap per (queue, language): a counsellor takes the first of the
    heads they are skilled for."""

    def __init__(self) -> None:
        self._heaps: dict[tuple[str, str], list[tuple[tuple[bool, int, int, float, int], Contact]]] = {}

    def add(self, contact: Contact) -> None:
        heapq.heappush(self._heaps.setdefault((contact.queue, contact.language), []), (contact.key, contact))

    def take(self, staff: StaffUser) -> Contact | None:
        best: list[tuple[tuple[bool, int, int, float, int], Contact]] | None = None
        for (queue, language), heap in self._heaps.items():
            while heap and heap[0][1].gave_up:
                heapq.heappop(heap)
            if heap and skilled_for(staff, queue, language) and (best is None or heap[0][0] < best[0][0]):
                best = heap
        return heapq.heappop(best)[1] if best else None


@dataclass(eq=False)
class Counsellor:
    staff: StaffUser
    index: int
    active: int = 0
    free_since: float = 0.0

    @property
    def has_room(self) -> bool:
        return self.active < self.staff.max_chats


def counsellors(plan: Plan) -> list[Counsellor]:
    people: list[Counsellor] = []
    for group in plan.staff:
        for _ in range(group.count):
            staff = StaffUser(name=f"c{len(people) + 1}", role=Role.COUNSELLOR, languages=list(group.languages),
                              queues=list(group.queues), max_chats=group.max_chats)
            people.append(Counsellor(staff, len(people)))
    return people


def _draw(rng: random.Random, mix: Mapping[str, float]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def arrivals(plan: Plan, rules: Sequence[QueueRule], rng: random.Random) -> Iterator[Contact]:
    """Every contact of the simulated days, in order: each hour a Poisson stream at its rate."""
    ident = itertools.count(1)
    for day, hour in itertools.product(range(plan.days), range(24)):
        rate, start = plan.per_hour[hour] / HOUR, (day * 24 + hour) * HOUR
        t = start
        while rate > 0:
            t += rng.expovariate(rate)
            if t >= start + HOUR:
                break
            risk = _draw(rng, plan.risk_mix)
            flags = (rng.choice(FLAGS_FOR_RISK[risk]),) if FLAGS_FOR_RISK[risk] else ()
            result = TriageResult(group=_draw(rng, plan.group_mix), flags=flags,
                                  language=_draw(rng, plan.language_mix))
            patience = rng.expovariate(1 / (plan.patience_minutes * 60)) if plan.patience_minutes else math.inf
            yield Contact(next(ident), result.risk, pick_queue(result, rules), result.language, t,
                          rng.expovariate(1 / (plan.chat_minutes * 60)), patience)


@dataclass
class Day:
    """The simulation's event loop and what it saw."""

    plan: Plan
    people: list[Counsellor]
    line: Line = field(default_factory=Line)
    events: list[tuple[float, int, str, Any]] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def at(self, when: float, kind: str, what: Any) -> None:
        heapq.heappush(self.events, (when, next(self._seq), kind, what))

    def run(self, stream: Iterator[Contact]) -> None:
        upcoming = next(stream, None)
        while upcoming is not None or self.events:
            if upcoming is not None and (not self.events or upcoming.arrived <= self.events[0][0]):
                self.arrive(upcoming)
                upcoming = next(stream, None)
                continue
            when, _, kind, what = heapq.heappop(self.events)
            if kind == "finish":
                self.finish(what, when)
            elif not what.gave_up and what.taken_at is None:   # "give up", unless taken meanwhile
                what.gave_up = True

    def arrive(self, contact: Contact) -> None:
        self.contacts.append(contact)
        free = [c for c in self.people if c.has_room and skilled_for(c.staff, contact.queue, contact.language)]
        if free:
            self.start(min(free, key=lambda c: (c.active, c.free_since, c.index)), contact, contact.arrived)
            return
        self.line.add(contact)
        if math.isfinite(contact.patience_seconds):
            self.at(contact.arrived + contact.patience_seconds, "give_up", contact)

    def start(self, counsellor: Counsellor, contact: Contact, now: float) -> None:
        contact.taken_at = now
        counsellor.active += 1
        self.at(now + contact.chat_seconds, "finish", counsellor)

    def finish(self, counsellor: Counsellor, now: float) -> None:
        counsellor.active -= 1
        counsellor.free_since = now
        following = self.line.take(counsellor.staff)
        if following is not None:
            self.start(counsellor, following, now)


def simulate(plan: Plan, rules: Sequence[QueueRule]) -> list[Contact]:
    """Every contact of the plan's days, with when each was taken (or that they gave up)."""
    day = Day(plan, counsellors(plan))
    day.run(arrivals(plan, rules, random.Random(plan.seed)))
    return day.contacts


def _quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank: the smallest value that at least a share `q` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def figures(contacts: Sequence[Contact], target: float) -> dict[str, Any]:
    """Contacts, answered, gave up, the share that found nobody free (waited, or gave up: Erlang C's
    P(wait)), wait p50/p90 of those answered (seconds; waits of 0 included) and the share answered
    within `target` seconds."""
    waits = [c.taken_at - c.arrived for c in contacts if c.taken_at is not None]
    total = len(contacts)
    at_once = sum(w == 0 for w in waits)
    return {
        "contacts": total, "answered": len(waits), "gave_up": sum(c.gave_up for c in contacts),
        "waited": round(1 - at_once / total, 4) if total else None,
        "wait_p50_s": _quantile(waits, 0.5), "wait_p90_s": _quantile(waits, 0.9),
        "within_target": round(sum(w <= target for w in waits) / total, 4) if total else None,
    }


def erlang_figures(plan: Plan) -> dict[str, Any]:
    """Erlang C for the plan's load: each hour's rate, weighted by its share of the arrivals."""
    total = sum(plan.per_hour)
    loads = [(rate / total, Load(rate / HOUR, plan.chat_minutes * 60, plan.servers))
             for rate in plan.per_hour if rate > 0]
    if not loads:
        return {"waited": None, "wait_p50_s": None, "wait_p90_s": None, "within_target": None,
                "overloaded_hours": 0}
    return {
        "waited": round(mixture_p_wait_longer(loads, 0.0), 4),
        "wait_p50_s": mixture_quantile(loads, 0.5), "wait_p90_s": mixture_quantile(loads, 0.9),
        "within_target": round(1 - mixture_p_wait_longer(loads, plan.target_seconds), 4),
        "overloaded_hours": sum(load.overloaded for _, load in loads),
    }


def report(plan: Plan, rules: Sequence[QueueRule]) -> dict[str, Any]:
    contacts = simulate(plan, rules)
    return {
        "plan": {"days": plan.days, "contacts_per_day": sum(plan.per_hour), "counsellors": sum(s.count for s in plan.staff),
                 "servers": plan.servers, "chat_minutes": plan.chat_minutes,
                 "patience_minutes": plan.patience_minutes or None, "target_seconds": plan.target_seconds,
                 "seed": plan.seed, "pooled": plan.pooled},
        "by_risk": {risk: figures([c for c in contacts if c.risk == risk], plan.target_seconds) for risk in RISKS},
        "all": figures(contacts, plan.target_seconds),
        "erlang_c": erlang_figures(plan),
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if math.isinf(seconds):
        return "no end"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def render(result: Mapping[str, Any]) -> str:
    """The report as the coordinator reads it."""
    plan, target = result["plan"], result["plan"]["target_seconds"]
    patience = f"{plan['patience_minutes']:g} min" if plan["patience_minutes"] else "endless"
    lines = [f"{plan['days']} day(s), {plan['contacts_per_day']:g} contacts a day on average, "
             f"{plan['counsellors']} counsellors ({plan['servers']} chats at once), chats {plan['chat_minutes']:g} min "
             f"on average, patience {patience}, seed {plan['seed']}",
             "",
             f"{'':10}{'contacts':>9}{'answered':>9}{'gave up':>9}{'waited':>8}{'wait p50':>10}{'wait p90':>10}"
             f"{f'within {target:g} s':>13}"]
    rows = [*result["by_risk"].items(), ("all", result["all"])]
    for name, row in rows:
        lines.append(f"{name:10}{row['contacts']:>9}{row['answered']:>9}{row['gave_up']:>9}{_share(row['waited']):>8}"
                     f"{_duration(row['wait_p50_s']):>10}{_duration(row['wait_p90_s']):>10}"
                     f"{_share(row['within_target']):>13}")
    erlang = result["erlang_c"]
    lines.append(f"{'Erlang C':10}{'':>9}{'':>9}{'':>9}{_share(erlang['waited']):>8}"
                 f"{_duration(erlang['wait_p50_s']):>10}{_duration(erlang['wait_p90_s']):>10}"
                 f"{_share(erlang['within_target']):>13}")
    lines.append("")
    lines.append("Erlang C: the same hourly load with no priorities and nobody giving up (its 'waited' is "
                 "P(wait); waits over every contact).")
    if erlang.get("overloaded_hours"):
        lines.append(f"In {erlang['overloaded_hours']} hour(s) more work arrives than the counsellors can do: "
                     "the line grows until the hour ends.")
    if not plan["pooled"]:
        lines.append("Counsellors take only some languages or queues: Erlang C (one pool) is then too hopeful.")
    return "\n".join(lines)


def parse_mix(text: str, flag: str) -> dict[str, float]:
    """`acute=0.05,elevated=0.1,routine=0.85`."""
    mix = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        try:
            mix[name.strip()] = float(share)
        except ValueError:
            raise PlanError(f"{flag}: {part.strip()!r} is not NAME=SHARE") from None
    return mix


def parse_rates(text: str) -> float | list[float]:
    """One number (every hour) or 24, comma-separated."""
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise PlanError(f"--per-hour: {text!r}: one number, or 24 separated by commas") from None
    return rates[0] if len(rates) == 1 else rates


def plan_from(path: Path, flags: Mapping[str, Any]) -> Plan:
    """The plan in `path` with the values given as flags on top. `counsellors` (that many who take
    anyone) replaces the plan's staff; `max_chats` sets every counsellor's chats at once."""
    overrides = {k: v for k, v in flags.items() if k not in ("counsellors", "max_chats", "per_hour", "risk_mix")}
    if flags.get("per_hour") is not None:
        overrides["per_hour"] = parse_rates(flags["per_hour"])
    if flags.get("risk_mix") is not None:
        overrides["risk_mix"] = parse_mix(flags["risk_mix"], "--risk-mix")
    if flags.get("counsellors") is not None:
        overrides["staff"] = [{"count": flags["counsellors"]}]
    plan = load_plan(path, overrides)
    if flags.get("max_chats") is None:
        return plan
    staff = [{**group.model_dump(), "max_chats": flags["max_chats"]} for group in plan.staff]
    try:
        return Plan(**{**plan.model_dump(), "staff": staff})
    except ValidationError as e:
        raise PlanError(f"--chats-per-counsellor: {e.errors()[0]['msg']}") from None


def run(config_dir: Path, plan_path: Path | None, flags: Mapping[str, Any], as_json: bool) -> int:
    """`lotsa simulate`: prints the report (and, with `as_json`, one JSON object last)."""
    path = plan_path or config_dir / "simulation.yaml"
    plan = plan_from(path, flags)
    result = report(plan, QueueDirectory.load(config_dir / "queues.yaml").rules())
    print(render(result))
    if as_json:
        print(json.dumps(_finite(result)))
    return 0


def _finite(value: Any) -> Any:
    """JSON has no infinity: a wait without end is null (the text report says "no end")."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
