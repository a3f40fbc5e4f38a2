"""Which endplates an OHIF Cobb angle measures: named by the user, never guessed.

OHIF's Cobb-angle tool stores two lines and no levels, so an OHIF SR does not say whether its
lines are the C2 and C7 (or L1 and S1) endplates.  The template decides which column of the
exports a number lands in (the C2–C7 angle of a cervical film, the L1–S1 angle of a lumbar
one, or a FREE angle counted in neither: :func:`~cobbdesk.core.store.records.
template_region`), so it is taken from the user (``cobbdesk import --sr-template``):

* ``C2-C7`` / ``L1-S1``: that template, on a film of its region or of unknown region (with
  the region warning of every import); on a film of the other region the angle is refused (a
  cervical number in a lumbar film's column);
* ``region``: the template of each film's region (C2–C7 on a cervical film, L1–S1 on a
  lumbar film), FREE on a film of unknown region;
* ``FREE``: any two lines, on any film (on a cervical or lumbar film it is listed by
  ``verify`` as a region mismatch, as every FREE angle there is);
* not named: FREE on a film of unknown region (no column to choose); on a cervical or lumbar
  film the angle is refused, naming the option.

CobbDesk's own SRs carry their template in the record: the option does not apply to them.
"""

from __future__ import annotations

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store.records import FilmRecord, Region, template_region

REGION = "region"
"""The ``--sr-template`` value that takes each film's region template."""
CHOICES = (*(t.value for t in Template), REGION)
"""What ``--sr-template`` accepts."""


def _region_template(region: Region) -> Template:
    """The template whose region is ``region``; FREE for a film of unknown region."""
    return next((t for t in Template if template_region(t) is region), Template.FREE)


def ohif_template(film: FilmRecord, named: str | None) -> Template:
    """The template of an OHIF Cobb angle on ``film`` when the user named ``named`` (one of
    :data:`CHOICES`, or None: not named) — module rules.  Raises ValidationError naming the
    film, its region and the option when the angle must be refused."""
    region = Region(film.region)
    if named == REGION:
        return _region_template(region)
    if named is None:
        if region is Region.UNKNOWN:
            return Template.FREE
        raise ValidationError(None, f"film #{film.id} is a {region.value} film and this OHIF "
                              "Cobb angle names no endplates, so which column it belongs in "
                              "is not known; import it with --sr-template "
                              f"{_region_template(region).value} (or region) when its lines "
                              "are those endplates, or --sr-template FREE for any two "
                              "lines")  # fmt: skip
    template = Template(named)
    wanted = template_region(template)
    if template is not Template.FREE and region is not Region.UNKNOWN and wanted is not region:
        raise ValidationError(None, f"film #{film.id} is recorded as {region.value}; "
                              f"--sr-template {template.value} is a {wanted.value} template, so "
                              "the angle was refused")  # fmt: skip
    return template


__all__ = ["CHOICES", "REGION", "ohif_template"]
