"""The privacy officers' console for rights requests: the queue, each request, and every step on it.

Every page about a request shows personal data (the address, the phone, the
person's words), so each look is audited ("rights.viewed"); every step goes
through a service that checks the status it starts from and audits the change.
A refused step comes back as a ``RequestRefused`` code and is shown in the staff
member's language, never as an error page (``vern.accounts.steps.staff_step``).

The pages, by what they do (the URLs are in ``vern/rights/staff_urls.py``):

- ``queue``: the requests by due date;
- ``intake``: registering a request that came by email, telephone, letter or in person;
- ``workflow``: one request, with its timeline (``timeline``), and the steps of its
  workflow: start, assign, note, verify the phone, extend, answer, refuse;
- ``packages``: a new link to the access or portability package;
- ``erasure``: the preview of an erasure, carrying it out, and its receipt;
- ``rectification``: correcting a field of one of the person's records;
- ``restriction``: the decision on an objection, and the end of a restriction;
- ``pages``: what those pages share (the deadline in words, model titles, the confirm page).
"""
