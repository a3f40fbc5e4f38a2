"""Films from a PACS: C-ECHO, C-FIND, C-GET / C-MOVE (pynetdicom) and QIDO-RS / WADO-RS
(dicomweb-client), staged and imported into a study; SRs stored back with C-STORE."""
