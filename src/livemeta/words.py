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


def class_word(value) -> str:
    """A treatment class as a reader names it ('none' is 'PD-(L)1 alone'); '' for missing."""
    if value is None or value != value:
        return ""
    return CLASS_NAMES.get(str(value), str(value).replace("_", " "))
