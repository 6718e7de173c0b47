"""The committee's language: one gettext message catalogue (managed with Babel) and number
formatting as a reader of that language expects.

``translator(lang)`` returns a :class:`Translator` with ``_`` / ``ngettext`` / ``pgettext`` and
labels for the codes a planner meets: positions (``secretary`` → "Bí thư Đảng ủy"), rule names
(the names of :mod:`rotation.rulebook`, shared with diagnoses and explanations), scope levels,
KPIs, plan statuses and rule parameters. A code without a label is shown as it is.

Catalogues: ``rotation/locale/<lang>/LC_MESSAGES/rotation.po`` (sources, edited by translators)
and the compiled ``rotation.mo`` next to each (shipped as package data). Messages are English
msgids; codes use a gettext *context* (``rule``, ``position``, ``level``, ``kpi``, ``status``,
``param``) with the code as msgid, so the English catalogue carries their English labels.
Regenerate after editing a ``.po`` (see ``rotation/locale/README.md``)::

    pybabel extract -F rotation/locale/babel.cfg -k N_:1c,2 -k pgettext:1c,2 \
        -o rotation/locale/rotation.pot rotation
    pybabel compile -d rotation/locale -D rotation

Numbers (Babel CLDR data): percentages "37,5 %" (vi) / "37.5%" (en), money "2.000.000 đ" /
"2,000,000 VND", decimals "12,3 km" / "12.3 km".
"""

from __future__ import annotations

import gettext
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "rotation"
LANGUAGES = ("vi", "en")
DEFAULT_LANG = "vi"
DASH = "–"
PERCENT_SIGN = {"vi": " %", "en": "%"}
"""Vietnamese writes a space before the percent sign: 37,5 %."""
NUMBER_SYMBOLS = {"vi": (".", ",", "-", "%"), "en": (",", ".", "-", "%")}
"""Each language's group, decimal, minus and percent symbols, as Babel's CLDR data gives them
(``tests/test_i18n.py`` checks they still do): written here because loading that data costs a
command ≈ 0.06 s of CPU (Babel's global.dat, 0.5 MB, and the locale's own files) for four
characters, and every ``plan`` prints a number."""


def N_(context: str, code: str) -> str:
    """Marks a code for extraction into the catalogue under ``context``; returns the code."""
    del context
    return code


# The codes every catalogue labels (extracted by ``pybabel extract -k N_:1c,2``). The rule names
# are those of rotation.rulebook (tests check that every one has a label in every language).
CODES: tuple[tuple[str, str], ...] = (
    ("position", N_("position", "secretary")),
    ("position", N_("position", "pc_chair")),
    ("position", N_("position", "inspection_chair")),
    ("level", N_("level", "province")),
    ("level", N_("level", "district")),
    ("level", N_("level", "commune")),
    ("status", N_("status", "optimal")),
    ("status", N_("status", "feasible")),
    ("status", N_("status", "infeasible")),
    ("status", N_("status", "unknown")),
    ("rule", N_("rule", "fill_every_post")),
    ("rule", N_("rule", "one_post_per_cadre")),
    ("rule", N_("rule", "out_of_scope_post")),
    ("rule", N_("rule", "not_movable")),
    ("rule", N_("rule", "minimum_tenure")),
    ("rule", N_("rule", "maximum_tenure")),
    ("rule", N_("rule", "lock")),
    ("rule", N_("rule", "exclusion")),
    ("rule", N_("rule", "planning_list")),
    ("rule", N_("rule", "rating")),
    ("rule", N_("rule", "retirement")),
    ("rule", N_("rule", "travel_distance")),
    ("rule", N_("rule", "personal_travel_limit")),
    ("rule", N_("rule", "other_province")),
    ("rule", N_("rule", "relatives_same_unit")),
    ("rule", N_("rule", "non_local_target")),
    ("rule", N_("rule", "max_changes")),
    ("rule", N_("rule", "merged_commune")),
    ("rule", N_("rule", "discipline")),
    ("rule", N_("rule", "retirement_from_office")),
    ("rule", N_("rule", "never_below_current")),
    ("rule", N_("rule", "priority_shares")),
    ("rule", N_("rule", "budget_vnd")),
    ("rule", N_("rule", "claim_support")),
    ("rule", N_("rule", "claim_names")),
    ("rule", N_("rule", "support_cost")),
    ("rule", N_("rule", "preference")),
    ("rule", N_("rule", "unknown_post")),
    ("rule", N_("rule", "unknown_cadre")),
    ("rule", N_("rule", "claim_previous_post")),
    ("rule", N_("rule", "claim_changed")),
    ("rule", N_("rule", "claim_non_local")),
    ("rule", N_("rule", "claim_travel_km")),
    ("rule", N_("rule", "claim_released")),
    ("rule", N_("rule", "claim_kpis")),
    ("rule", N_("rule", "claim_unit_position")),
    ("rule", N_("rule", "travel_km")),
    ("rule", N_("rule", "change")),
    ("rule", N_("rule", "vacancy")),
    ("rule", N_("rule", "non_local_extra")),
    ("rule", N_("rule", "priority_women")),
    ("rule", N_("rule", "priority_young")),
    ("rule", N_("rule", "priority_minority")),
    ("rule", N_("rule", "rating_fit")),
    ("rule", N_("rule", "max_travel")),
    ("rule", N_("rule", "unknown")),
    ("kpi", N_("kpi", "status")),
    ("kpi", N_("kpi", "objective")),
    ("kpi", N_("kpi", "bound")),
    ("kpi", N_("kpi", "posts")),
    ("kpi", N_("kpi", "non_local_share")),
    ("kpi", N_("kpi", "non_local_posts")),
    ("kpi", N_("kpi", "changed_posts")),
    ("kpi", N_("kpi", "released")),
    ("kpi", N_("kpi", "total_travel_km")),
    ("kpi", N_("kpi", "max_travel_km")),
    ("kpi", N_("kpi", "support_cost_vnd")),
    ("kpi", N_("kpi", "new_appointees")),
    ("kpi", N_("kpi", "new_appointees.count")),
    ("kpi", N_("kpi", "new_appointees.women")),
    ("kpi", N_("kpi", "new_appointees.young")),
    ("kpi", N_("kpi", "new_appointees.minority")),
    ("kpi", N_("kpi", "preferences")),
    ("kpi", N_("kpi", "preferences.with_wishes")),
    ("kpi", N_("kpi", "preferences.placed_in_wish")),
    ("kpi", N_("kpi", "preferences.placed_first_choice")),
    ("param", N_("param", "as_of")),
    ("param", N_("param", "positions")),
    ("param", N_("param", "local_means")),
    ("param", N_("param", "local_level")),
    ("param", N_("param", "non_local_targets")),
    ("param", N_("param", "max_travel_km")),
    ("param", N_("param", "min_years_in_post")),
    ("param", N_("param", "max_years_in_post")),
    ("param", N_("param", "min_years_to_retirement")),
    ("param", N_("param", "retirement_age")),
    ("param", N_("param", "min_rating")),
    ("param", N_("param", "rating_years")),
    ("param", N_("param", "require_planning")),
    ("param", N_("param", "forbid_relatives_same_unit")),
    ("param", N_("param", "max_changes")),
    ("param", N_("param", "locks")),
    ("param", N_("param", "exclude")),
    ("param", N_("param", "weights")),
    ("param", N_("param", "candidates")),
    ("param", N_("param", "time_limit_s")),
    ("param", N_("param", "allow_vacancies")),
    ("param", N_("param", "same_province")),
    ("param", N_("param", "budget_vnd")),
    ("param", N_("param", "support")),
    ("param", N_("param", "min_years_to_retirement_from_office")),
    ("param", N_("param", "discipline_months")),
    ("param", N_("param", "never_below_current")),
    ("param", N_("param", "priority_shares")),
    ("param", N_("param", "candidate_min_diff")),
    ("param", N_("param", "candidate_tolerance")),
    ("param", N_("param", "seed")),
    ("param", N_("param", "workers")),
    ("param", N_("param", "circuity_factor")),
    ("param", N_("param", "road_cutoff_km")),
    ("param", N_("param", "horizon")),
    ("param", N_("param", "discipline_months")),
    ("param", N_("param", "min_years_to_retirement_from_office")),
    ("param", N_("param", "never_below_current")),
    ("param", N_("param", "priority_shares")),
    ("local_means", N_("local_means", "hometown")),
    ("local_means", N_("local_means", "residence")),
    ("local_means", N_("local_means", "hometown_or_residence")),
    ("rating", N_("rating", "excellent")),
    ("rating", N_("rating", "good")),
    ("rating", N_("rating", "complete")),
    ("rating", N_("rating", "not_complete")),
    # priority groups (the plan workbook's scenario; issue 13)
    ("group", N_("group", "women")),
    ("group", N_("group", "young")),
    ("group", N_("group", "minority")),
)


class UnknownLanguage(ValueError):
    """A language with no catalogue; the message names the known ones."""


@dataclass(frozen=True)
class Translator:
    """Messages, code labels and number formats of one language."""

    lang: str
    catalog: gettext.NullTranslations

    # ------------------------------------------------------------------ messages
    def _(self, message: str) -> str:
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.catalog.pgettext(context, message)

    # ------------------------------------------------------------------ code labels
    def position(self, code: str) -> str:
        """'secretary' → 'Bí thư Đảng ủy'; an unknown code as it is."""
        return self.pgettext("position", code)

    def level(self, code: str) -> str:
        """'district' → 'huyện'."""
        return self.pgettext("level", code)

    def status(self, code: str) -> str:
        return self.pgettext("status", code)

    def kpi(self, name: str) -> str:
        return self.pgettext("kpi", name)

    def param(self, name: str) -> str:
        return self.pgettext("param", name)

    def rule(self, name: str) -> str:
        """A rule name of rotation.rulebook; a compound name ('max_changes+maximum_tenure', as
        diagnoses give) is labelled part by part."""
        return " + ".join(self.pgettext("rule", part) for part in name.split("+"))

    # ------------------------------------------------------------------ numbers
    def number(self, x: float | int | None, digits: int = 0) -> str:
        """Grouped decimal: 1.234,5 (vi) / 1,234.5 (en); None/NaN → '–'."""
        if x is None or _missing(x):
            return DASH
        return _grouped(type(x).__name__, x, digits, self.lang)

    def percent(self, share: float | None, digits: int = 1) -> str:
        """A share 0–1: 0.375 → '37,5 %' (vi) / '37.5%' (en)."""
        if share is None or _missing(share):
            return DASH
        sign = PERCENT_SIGN[self.lang].replace("%", NUMBER_SYMBOLS[self.lang][3])
        return _grouped(type(share).__name__, share, digits, self.lang, 2) + sign

    def km(self, x: float | None, digits: int = 1) -> str:
        """12.3 → '12,3 km' (vi) / '12.3 km' (en)."""
        return DASH if _missing(x) else f"{self.number(x, digits)} km"

    def money(self, vnd: float | None) -> str:
        """2000000 → '2.000.000 đ' (vi) / '2,000,000 VND' (en)."""
        if _missing(vnd):
            return DASH
        currency = self._("VND")
        return f"{self.number(vnd)} {currency}"


@lru_cache(maxsize=65536)
def _grouped(kind: str, x: float | int, digits: int, lang: str, scale: int = 0) -> str:
    """:meth:`Translator.number` itself (and, with ``scale`` 2, the figure of
    :meth:`Translator.percent`), remembered: a workbook formats the same km figures thousands
    of times (``kind`` keeps 1 and 1.0 apart).

    The text of Babel's ``format_decimal(x, "#,##0.0…", lang)`` (``format_percent`` when
    ``scale`` is 2), worked out the way Babel does (the number's shortest text as a Decimal,
    shifted by ``scale`` places, rounded half to even, grouped by three, the locale's symbols)
    in a tenth of its time; whatever that way does not cover (a non-finite number, more digits
    than the decimal context holds) is left to Babel itself. ``tests/test_i18n.py`` checks the
    two agree on many thousands of numbers."""
    symbols = _symbols(lang)
    try:
        d = Decimal(str(x)).scaleb(scale)
        if not d.is_finite():
            raise InvalidOperation
        q = abs(d).quantize(Decimal(1).scaleb(-digits))  # half to even, as Babel
    except (InvalidOperation, ValueError):
        from babel.numbers import format_decimal, format_percent

        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        if scale == 2:
            return format_percent(x, format=pattern + "%", locale=lang)[:-1]
        return format_decimal(x, format=pattern, locale=lang)
    text = f"{q:,f}".translate(symbols[0])
    return symbols[1] + text if d.is_signed() else text


@cache
def _symbols(lang: str) -> tuple[dict[int, str], str]:
    """(',' → the locale's group symbol and '.' → its decimal symbol, its minus sign)."""
    group, decimal, minus, _percent = NUMBER_SYMBOLS[lang]
    return str.maketrans({",": group, ".": decimal}), minus


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


@cache
def translator(lang: str = DEFAULT_LANG) -> Translator:
    """The translator of ``lang`` ('vi' default, 'en'); :class:`UnknownLanguage` otherwise."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"unknown language {lang!r} (known: {', '.join(LANGUAGES)})")
    catalog = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])
    return Translator(lang=lang, catalog=catalog)
