"""One control, declared once: its key, widget kind, options or range, default and label key.

A `Control` says everything the app needs about a control: `dashboard.controls.draw` draws
its widget from it, `dashboard.urlstate.check` validates a link's value with `parse`, and
`names` are what `?hide=` and `?lock=` call it. A leaf module: only the text table.

>>> n = Control("n", "number", "seed", 1, lo=0, hi=9, whole=True)
>>> n.parse(["4"]), n.names
(4, ('n',))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dashboard.text import t

CHOICE_KINDS = ("select", "radio", "select_slider", "segmented")


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Control:
    """A control of a page.

    kind: select, radio, select_slider, segmented (one of `options`), pills (several of
    `options`), slider or number (a number in [lo, hi]), toggle, text or text_area.
    `options` are the values as a link writes them; `native` turns one into the widget's
    value (e.g. "16" -> 16); `labels` names the text key shown for an option (its value and
    link stay the same in every language). `check` turns typed text into the value the page
    uses, or raises ValueError (NWError) saying what to fix; its message goes under the box.
    `part_of` is another control this widget belongs to: hiding or locking that one covers
    this widget too (`hide=w` hides the slider and the exact-w box).
    """

    key: str
    kind: str
    label: str  # text key (the widget's label)
    default: Any
    options: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    whole: bool = False
    help: str | None = None  # text key
    labels: Mapping[str, str] = field(default_factory=dict)  # option -> text key shown for it
    placeholder: str | None = None  # text key
    check: Callable[[str], Any] | None = None
    native: Callable[[Any], Any] = _same
    part_of: str | None = None
    refused: Mapping[str, str] = field(default_factory=dict)  # link value -> reason text key
    in_url: bool = True  # False: kept for the session, never in the address or a share link
    url_check: Callable[[str], Any] | None = None  # a link's value, when not one of `options`
    default_text: str | None = None  # text key: how a notice names a default that varies
    widget: Mapping[str, Any] = field(default_factory=dict)  # extra arguments (height, ...)

    @property
    def names(self) -> tuple[str, ...]:
        """What `hide` and `lock` may call this control."""
        return (self.key,) if self.part_of is None else (self.key, self.part_of)

    def parse(self, values: list[str]) -> Any:
        """A link's values for this control as the URL form, or ValueError with the reason."""
        if self.kind == "pills":
            bad = [v for v in values if v not in self.options]
            if bad or not values:
                raise ValueError(t("url_reason_choice", options=listing(self.options)))
            return [o for o in self.options if o in values]
        if len(values) != 1:
            raise ValueError(t("url_reason_repeated"))
        value = values[0]
        if value in self.refused:
            raise ValueError(t(self.refused[value]))
        if self.url_check is not None:
            self.url_check(value)
            return value
        if self.kind in CHOICE_KINDS:
            if value not in self.options:
                raise ValueError(t("url_reason_choice", options=listing(self.options)))
            return value
        if self.kind in ("slider", "number"):
            return _number(value, self.lo, self.hi, self.whole)
        if self.kind == "toggle":
            if value.lower() not in ("true", "false"):
                raise ValueError(t("url_reason_flag"))
            return value.lower() == "true"
        if self.check is not None:
            self.check(value)
        return value

    def show(self, value: Any) -> str:
        """A default as the link notice prints it."""
        if value is None and self.default_text:
            return t(self.default_text)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float | int):
            return f"{value:g}"
        if isinstance(value, list):
            return ", ".join(value)
        if self.kind in ("text", "text_area"):
            return one_line(repr(value)) if value else "''"
        return str(value)


def _number(raw: str, lo: float | None, hi: float | None, whole: bool) -> float | int:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(t("url_reason_number")) from None
    if not math.isfinite(value):
        raise ValueError(t("url_reason_number"))
    if whole and value != int(value):
        raise ValueError(t("url_reason_whole"))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(t("url_reason_range", lo=f"{lo:g}", hi=f"{hi:g}"))
    return int(value) if whole else value


def listing(options: Sequence[str]) -> str:
    """The allowed values, shortened when there are many.

    >>> listing([str(i) for i in range(20)])
    '0, 1, 2, 3, ..., 19'
    """
    shown = list(options) if len(options) <= 8 else [*options[:4], "...", options[-1]]
    return ", ".join(shown)


def one_line(text: str) -> str:
    """Typed text with its line breaks shown as ' / ' (a message is one line).

    >>> one_line("1, 0\\n0, 1")
    '1, 0 / 0, 1'
    """
    return " / ".join(part for part in text.replace("\\n", "\n").splitlines() if part.strip())


def by_key(controls: Sequence[Control]) -> dict[str, Control]:
    """A page's controls by key (the form urlstate.check takes)."""
    return {c.key: c for c in controls}
