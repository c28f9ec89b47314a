"""Reference data for the demo district: device models and prices, site names, name lists, notes.

Prices and rates follow ``/work/shared/domain.md`` (Chromebook $289, iPad $329–$449,
chargers $20–$40, cases $20–$50, service life 48–60 months). Auto-update expiration
(AUE) dates are plausible demo values, not Google's published list.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

DISTRICT_NAME = "Maple Valley Unified School District"
DISTRICT_TIME_ZONE = "America/Chicago"
STAFF_EMAIL_DOMAIN = "mvusd.example.org"
STUDENT_EMAIL_DOMAIN = "students.mvusd.example.org"
#: Guardian e-mail domains: reserved example domains, so the demo never mails a real person.
GUARDIAN_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
#: Chicago-area codes; lines 555-0100…0199 are reserved for fiction.
AREA_CODES = ("312", "773", "872", "630", "708", "847", "224", "331", "779", "815")


@dataclass(frozen=True)
class SerialFormat:
    """How a maker's serial numbers look: ``prefix`` + ``width`` characters of ``alphabet``."""

    prefix: str
    alphabet: str
    width: int


_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"

#: Manufacturer name → serial format (serials are unique per manufacturer) and Wi-Fi MAC prefix.
MANUFACTURERS: dict[str, tuple[SerialFormat, str]] = {
    "Lenovo": (SerialFormat("PF", _B36, 6), "8C:16:45"),
    "Acer": (SerialFormat("NXA", _DIGITS, 12), "B0:A4:60"),
    "Dell": (SerialFormat("", _B36, 7), "F4:8E:38"),
    "HP": (SerialFormat("5CD", _B36, 7), "3C:52:82"),
    "Apple": (SerialFormat("", _B36, 10), "F0:18:98"),
    "Franklin Wireless": (SerialFormat("T10", _DIGITS, 10), "00:0E:8F"),
    "Inseego": (SerialFormat("MF8", _DIGITS, 10), "00:15:FF"),
    "Maxcases": (SerialFormat("MX", _DIGITS, 8), ""),
    "Logitech": (SerialFormat("LG", _DIGITS, 8), ""),
}


@dataclass(frozen=True)
class ModelSpec:
    """A device model in the demo catalog.

    ``price`` is the purchase cost and ``replacement_cost`` what a replacement costs, both
    USD. ``sold`` is the range of calendar years the district bought it in. ``charger`` /
    ``case`` name the accessory model bundled with it (by ``key``). ``prefix`` starts its
    asset tags (``CB-004217``). Accessories have no serial number on file (``serialized``).
    """

    key: str
    manufacturer: str
    name: str
    model_number: str
    category: str
    price: Decimal
    replacement_cost: Decimal
    service_life_months: int
    aue: datetime.date | None
    sold: tuple[int, int]
    weight: float
    prefix: str
    vendor: str
    warranty_months: int = 0
    charger: str = ""
    case: str = ""
    serialized: bool = True


def _d(value: str) -> Decimal:
    return Decimal(value)


_date = datetime.date

MODELS: tuple[ModelSpec, ...] = (
    # Chromebooks (grades 3–12 and the loaner pools).
    ModelSpec("lenovo-100e-g2", "Lenovo", "100e Chromebook Gen 2", "81MA", "chromebook", _d("259.00"), _d("250.00"),
              48, _date(2025, 6, 1), (2018, 2020), 1.0, "CB", "CDW-G", 36, charger="lenovo-45w"),
    ModelSpec("lenovo-300e-g3", "Lenovo", "300e Chromebook Gen 3", "82J9", "chromebook", _d("289.00"), _d("289.00"),
              48, _date(2029, 6, 1), (2021, 2022), 3.0, "CB", "CDW-G", 36, charger="lenovo-45w"),
    ModelSpec("acer-spin-511", "Acer", "Chromebook Spin 511 (R753T)", "NX.A8ZAA.001", "chromebook", _d("309.00"),
              _d("325.00"), 60, _date(2030, 6, 1), (2021, 2023), 1.5, "CB", "SHI International", 36,
              charger="acer-45w"),
    ModelSpec("dell-3110", "Dell", "Chromebook 3110", "P33T", "chromebook", _d("299.00"), _d("309.00"), 48,
              _date(2031, 6, 1), (2022, 2024), 1.5, "CB", "Dell Technologies", 36, charger="dell-45w"),
    ModelSpec("hp-fortis-g11", "HP", "Fortis 14 G11 Chromebook", "8M8E0UT", "chromebook", _d("319.00"),
              _d("329.00"), 60, _date(2033, 6, 1), (2023, 2035), 1.5, "CB", "SHI International", 36,
              charger="hp-45w"),
    ModelSpec("lenovo-100e-g4", "Lenovo", "100e Chromebook Gen 4", "83G8", "chromebook", _d("289.00"), _d("289.00"),
              60, _date(2034, 6, 1), (2024, 2035), 2.0, "CB", "CDW-G", 36, charger="lenovo-45w"),
    # iPads (grades K–2).
    ModelSpec("ipad-9", "Apple", "iPad (9th generation) Wi-Fi 32GB", "MK2K3LL/A", "tablet", _d("329.00"),
              _d("329.00"), 60, None, (2020, 2023), 2.0, "IP", "Apple Education", 12, case="maxcases-ipad"),
    ModelSpec("ipad-10", "Apple", "iPad (10th generation) Wi-Fi 64GB", "MPQ03LL/A", "tablet", _d("349.00"),
              _d("349.00"), 60, None, (2023, 2035), 1.5, "IP", "Apple Education", 12, case="logitech-ipad"),
    # Staff laptops.
    ModelSpec("dell-3420", "Dell", "Latitude 3420", "3420", "laptop", _d("749.00"), _d("749.00"), 60, None,
              (2019, 2022), 1.0, "LT", "Dell Technologies", 48),
    ModelSpec("dell-3440", "Dell", "Latitude 3440", "3440", "laptop", _d("799.00"), _d("799.00"), 60, None,
              (2023, 2035), 1.0, "LT", "Dell Technologies", 48),
    ModelSpec("hp-probook-440", "HP", "ProBook 440 G9", "6N178UA", "laptop", _d("849.00"), _d("849.00"), 60, None,
              (2022, 2035), 1.0, "LT", "SHI International", 36),
    # Hotspots (E-Rate / Emergency Connectivity Fund).
    ModelSpec("franklin-t10", "Franklin Wireless", "T10 Mobile Hotspot", "T10", "hotspot", _d("99.00"),
              _d("99.00"), 48, None, (2019, 2022), 1.0, "HS", "T-Mobile for Education", 12),
    ModelSpec("inseego-m3100", "Inseego", "MiFi X PRO 5G (M3100)", "M3100", "hotspot", _d("149.00"),
              _d("149.00"), 48, None, (2022, 2035), 1.0, "HS", "Verizon Wireless", 12),
    # Chargers: one per Chromebook maker, bundled with about half of the Chromebooks.
    ModelSpec("lenovo-45w", "Lenovo", "45W USB-C AC Adapter", "GX20P92529", "charger", _d("29.00"), _d("29.00"),
              48, None, (2000, 2100), 0.0, "CH", "CDW-G", serialized=False),
    ModelSpec("acer-45w", "Acer", "45W USB-C Power Adapter", "NP.ADT0A.078", "charger", _d("32.00"), _d("32.00"),
              48, None, (2000, 2100), 0.0, "CH", "SHI International", serialized=False),
    ModelSpec("dell-45w", "Dell", "45W USB-C AC Adapter", "492-BCVJ", "charger", _d("35.00"), _d("35.00"), 48,
              None, (2000, 2100), 0.0, "CH", "Dell Technologies", serialized=False),
    ModelSpec("hp-45w", "HP", "45W USB-C Power Adapter", "1HE08AA", "charger", _d("35.00"), _d("35.00"), 48,
              None, (2000, 2100), 0.0, "CH", "SHI International", serialized=False),
    # Cases, bundled with most iPads.
    ModelSpec("maxcases-ipad", "Maxcases", "Shell-S Case for iPad 10.2\"", "AP-SSS-IP9-BLK", "case", _d("35.00"),
              _d("35.00"), 48, None, (2000, 2100), 0.0, "CS", "CDW-G", serialized=False),
    ModelSpec("logitech-ipad", "Logitech", "Rugged Folio for iPad (10th gen)", "920-011121", "case", _d("49.00"),
              _d("49.00"), 48, None, (2000, 2100), 0.0, "CS", "Apple Education", serialized=False),
)  # fmt: skip

MODELS_BY_KEY: dict[str, ModelSpec] = {spec.key: spec for spec in MODELS}

#: Namesakes for school names ("Lincoln Middle School", code LIN-MS).
NAMESAKES: tuple[str, ...] = (
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Franklin", "Madison", "Kennedy", "Adams", "Hamilton",
    "Monroe", "Garfield", "Whittier", "Longfellow", "Emerson", "Hawthorne", "Irving", "Edison", "Carver",
    "Douglass", "Tubman", "King", "Parks", "Chavez", "Keller", "Earhart", "Curie", "Sandburg", "Addams",
    "Oak Grove", "Cedar Ridge", "Prairie View", "Willow Creek", "Pine Hill", "Meadowbrook", "Riverside",
    "Lakeview", "Hillcrest", "Sunnyside", "Fairview", "Greenwood", "Maple Valley", "Stony Brook", "Fox Run",
    "Deer Path", "Heritage", "Liberty", "Pioneer", "Eagle Point", "Briarwood", "Spring Lake", "Walnut Hill",
    "Clearwater", "Highland", "Brookside", "Northfield", "Southwood", "Westmont", "Eastgate", "Country Meadows",
    "Indian Trail", "Bluff View", "Rolling Hills", "Timber Ridge", "Harvest Park", "Mill Creek", "Elm Street",
)  # fmt: skip

SCHOOL_KIND_LABEL = {"hs": "High School", "ms": "Middle School", "es": "Elementary School"}
#: Support site names in order; beyond these, regional offices are numbered.
SUPPORT_SITES: tuple[tuple[str, str, str], ...] = (
    ("District Office and Warehouse", "DO", "district_office"),
    ("Central Warehouse", "WH", "warehouse"),
    ("Technology Repair Depot", "RD", "repair_depot"),
)

#: Grade spans per school kind, as CEDS codes in order.
GRADES: dict[str, tuple[str, ...]] = {
    "es": ("KG", "01", "02", "03", "04", "05"),
    "ms": ("06", "07", "08"),
    "hs": ("09", "10", "11", "12"),
}

#: Family language profiles: (key, weight, preferred language, share of guardians preferring it).
LANGUAGE_PROFILES: tuple[tuple[str, float, str, float], ...] = (
    ("en", 0.74, "English", 1.0),
    ("es", 0.16, "Spanish", 0.62),
    ("vi", 0.03, "Vietnamese", 0.55),
    ("pl", 0.02, "Polish", 0.45),
    ("ar", 0.02, "Arabic", 0.55),
    ("zh", 0.015, "Chinese (Mandarin)", 0.55),
    ("so", 0.01, "Somali", 0.6),
    ("ht", 0.005, "Haitian Creole", 0.5),
)

#: Given and family names for profiles Faker's en_US/es_MX pools do not cover.
OTHER_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # profile: (female given, male given, family)
    "vi": (("Linh", "Thao", "Ngoc", "Vy", "Trang", "Huong", "Mai", "Anh", "Thu", "Lan"),
           ("Minh", "Huy", "Khoa", "Bao", "Duc", "Tuan", "Long", "Nam", "Quang", "Phuc"),
           ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Vo", "Phan", "Dang", "Bui", "Do", "Ngo")),
    "pl": (("Zofia", "Julia", "Maja", "Hanna", "Lena", "Alicja", "Natalia", "Oliwia"),
           ("Jakub", "Jan", "Antoni", "Szymon", "Filip", "Kacper", "Mateusz", "Piotr"),
           ("Kowalski", "Nowak", "Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Zielinski", "Mazur")),
    "ar": (("Layla", "Amira", "Fatima", "Mariam", "Noor", "Salma", "Yasmin", "Huda"),
           ("Omar", "Yusuf", "Hassan", "Ali", "Khalid", "Adam", "Ibrahim", "Karim"),
           ("Haddad", "Khalil", "Mansour", "Saleh", "Nasser", "Hamdan", "Aziz", "Darwish")),
    "zh": (("Mei", "Ling", "Xin", "Yan", "Hui", "Jing", "Qing", "Yu"),
           ("Wei", "Jun", "Hao", "Ming", "Lei", "Jian", "Bo", "Tao"),
           ("Chen", "Wang", "Li", "Zhang", "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou")),
    "so": (("Hodan", "Ayaan", "Fadumo", "Hibo", "Sahra", "Ifrah", "Amran", "Ladan"),
           ("Abdi", "Farhan", "Mohamed", "Abdirahman", "Hamza", "Liban", "Said", "Yasin"),
           ("Farah", "Warsame", "Mohamud", "Abdullahi", "Osman", "Jama", "Ali", "Hussein")),
    "ht": (("Widline", "Marie", "Nadege", "Roseline", "Fabiola", "Judith", "Mirlande", "Esther"),
           ("Jean", "Stanley", "Wilson", "Jacques", "Emmanuel", "Frantz", "Reginald", "Ricardo"),
           ("Pierre", "Joseph", "Jean-Baptiste", "Louis", "Charles", "Desir", "Etienne", "Saint-Fleur")),
}  # fmt: skip

#: Nicknames kept as ``preferred_name`` for a few people.
NICKNAMES: dict[str, str] = {
    "William": "Will", "Robert": "Bobby", "Elizabeth": "Liz", "Katherine": "Kate", "Alexander": "Alex",
    "Benjamin": "Ben", "Samuel": "Sam", "Jonathan": "Jon", "Nicholas": "Nick", "Christopher": "Chris",
    "Jennifer": "Jen", "Margaret": "Maggie", "Daniel": "Danny", "Joseph": "Joe", "Michael": "Mike",
    "Victoria": "Tori", "Abigail": "Abby", "Madison": "Maddie", "Matthew": "Matt", "Anthony": "Tony",
    "Alejandro": "Alex", "Guadalupe": "Lupe", "Francisco": "Paco", "Jose": "Pepe",
}  # fmt: skip

#: (relationship, weight) of a student's first and second guardian.
FIRST_GUARDIAN = (("mother", 0.55), ("father", 0.3), ("guardian", 0.07), ("grandmother", 0.05), ("aunt", 0.03))
SECOND_GUARDIAN = (("father", 0.7), ("mother", 0.12), ("stepfather", 0.08), ("grandfather", 0.06), ("uncle", 0.04))

#: What broke, as written on the check-in and the repair status change.
DAMAGE_NOTES: tuple[str, ...] = (
    "Cracked screen", "Cracked screen", "Cracked screen", "Keyboard keys missing", "Trackpad not clicking",
    "Broken hinge", "Charging port loose", "Will not power on", "Liquid spill", "Battery will not hold a charge",
)  # fmt: skip

SCHOOL_LOCATIONS: tuple[tuple[str, str], ...] = (
    ("Main Office", "room"),
    ("Library", "room"),
    ("IT Workroom", "room"),
    ("Loaner Shelf", "shelf"),
    ("Storage Shelf A", "shelf"),
)
SUPPORT_LOCATIONS: tuple[tuple[str, str], ...] = (
    ("Receiving", "room"),
    ("IT Office", "room"),
    ("Repair Bench", "other"),
    ("Warehouse Bay 1", "shelf"),
    ("Warehouse Bay 2", "shelf"),
    ("Warehouse Bay 3", "shelf"),
)

#: Demo logins: (username, role, at the first site?, first name, last name). Password ``demo``.
DEMO_LOGINS: tuple[tuple[str, str, bool, str, str], ...] = (
    ("district-admin", "district_admin", False, "Renee", "Castillo"),
    ("district-tech", "district_technician", False, "Marcus", "Bell"),
    ("site-tech", "site_technician", True, "Priya", "Natarajan"),
    ("principal", "site_administrator", True, "Gloria", "Whitaker"),
    ("auditor", "auditor", False, "Thomas", "Reyes"),
)
DEMO_PASSWORD = "demo"
