"""The front half's commands: what ``livemeta search add`` / ``keep-apart`` / ``merge`` and ``livemeta
screen decide`` / ``resolve`` / ``import`` / ``init`` / ``commit`` do to a project: check a change as
its commit's replay will check it, write the files (``searches/``, ``screening/``), commit them and
replay the commit as a revision (:mod:`livemeta.living.history`).

Above :mod:`livemeta.living` (they replay), which is above :mod:`livemeta.screening` (the screening
files and their replay into the database) and :mod:`livemeta.search` (export readers, identifier
rules, de-duplication): data flows one way.
"""
