"""Every change to a rights request, one module per part of the privacy center's work.

- ``steps``: what every step shares: the allowed moves (``TRANSITIONS``), ``RequestRefused``,
  the timeline event and audit row, marking a right done;
- ``intake``: a request from the privacy center or registered by staff, its confirmation
  link, and its lapse when never confirmed; what needs no judgement is done on confirmation;
- ``tokens``: the single-use tokens of the confirmation and download links;
- ``workflow``: assigning, starting, notes, verifying a phone, extending the deadline,
  answering and refusing, and the reminders before a due date;
- ``downloads``: the single-use links to the access and portability packages;
- ``erasure``: the preview, the erasure itself, and its replay after a restore;
- ``rectification``: correcting a field of one of the person's records;
- ``restriction``: restriction, objection and withdrawal of consent.

Modules import each other in that order of need and never in a circle: ``steps`` and
``tokens`` import no other service, and ``intake`` (which acts on confirmation) is
imported by none.
"""
