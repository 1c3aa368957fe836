"""English dates as a Norwegian company writes them in English: day first, month in words.

Django's ``en`` formats are American (12/06/2026 for 6 December), which a reader
in Norway takes for 12 June. Numbers keep Django's English separators.
"""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday
