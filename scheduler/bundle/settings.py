"""``network.toml``: the network's name, time zone, rules, weights and sections.

Every key is checked and a wrong one is named with its line (``network.toml:7:
rules.max_week_hours: ...``).  The ``[enhanced_access]`` and ``[jobs]``
sections have parsers of their own below."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.bundle.cells import (
    DEFAULT_TIMEZONE,
    ID_PATTERN,
    CellError,
    control_character,
    count,
    one_of,
    parse_number,
    parse_time,
    parse_weekdays,
    weekday,
)
from scheduler.bundle.rows import MAX_DUTY_HOURS
from scheduler.bundle.tables import (
    WHOLE_FILE,
    Setting,
)
from scheduler.domain import (
    STAFF,
    AccessWindow,
    Bundle,
    EnhancedAccess,
    Problem,
    Rules,
    Weights,
)
from scheduler.network_settings import (
    BOOKING_MODES,
    JOB_KINDS,
    SWAP_APPROVALS,
    AvailabilitySettings,
    JobSettings,
)

# -- network settings ------------------------------------------------------------------------


@dataclass
class Network:
    """The network-wide settings of a bundle."""

    name: str
    timezone: str = DEFAULT_TIMEZONE
    rules: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, Any] = field(default_factory=dict)
    enhanced_access: dict[str, float] = field(default_factory=dict)
    access: dict[str, Any] = field(default_factory=dict)  # [enhanced_access] beyond numbers
    access_seen: bool = False  # the bundle has an [enhanced_access] section
    bank_holidays_closed: bool = True
    jobs: dict[str, Any] = field(default_factory=dict)  # [jobs]: JobSettings fields
    open_sessions: dict[str, Any] = field(default_factory=dict)  # [open_sessions]
    swaps: dict[str, Any] = field(default_factory=dict)  # [swaps]
    availability: dict[str, Any] = field(default_factory=dict)  # [availability]


def setting_number(value: object) -> float:
    """A numeric setting, from TOML (a number) or a workbook cell (text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CellError(f"{value!r} is not a number")
    return parse_number(str(value))


def positive_setting(value: object) -> float:
    """A rule limit: zero or less would forbid all work."""
    number = setting_number(value)
    if number <= 0:
        raise CellError(f"{value} must be above 0")
    return number


def whole_setting(value: object) -> int:
    """A rule that counts sessions."""
    number = positive_setting(value)
    if not number.is_integer():
        raise CellError(f"{value} must be a whole number of sessions, e.g. 2")
    return int(number)


def weight_setting(value: object) -> float:
    """A soft-goal weight: zero switches the goal off, below zero would reward breaking it."""
    number = setting_number(value)
    if number < 0:
        raise CellError(f"{value} is negative; write 0 or more")
    return number


def text_setting(value: object) -> str:
    """A text setting such as the network's name."""
    if not isinstance(value, str) or not value.strip():
        raise CellError(f'{value!r} must be non-blank text in quotes, e.g. "Riverside PCN"')
    return value.strip()


def timezone_setting(value: object) -> str:
    """A time zone the standard library knows, as every time is wall-clock in it."""
    name = text_setting(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone '{name}'; use an IANA name, e.g. Europe/London"
        raise CellError(message) from None
    return name


def bank_holiday_setting(value: object) -> bool:
    """Whether weekday demand rows are dropped on bank holidays."""
    if value not in ("closed", "open"):
        raise CellError(f'{value!r} is not allowed; write "closed" or "open"')
    return value == "closed"


def duty_setting(value: object) -> float:
    """The longest duty in hours (two days at most: longer is a typo)."""
    hours = positive_setting(value)
    if hours > MAX_DUTY_HOURS:
        raise CellError(f"{value} is more than {MAX_DUTY_HOURS} hours")
    return hours


def days_off_setting(value: object) -> int:
    """Whole days off in a week: 0 to 7."""
    number = setting_number(value)
    if not number.is_integer() or not 0 <= number <= DAYS_IN_WEEK:
        raise CellError(f"{value} must be a whole number of days from 0 to {DAYS_IN_WEEK}")
    return int(number)


def clinicians_setting(value: object) -> int:
    """A number of different clinicians: a whole number, 0 for no limit."""
    number = setting_number(value)
    if not number.is_integer() or number < 0:
        raise CellError(f"{value} must be a whole number of clinicians, or 0 for no limit")
    return int(number)


RULE_PARSERS: dict[str, Callable[[object], Any]] = {
    "min_rest_hours": positive_setting,
    "max_duty_hours": duty_setting,
    "min_days_off_per_week": days_off_setting,
    "max_week_hours": positive_setting,
    "max_sessions_per_day": whole_setting,
    "max_clinicians_per_role": clinicians_setting,
}
DAYS_IN_WEEK = 7
WEIGHT_NAMES = tuple(f.name for f in dataclasses.fields(Weights))
SECTIONS = (
    "name, timezone, [rules], [weights], [calendar], [enhanced_access], [jobs], "
    "[open_sessions], [swaps], [availability]"
)


def apply_setting(network: Network, key: str, value: object) -> None:
    """Store one setting in its place, or raise CellError saying why it is not valid."""
    section, _, name = key.partition(".")
    if key == "name":
        network.name = text_setting(value)
    elif key == "timezone":
        network.timezone = timezone_setting(value)
    elif section == "rules" and name in RULE_PARSERS:
        network.rules[name] = rule_value(name, value)
    elif section == "weights" and name in WEIGHT_NAMES:
        network.weights[name] = weight_setting(value)
    elif key == "calendar.bank_holidays":
        network.bank_holidays_closed = bank_holiday_setting(value)
    elif section == "enhanced_access":
        network.access_seen = True
        apply_access_setting(network, name, value)
    elif section == "jobs":
        apply_jobs_setting(network, name, value)
    elif section == "open_sessions":
        apply_open_sessions_setting(network, name, value)
    elif section == "swaps":
        apply_swaps_setting(network, name, value)
    elif section == "availability":
        apply_availability_setting(network, name, value)
    else:
        raise CellError(unknown_setting(section, name))


# -- [enhanced_access] -----------------------------------------------------------------

ACCESS_KEYS = (
    "minutes_per_1000_per_week",
    "adjusted_population",
    "windows",
    "bookable_roles",
    "gp_role",
)
WINDOW_PATTERN = re.compile(r"^(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")
WINDOWS_HELP = 'write e.g. windows = ["Mon-Fri 18:30-20:00", "Sat 09:00-17:00"]'
ROLES_HELP = 'write e.g. bookable_roles = ["GP", "ANP", "PHARM"]'


def apply_access_setting(network: Network, name: str, value: object) -> None:
    """One ``[enhanced_access]`` setting, or CellError saying what to write."""
    if name == "minutes_per_1000_per_week":
        number = weight_setting(value)  # 0 is allowed: no floor, the windows still count
        network.enhanced_access[name] = number
    elif name == "adjusted_population":
        try:
            network.enhanced_access[name] = positive_setting(value)
        except CellError as err:
            message = f"{err}; write the NHS-published figure, e.g. adjusted_population = 41250"
            raise CellError(message) from None
    elif name == "windows":
        network.access[name] = windows_setting(value)
    elif name == "bookable_roles":
        network.access[name] = roles_setting(value)
    elif name == "gp_role":
        network.access[name] = role_setting(value, 'e.g. gp_role = "GP"')
    else:
        known = ", ".join(ACCESS_KEYS)
        raise CellError(f"unknown enhanced-access setting '{name}'; the settings are {known}")


def setting_list(value: object, separator: str, help_text: str) -> list[str]:
    """A TOML list of texts, or one text with ``separator`` between items (a workbook cell)."""
    items = value.split(separator) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CellError(f"{value!r} is not a list of texts; {help_text}")
    found = [i.strip() for i in items if i.strip()]
    if not found:
        raise CellError(f"{value!r} is empty; {help_text}")
    return found


def windows_setting(value: object) -> tuple[AccessWindow, ...]:
    """The Network Standard Hours: ``days HH:MM-HH:MM`` each, within one day."""
    windows = []
    for text in setting_list(value, ",", WINDOWS_HELP):
        found = WINDOW_PATTERN.match(text)
        if not found:
            raise CellError(f"'{text}' is not a window; {WINDOWS_HELP}")
        try:
            days = parse_weekdays(found[1])
            start, end = parse_time(found[2]), parse_time(found[3])
        except CellError as err:
            raise CellError(f"{err} (in '{text}'); {WINDOWS_HELP}") from None
        if end <= start:
            message = f"'{text}' ends before it starts; a window lies within one day"
            raise CellError(f"{message}; {WINDOWS_HELP}")
        windows.append(AccessWindow(days, start, end))
    return tuple(windows)


def role_setting(value: object, help_text: str) -> str:
    """A role as staff.csv writes it."""
    if not isinstance(value, str) or not ID_PATTERN.match(value.strip()):
        raise CellError(f"{value!r} is not a role; {help_text}")
    return value.strip()


def roles_setting(value: object) -> frozenset[str]:
    """The roles patients can book in enhanced access."""
    return frozenset(role_setting(r, ROLES_HELP) for r in setting_list(value, ";", ROLES_HELP))


def access_settings(network: Network) -> EnhancedAccess | None:
    """The typed settings of an ``[enhanced_access]`` section; None without one."""
    if not network.access_seen:
        return None
    numbers = network.enhanced_access
    return EnhancedAccess(
        minutes_per_1000_per_week=numbers.get("minutes_per_1000_per_week", 60.0),
        adjusted_population=numbers.get("adjusted_population"),
        **network.access,
    )


def access_warnings(bundle: Bundle, settings: list[Setting] | None, label: str) -> list[Problem]:
    """Roles named for enhanced access that nobody on the staff list has."""
    access = bundle.enhanced_access_settings
    if access is None:
        return []
    line = next((s.line for s in settings or [] if s.key.startswith("enhanced_access.")), 1)
    # A missing adjusted population is not warned of here (the public example has none):
    # the report and its page say plainly that list sizes stand in for it.
    problems: list[Problem] = []
    roles = {p.role for p in bundle.staff}  # empty when staff.csv itself is unreadable
    named = sorted((access.bookable_roles or frozenset()) | {access.gp_role})
    for role in (r for r in named if roles and r not in roles):
        message = f"no one in {bundle.label(STAFF)} has the role '{role}'; check the spelling"
        problems.append(Problem(label, line, "enhanced_access", message, warning=True))
    return problems


# -- [open_sessions] --------------------------------------------------------------------

MAX_CLOSING_HOURS = 168.0  # a week


def apply_open_sessions_setting(network: Network, name: str, value: object) -> None:
    """One ``[open_sessions]`` setting, or CellError saying what to write."""
    if name == "booking":
        if value not in BOOKING_MODES:
            modes = " or ".join(f'"{m}"' for m in BOOKING_MODES)
            raise CellError(f"{value!r} is not a way of booking; write booking = {modes}")
        network.open_sessions[name] = value
    elif name == "closes_hours_before":
        hours = setting_number(value)
        if not 0 <= hours <= MAX_CLOSING_HOURS:
            raise CellError(
                f"{value!r} hours is not a closing time; write hours from 0 to "
                f"{MAX_CLOSING_HOURS:g}, e.g. closes_hours_before = 2"
            )
        network.open_sessions[name] = hours
    elif name == "digest":
        network.open_sessions[name] = switch_setting(value, "digest")
    else:
        raise CellError(
            f"unknown open_sessions setting '{name}'; "
            "the settings are booking, closes_hours_before, digest"
        )


def switch_setting(value: object, name: str) -> bool:
    """A setting that is on or off: true/false in TOML, yes/no in a workbook cell."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "false": False, "no": False}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise CellError(f"{value!r} is not on or off; write {name} = true or {name} = false")


# -- [swaps] and [availability] -----------------------------------------------------------

MAX_WEEKS_AHEAD = 52


def apply_swaps_setting(network: Network, name: str, value: object) -> None:
    """One ``[swaps]`` setting, or CellError saying what to write."""
    if name != "approval":
        raise CellError(f"unknown swaps setting '{name}'; the only one is approval")
    if value not in SWAP_APPROVALS:
        ways = " or ".join(f'"{a}"' for a in SWAP_APPROVALS)
        raise CellError(f"{value!r} is not a way of approving swaps; write approval = {ways}")
    network.swaps[name] = value


def apply_availability_setting(network: Network, name: str, value: object) -> None:
    """One ``[availability]`` setting (weeks before a week starts), or CellError."""
    if name not in ("opens_weeks_before", "closes_weeks_before"):
        raise CellError(
            f"unknown availability setting '{name}'; "
            "the settings are opens_weeks_before, closes_weeks_before"
        )
    weeks = setting_number(value)
    if not weeks.is_integer() or not 0 <= weeks <= MAX_WEEKS_AHEAD:
        raise CellError(
            f"{value!r} is not a number of weeks; write a whole number from 0 to "
            f"{MAX_WEEKS_AHEAD}, e.g. {name} = {getattr(AvailabilitySettings, name)}"
        )
    network.availability[name] = int(weeks)


def availability_problems(
    network: Network, settings: list[Setting] | None, label: str
) -> list[Problem]:
    """The deadline for answers must come after a week opens for them."""
    found = AvailabilitySettings(**network.availability)
    if found.closes_weeks_before < found.opens_weeks_before:
        return []
    line = next((s.line for s in settings or [] if s.key.startswith("availability.")), 1)
    message = (
        f"answers close {found.closes_weeks_before} weeks before a week but open only "
        f"{found.opens_weeks_before} weeks before it; make opens_weeks_before the larger"
    )
    return [Problem(label, line, "availability", message)]


# -- [jobs] ---------------------------------------------------------------------------

JOBS_HELP = (
    'write e.g. enabled = ["drafts", "recheck", "reminder", "retention", "digest"] (or [] for none)'
)
JOB_TIME_KEYS = ("draft_time", "recheck_time", "reminder_time", "retention_time", "digest_time")
# key: (unit, its usual value, the least and the most that make sense); past the most,
# the jobs' date arithmetic would leave the calendar and fail every run.
JOB_COUNTS = {
    "draft_weeks_ahead": ("weeks", JobSettings.draft_weeks_ahead, 1, 52),
    "reminder_days": ("days", JobSettings.reminder_days, 1, 366),
    "audit_retention_days": ("days", JobSettings.audit_retention_days, 1, 36500),
    "version_retention_days": ("days", JobSettings.version_retention_days, 1, 36500),
}
JOB_KEYS = ("enabled", "draft_day", *JOB_TIME_KEYS, *JOB_COUNTS)


def apply_jobs_setting(network: Network, name: str, value: object) -> None:
    """One ``[jobs]`` setting (times are Europe/London), or CellError saying what to write."""
    if name == "enabled":
        network.jobs[name] = enabled_jobs_setting(value)
    elif name == "draft_day":
        network.jobs[name] = day_setting(value)
    elif name in JOB_TIME_KEYS:
        network.jobs[name] = time_setting(value)
    elif name in JOB_COUNTS:
        unit, usual, least, most = JOB_COUNTS[name]
        network.jobs[name] = count(unit, str(usual), least, most)(str(value))
    else:
        raise CellError(f"unknown jobs setting '{name}'; the settings are {', '.join(JOB_KEYS)}")


def enabled_jobs_setting(value: object) -> frozenset[str]:
    """The jobs that run: a TOML list (may be empty), or a ``;``-list in a workbook cell."""
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CellError(f"{value!r} is not a list of job names; {JOBS_HELP}")
    kinds = [i.strip() for i in items if i.strip()]
    unknown = [k for k in kinds if k not in JOB_KINDS]
    if unknown:
        message = f"unknown job '{unknown[0]}'; the jobs are {one_of(list(JOB_KINDS))}"
        raise CellError(f"{message}; {JOBS_HELP}")
    return frozenset(kinds)


def day_setting(value: object) -> int:
    """One day of the week, ``"Mon"`` or ``"Monday"``; 0 = Monday."""
    help_text = 'write one day, e.g. draft_day = "Mon"'
    if not isinstance(value, str):
        raise CellError(f"{value!r} is not a day; {help_text}")
    try:
        return weekday(value, value)
    except CellError:
        raise CellError(f"'{value}' is not a day; {help_text}") from None


def time_setting(value: object) -> dt.time:
    """A Europe/London wall-clock time in quotes, ``"06:00"`` (a TOML time such as 06:00:00 too)."""
    if isinstance(value, dt.time) and not value.second and not value.microsecond:
        return value.replace(tzinfo=None)
    if not isinstance(value, str):
        raise CellError(f'{value!r} is not a time; write it in quotes, e.g. "06:00"')
    return parse_time(value.strip())


def rule_value(name: str, value: object) -> Any:
    """One rule, its error naming the default as a sensible value to write."""
    try:
        return RULE_PARSERS[name](value)
    except CellError as err:
        usual = Rules().duty_hours if name == "max_duty_hours" else getattr(Rules(), name)
        raise CellError(f"{err}; the usual value is {usual:g}") from None


def unknown_setting(section: str, name: str) -> str:
    """Name the valid keys of the section the unknown key was found in."""
    if section == "rules":
        return f"unknown rule '{name}'; the rules are {', '.join(RULE_PARSERS)}"
    if section == "weights":
        return f"unknown weight '{name}'; the weights are {', '.join(WEIGHT_NAMES)}"
    if section == "calendar":
        return f"unknown calendar setting '{name}'; the only one is bank_holidays"
    return f"unknown setting; the settings are {SECTIONS}"


def read_network(
    settings: list[Setting] | None, label: str, default_name: str, problems: list[Problem]
) -> Network:
    """Validate every setting; defaults stand in for the absent or broken ones."""
    network = Network(default_name)
    if settings is None:
        message = f"not found; using defaults (name '{default_name}', timezone {DEFAULT_TIMEZONE})"
        problems.append(Problem(label, 1, WHOLE_FILE, message, warning=True))
        return network
    seen: dict[str, int] = {}
    for setting in settings:
        if setting.key in seen:
            message = f"is set twice (first on row {seen[setting.key]}); keep one of them"
            problems.append(Problem(label, setting.line, setting.key, message))
            continue
        seen[setting.key] = setting.line
        control = control_character(setting.value)
        if control is not None:
            problems.append(Problem(label, setting.line, setting.key, control))
            continue
        try:
            apply_setting(network, setting.key, setting.value)
        except CellError as err:
            problems.append(Problem(label, setting.line, setting.key, str(err)))
    return network
