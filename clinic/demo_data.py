"""Fixed data for the demo clinic (names and diagnoses look like a real clinic)."""

from __future__ import annotations

SITE = {
    "name": "Riverside Infusion Centre",
    "timezone": "Europe/Berlin",
    "holiday_country": "DE",
    "holiday_subdivision": "BE",
    "slot_minutes": 15,
    "turnover_minutes": 15,
    "max_starts_per_slot": 2,
}
OPENING = ("08:00", "18:00")  # Monday to Friday
CHAIRS = [(f"Chair {n}", "chair") for n in range(1, 11)] + [("Bed 1", "bed"), ("Bed 2", "bed")]

USERS = [
    ("admin", "admin", "Dr. Anna Keller"),
    ("scheduler", "scheduler", "Jonas Weber"),
    ("nurse", "nurse", "Miriam Schulz, RN"),
    ("viewer", "viewer", "Paul Richter"),
]
DEMO_PASSWORD = "clinic-demo"

# (ICD-10 code, label, protocol code most such patients get)
DIAGNOSES = [
    ("G35", "Multiple sclerosis", "natalizumab-ms"),
    ("G35", "Multiple sclerosis", "ocrelizumab-ms"),
    ("G35", "Multiple sclerosis", "ublituximab-ms"),
    ("G35", "Multiple sclerosis", "alemtuzumab-ms"),
    ("M05.79", "Rheumatoid arthritis with rheumatoid factor of multiple sites", "rituximab-ra"),
    ("M06.09", "Rheumatoid arthritis without rheumatoid factor, multiple sites", "abatacept-ra"),
    ("M05.79", "Rheumatoid arthritis with rheumatoid factor of multiple sites", "infliximab-ra"),
    ("M06.09", "Rheumatoid arthritis without rheumatoid factor, multiple sites", "tocilizumab-ra"),
    ("M31.3", "Granulomatosis with polyangiitis", "rituximab-aav-induction"),
    ("M31.7", "Microscopic polyangiitis", "cyclophosphamide-aav"),
    ("M31.3", "Granulomatosis with polyangiitis", "rituximab-aav-maintenance"),
    ("M33.1", "Dermatomyositis", "ivig-dm"),
    ("M32.14", "Glomerular disease in systemic lupus erythematosus", "belimumab-sle"),
    ("M32.9", "Systemic lupus erythematosus, unspecified", "anifrolumab-sle"),
    ("G36.0", "Neuromyelitis optica spectrum disorder", "inebilizumab-nmosd"),
    ("G70.0", "Myasthenia gravis", "efgartigimod-mg"),
    ("G70.0", "Myasthenia gravis", "eculizumab-mg"),
    ("G70.0", "Myasthenia gravis", "ravulizumab-mg"),
    ("G61.8", "Chronic inflammatory demyelinating polyneuropathy", "ivig-cidp"),
    ("G35", "Multiple sclerosis", "natalizumab-ms"),
]

GIVEN_FEMALE = [
    "Sabine", "Julia", "Katharina", "Elif", "Maria", "Lena", "Sophie", "Aylin",
    "Petra", "Ingrid", "Hannah", "Zofia", "Claudia", "Nadia", "Emma", "Birgit",
    "Ana", "Leonie", "Fatma", "Ursula",
]
GIVEN_MALE = [
    "Thomas", "Lukas", "Mehmet", "Stefan", "Jan", "Andreas", "Felix", "Piotr",
    "Michael", "Daniel", "Hans", "Tobias", "Yusuf", "Matthias", "Karl", "Nikolai",
    "Florian", "Marco", "Erik", "Dariusz",
]
FAMILY = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Yilmaz", "Kowalski", "Wolf", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Schmitt", "Werner", "Krause",
    "Lehmann", "Köhler", "Maier", "Öztürk", "Nowak", "Vogel", "Friedrich", "Günther",
    "Roth", "Keller", "Berger", "Frank", "Ludwig", "Jung", "Kaiser", "Fuchs",
]
PATIENT_COUNT = 150  # enough for a 12-chair room at 60-80% in the demo week
