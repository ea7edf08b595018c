"""livemeta: a living evidence database for PD-(L)1 rechallenge in advanced NSCLC."""

__version__ = "0.1.0"
