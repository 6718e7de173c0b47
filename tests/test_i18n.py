"""The message catalogue (rotation.i18n): labels for every code, compiled catalogues in step with
their sources, every message of the code translated, numbers as a Vietnamese reader expects."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from rotation import rulebook
from rotation.i18n import CODES, LANGUAGES, LOCALE_DIR, UnknownLanguage, translator
from rotation.rules import Rules

RULE_NAMES = sorted({*rulebook.HARD_RULES, *rulebook.CLAIMS, *rulebook.SOFT_TERMS})
PACKAGE = Path(__file__).resolve().parents[1] / "rotation"
KEYWORDS = {
    "N_": ((1, "c"), 2),
    "t._": None,
    "self._": None,
    "t.ngettext": (1, 2),
    "t.pgettext": ((1, "c"), 2),
}


def _po(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "rotation.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("name", RULE_NAMES)
def test_every_rulebook_name_has_a_vietnamese_label(name):
    """Each rule name of the rulebook (the names diagnoses and explanations use) reads in Vietnamese."""
    label = translator("vi").rule(name)
    assert label and label != name
    assert translator("vi").pgettext("rule", name) == label


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_rulebook_name_is_in_each_catalogue(lang):
    """The English catalogue labels the rule codes too (no raw code in an English report)."""
    catalogue = _po(lang)
    missing = [n for n in RULE_NAMES if not (m := catalogue.get(n, context="rule")) or not m.string]
    assert missing == []


def test_every_rules_field_has_a_parameter_label():
    """The scenario table names every rule parameter in Vietnamese."""
    t = translator("vi")
    missing = [f for f in Rules.model_fields if t.param(f) == f]
    assert missing == []


@pytest.mark.parametrize(
    ("code", "vi", "en"),
    [
        ("secretary", "Bí thư Đảng ủy", "Party secretary"),
        ("pc_chair", "Chủ tịch UBND", "People's Committee chair"),
        ("inspection_chair", "Chủ nhiệm UBKT", "Inspection Committee chair"),
        ("vice_secretary", "vice_secretary", "vice_secretary"),
    ],
)
def test_position_labels_and_unknown_codes_as_is(code, vi, en):
    """Known positions are labelled; an unknown code is shown as it is."""
    assert translator("vi").position(code) == vi
    assert translator("en").position(code) == en


@pytest.mark.parametrize(
    ("level", "vi"), [("province", "tỉnh"), ("district", "huyện"), ("commune", "xã")]
)
def test_scope_levels(level, vi):
    assert translator("vi").level(level) == vi
    assert translator("en").level(level) == level


def test_compound_diagnosis_rule_is_labelled_part_by_part():
    """Diagnoses give 'max_changes+maximum_tenure': both parts are labelled."""
    assert translator("vi").rule("max_changes+maximum_tenure") == (
        "Số thay đổi tối đa + Thời gian giữ chức vụ tối đa"
    )


@pytest.mark.parametrize(
    ("method", "args", "vi", "en"),
    [
        ("percent", (0.375,), "37,5 %", "37.5%"),
        ("percent", (0.3,), "30,0 %", "30.0%"),
        ("percent", (1.0, 0), "100 %", "100%"),
        ("percent", (None,), "–", "–"),
        ("percent", (math.nan,), "–", "–"),
        ("money", (2_000_000,), "2.000.000 đ", "2,000,000 VND"),
        ("money", (144_000_000.0,), "144.000.000 đ", "144,000,000 VND"),
        ("km", (12.3,), "12,3 km", "12.3 km"),
        ("km", (1234.56,), "1.234,6 km", "1,234.6 km"),
        ("number", (1234567,), "1.234.567", "1,234,567"),
        ("number", (1029.832, 1), "1.029,8", "1,029.8"),
        ("number", (None,), "–", "–"),
    ],
)
def test_number_formats(method, args, vi, en):
    """Grouping and decimal marks of each language (Babel CLDR data)."""
    assert getattr(translator("vi"), method)(*args) == vi
    assert getattr(translator("en"), method)(*args) == en


def _numbers() -> list[float | int]:
    """Numbers a workbook shows (km, counts, money) and the cases rounding can get wrong: ties
    in decimal (2.675, 12.25), ties that are not ties in binary, negatives rounding to zero,
    tiny and large magnitudes, whole numbers as int and as float."""
    rng = random.Random(2026)
    out: list[float | int] = [1, -1, 1.0, 0.05, 0.15, 0.25, 0.35, 2.675, -2.675, 12.25, 12.35]
    out += [999.95, 999_999.5, 1_234_567.891, -0.04, -0.05, 1e-9, 123_456_789_012.345]
    out += [-0.0, 0.0, 0, 5e-324, 10**15, -(10**12) - 0.5]
    for _ in range(3000):
        e = rng.randint(-4, 9)
        out.append(round(rng.uniform(-1, 1) * 10**e, rng.randint(0, 6)))
        out.append(rng.randint(-(10**9), 10**9))
        out.append(rng.randint(0, 20_000) / 20)  # km figures: x.x5 ties
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_number_text_is_babels(lang):
    """The grouped numbers are Babel's format_decimal text exactly, for every number and 0–3
    decimals (the fast path works it out itself; a miss would be a wrong figure on paper)."""
    from babel.numbers import format_decimal

    from rotation.i18n import _grouped

    wrong = []
    for x in _numbers():
        for digits in range(4):
            _grouped.cache_clear()  # 0.0 and -0.0 are one key: each number is worked out afresh
            got = _grouped(type(x).__name__, x, digits, lang)
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            want = format_decimal(x, format=pattern, locale=lang)
            if got != want:
                wrong.append((x, digits, got, want))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_percent_text_is_babels(lang):
    """A share's text is Babel's format_percent exactly (shifted two places, then rounded)."""
    from babel.numbers import format_percent

    from rotation.i18n import PERCENT_SIGN, _grouped

    t = translator(lang)
    wrong = []
    for x in [*_numbers(), 0.375, 0.3, 1, 0.0005, 0.00125, -0.0001]:
        if abs(x) > 1e12:
            continue
        for digits in range(3):
            _grouped.cache_clear()
            pattern = "#,##0" + ("." + "0" * digits if digits else "") + PERCENT_SIGN[lang]
            want = format_percent(x, format=pattern, locale=lang)
            if (got := t.percent(x, digits)) != want:
                wrong.append((x, digits, got, want))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_number_symbols_are_babels(lang):
    """The symbols written out in NUMBER_SYMBOLS are still the ones Babel's CLDR data gives."""
    from babel import Locale

    from rotation.i18n import NUMBER_SYMBOLS

    symbols = Locale.parse(lang).number_symbols["latn"]
    want = tuple(symbols[k] for k in ("group", "decimal", "minusSign", "percentSign"))
    assert NUMBER_SYMBOLS[lang] == want


def test_number_beyond_the_decimal_context_is_babels_answer():
    """Where Babel itself cannot round (1e30 to one decimal), the same error, not a guess."""
    from decimal import InvalidOperation

    with pytest.raises(InvalidOperation):
        translator("vi").number(1e30, 1)


def test_unknown_language_names_the_known_ones():
    with pytest.raises(UnknownLanguage, match=r"'fr'.*vi, en"):
        translator("fr")


def test_default_language_is_vietnamese():
    assert translator().lang == "vi"
    assert translator()._("Summary") == "Tóm tắt"
    assert translator("en")._("Summary") == "Summary"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalogue_matches_its_source(lang):
    """The shipped .mo says what the .po says (recompile with pybabel after editing a .po)."""
    t = translator(lang)
    checked = 0
    for m in _po(lang):
        if not m.id or not any(m.string if isinstance(m.string, tuple) else [m.string]):
            continue
        if isinstance(m.id, tuple):
            assert t.catalog.ngettext(m.id[0], m.id[1], 1) == m.string[0]
        elif m.context:
            assert t.pgettext(m.context, m.id) == m.string, (m.context, m.id)
        else:
            assert t._(m.id) == m.string, m.id
        checked += 1
    assert checked > 50


def test_every_message_in_the_code_is_translated_to_vietnamese():
    """pybabel extraction over the package: no message the code uses lacks a translation."""
    vi = _po("vi")
    found = 0
    missing = []
    for _file, _line, message, _comments, context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found += 1
        entry = vi.get(message if isinstance(message, str) else message[0], context=context)
        if entry is None or not entry.string or entry.string in ("", ("",)):
            missing.append((context, msgid))
    assert found > 100
    assert missing == []


def test_codes_table_and_catalogue_agree():
    """Every code i18n.CODES lists is in the Vietnamese catalogue under its context."""
    vi = _po("vi")
    assert [c for c in CODES if vi.get(c[1], context=c[0]) is None] == []


def test_catalogues_are_package_data():
    """A clean install ships every catalogue file (pyproject package-data covers rotation/locale)."""
    import fnmatch
    import tomllib

    conf = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = conf["tool"]["setuptools"]["package-data"]["rotation"]
    files = [p.relative_to(PACKAGE).as_posix() for p in LOCALE_DIR.rglob("*") if p.is_file()]
    assert {"locale/vi/LC_MESSAGES/rotation.mo", "locale/en/LC_MESSAGES/rotation.mo"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []
