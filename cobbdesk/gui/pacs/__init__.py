"""Study > Query PACS… (C-ECHO/C-FIND/C-GET/C-MOVE or DICOMweb into the open study) and
Film > Export measurements as DICOM SR… (optionally C-STORE to a node): thin dialogs over
:mod:`cobbdesk.core.pacs` and :mod:`cobbdesk.core.sr`, network work off the UI thread."""
