"""Patient look-ups."""

from __future__ import annotations

import sqlalchemy as sa

from clinic.patients.models import Patient

SORTS = {
    "name": (Patient.family_name, Patient.given_name),
    "mrn": (Patient.mrn,),
    "birth_date": (Patient.birth_date, Patient.family_name),
}


def search_patients(term: str = "", sort: str = "name") -> sa.Select[tuple[Patient]]:
    """Return a select of patients whose name or MRN contains ``term``."""
    query = sa.select(Patient)
    for word in term.split():
        like = f"%{word.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Patient.family_name).like(like),
                sa.func.lower(Patient.given_name).like(like),
                sa.func.lower(Patient.mrn).like(like),
            )
        )
    return query.order_by(*SORTS.get(sort, SORTS["name"]), Patient.id)
