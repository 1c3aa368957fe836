"""The packages a person gets back: a copy of their data (Art. 15) and their data to take along (Art. 20).

Both are built by walking the registry (``vern.registry.entries``), never from a
list kept here: every registered model is searched by the person's stored keys,
with an indexed lookup each, and only the person's rows are read. Each model is
titled by its own ``verbose_name_plural``, in the reader's language.

The access package (LAW.md R14, §1c) is a zip of

- ``data.json``: everything, under stable top-level keys (``ACCESS_KEYS``):
  ``confirmation`` (that data is processed, by whom, which models were searched),
  ``purposes``, ``categories``, ``recipients``, ``retention``, ``source``, ``rights``,
  ``complaint``, ``automated_decisions`` and ``transfers`` (the supplementary
  information, from the published declaration), ``records`` (one block per model
  with rows, parts after their parent) and ``audit`` (who saw or changed what: R22);
- ``records/<app_label>.<model>.csv``: one file per block, with a header row;
- ``index.html``: the same, readable, in the request's language.

The portability package (R18) holds only what the person provided on consent (a)
or contract (b): ``portability.json``, described by ``PORTABILITY_SCHEMA``, and a
CSV per model.

Values: times in ISO 8601 (UTC), dates as ``YYYY-MM-DD``, a field with choices as its
stored value plus ``<field>_label``, the readable label. In text, any email address
or phone number that is not the person's own is replaced by ``[masked]`` (Art. 15(4)).

What the packages hold is assembled apart from the files it is rendered into:

- ``masking``: other people's addresses and numbers in text;
- ``records``: the person's rows in every registered model, as blocks of values;
- ``supplement``: the §1c information from the published declaration, and the audit rows;
- ``contents``: what ``data.json`` and ``portability.json`` hold (``access_data``, ``portability_data``);
- ``rendering``: the zip files, with their JSON, CSV and HTML (``access_package``, ``portability_package``);
- ``titles``: the readable names of fields and actors on the HTML page.

The single-use links they are fetched by are a service: ``vern.rights.services.downloads``.
"""
