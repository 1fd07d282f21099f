"""Made-up first names, surnames, places and practice names; no real person or practice."""

from __future__ import annotations

import random
from collections import Counter

FIRST_NAMES = (
    "Aisha",
    "Amir",
    "Anna",
    "Ben",
    "Bethan",
    "Chloe",
    "Daniel",
    "Dev",
    "Eleanor",
    "Emeka",
    "Femi",
    "Fiona",
    "George",
    "Grace",
    "Hannah",
    "Harry",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Kiran",
    "Laura",
    "Leah",
    "Lucy",
    "Maya",
    "Mo",
    "Nadia",
    "Nia",
    "Oliver",
    "Owen",
    "Priya",
    "Rachel",
    "Rhys",
    "Ruth",
    "Sam",
    "Sana",
    "Sophie",
    "Tom",
    "Will",
    "Zain",
)
SURNAMES = (
    "Ahmed",
    "Baker",
    "Brown",
    "Campbell",
    "Clarke",
    "Davies",
    "Edwards",
    "Evans",
    "Green",
    "Hall",
    "Hughes",
    "Islam",
    "Jones",
    "Kaur",
    "Khan",
    "Lewis",
    "Mensah",
    "Morgan",
    "Nolan",
    "Novak",
    "Owusu",
    "Patel",
    "Price",
    "Rees",
    "Roberts",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Turner",
    "Walker",
    "Walsh",
    "Ward",
    "White",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)
PLACES = (
    "Riverside",
    "Church",
    "Mill",
    "Station",
    "Park",
    "Abbey",
    "Castle",
    "Meadow",
    "Orchard",
    "Bridge",
    "Market",
    "Victoria",
    "Albion",
    "Oakwood",
    "Willow",
    "Beech",
    "Elm",
    "Cedar",
    "Holly",
    "Priory",
    "Kingsway",
    "Queensway",
    "Hillside",
    "Valley",
    "Brookside",
    "Heath",
    "Moorland",
    "Forest",
    "Lakeside",
    "Harbour",
    "Rosemary",
    "Springfield",
    "Greenfield",
    "Westgate",
    "Eastgate",
    "Northgate",
    "Southgate",
    "Highfield",
    "Ashgrove",
    "Chestnut",
    "Larch",
    "Maple",
    "Rowan",
    "Thornbury",
    "Wellington",
    "Windmill",
    "Cross",
    "Manor",
)
PRACTICE_SUFFIXES = (
    "Road Surgery",
    "Street Surgery",
    "Lane Surgery",
    "Medical Centre",
    "Health Centre",
    "Medical Practice",
    "Surgery",
    "Family Practice",
)
LOCALITIES = (
    "Riverside",
    "Northfield",
    "Southbrook",
    "Eastmoor",
    "Westvale",
    "Marshside",
    "Hilltop",
    "Fenwick",
    "Ashby",
    "Oakley",
    "Brampton",
    "Kingsmead",
    "Stoneleigh",
    "Wolds",
    "Dale",
)


def practice_names(rng: random.Random, count: int) -> list[str]:
    """Plausible practice names, no place used twice while the list of places lasts."""
    places = rng.sample(PLACES, min(count, len(PLACES)))
    names = [f"{place} {rng.choice(PRACTICE_SUFFIXES)}" for place in places]
    for i in range(len(names), count):
        names.append(f"{PLACES[i % len(PLACES)]} Medical Centre {i // len(PLACES) + 1}")
    return names


# --- Staff -------------------------------------------------------------------


class Namer:
    """Synthetic names and unique example.nhs.uk addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails: Counter[str] = Counter()

    def next(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        local = f"{first}.{last}".lower()
        self.emails[local] += 1
        if self.emails[local] > 1:
            local += str(self.emails[local])
        return f"{first} {last}", f"{local}@example.nhs.uk"
