"""How the vocabularies of the study files are named for readers (terminal, report, figures)."""

from __future__ import annotations

#: treatment classes as a reader names them; class ``none`` has no partner: the PD-(L)1 drug alone
CLASS_NAMES = {
    "multitarget_tki": "multitarget TKI",
    "dual_checkpoint": "dual checkpoint",
    "adc": "ADC",
    "investigational_io": "investigational IO",
    "none": "PD-(L)1 alone",
}


#: view columns as a reader names them (moderators, subgroups); others lose their underscores
COLUMN_NAMES = {
    "min_prior_io_months": "minimum prior PD-(L)1 exposure required (months)",
    "prior_io_minimum": "minimum prior PD-(L)1 exposure",
    "treatment_class": "treatment class",
    "resistance_category": "resistance category",
    "control_type": "control",
}


def column_word(name: str) -> str:
    """A view column as a reader names it: 'min_prior_io_months' -> 'minimum prior PD-(L)1 exposure
    required (months)', 'other_column' -> 'other column'."""
    return COLUMN_NAMES.get(name, name.replace("_", " "))


def count(n, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun in the number it takes: '1 trial', '2 trials', '1 study', '0 studies',
    '1 RCT', '3 RCTs', '1 single-arm trial'; ``plural`` for other irregular nouns. Every count livemeta
    prints goes through here."""
    return f"{n} {noun if n == 1 else plural or plural_of(noun)}"


def plural_of(noun: str) -> str:
    """'trial' -> 'trials', 'study' -> 'studies', 'RCT' -> 'RCTs', 'analysis' -> 'analyses'."""
    if noun.endswith("y") and noun[-2:-1].lower() not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith("sis"):
        return noun[:-2] + "es"
    return noun + "s"


def class_word(value) -> str:
    """A treatment class as a reader names it ('none' is 'PD-(L)1 alone'); '' for missing."""
    if value is None or value != value:
        return ""
    return CLASS_NAMES.get(str(value), str(value).replace("_", " "))
