"""A deterministic, seeded generator of classicmodels data at any scale factor.

Scale factor 1 is the size of the public sample database (122 customers, 326
orders, ~3,000 order lines, 273 payments); customers, orders, order lines and
payments grow linearly with ``sf``, while the catalogue and the company
(7 product lines, 110 products, 7 offices, 23 employees) stay fixed, as in a
real business that sells more of the same products.

The data keeps the real-world quirks that make the public sample a good
teaching source, on purpose:

- ``state`` is NULL outside the USA, Canada, Australia and Japan;
- some postal codes are NULL (Hong Kong, New Zealand, part of Ireland);
- the SAME postal code belongs to different cities (94217: San Francisco and
  Burlingame; 97562: San Rafael CA and Bridgewater CT) and even to different
  countries (3004: Melbourne and Bern; 2060: North Sydney and Antwerpen), so
  postal code is not a location key;
- a few values carry stray spaces ("Norway  ", "Auckland  ", " 530-0003"), as in
  the public data;
- open or cancelled orders (In Process, On Hold, Cancelled) have no shipped
  date; disputed and resolved orders were shipped (a dispute follows delivery);
- customers without a sales rep (NULL ``salesRepEmployeeNumber``) have a zero
  credit limit and never ordered; a few other customers never ordered either;
- free-text fields contain quotes, semicolons, tabs, newlines and backslashes.

Everything is vectorised with numpy/pyarrow (the per-row Python work is on the
customer table only), so SF1000 (3 million order lines) takes seconds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from utils.classicmodels.schema import TABLES, arrow_schema

DEFAULT_SEED = 42

# Row counts of the public sample (scale factor 1).
SF1_ROWS = {"customers": 122, "orders": 326, "orderdetails": 2996, "payments": 273}
FIXED_ROWS = {"productlines": 7, "products": 110, "offices": 7, "employees": 23}

FIRST_ORDER_DATE = dt.date(2003, 1, 6)
LAST_ORDER_DATE = dt.date(2005, 5, 31)

# (productLine, number of products, scale choices, description)
_PRODUCT_LINES = [
    ("Classic Cars", 38, ["1:10", "1:12", "1:18", "1:24"],
     "Die-cast replicas of the great cars of the 1940s to the 1970s; opening doors, "
     "working steering and detailed engines."),
    ("Motorcycles", 13, ["1:10", "1:12", "1:18", "1:24", "1:32"],
     "Motorcycle models from classic cruisers to racing bikes; chrome parts, "
     "rubber tyres and a \"kickstand\" that really works."),
    ("Planes", 12, ["1:18", "1:24", "1:72"],
     "Airliners, fighters and barnstormers; each model ships with a display stand."),
    ("Ships", 9, ["1:72", "1:700"],
     "Sailing ships, ocean liners and warships, hand-rigged where it matters."),
    ("Trains", 3, ["1:18", "1:32", "1:50"],
     "Steam and diesel locomotives with tenders and rolling stock."),
    ("Trucks and Buses", 11, ["1:12", "1:18", "1:24", "1:32", "1:50"],
     "Delivery vans, fire engines, pickups and buses; the working vehicles of the century."),
    ("Vintage Cars", 24, ["1:18", "1:24", "1:32", "1:50"],
     "Cars from before 1940: tourers, roadsters and limousines; collectors' favourites."),
]
_MAKES = ["Ford", "Chevrolet", "Dodge", "Buick", "Cadillac", "Pontiac", "Plymouth", "Mercedes",
          "Jaguar", "Alfa Romeo", "Porsche", "Ferrari", "Citroen", "Renault", "Bentley", "Packard"]
_CAR_MODELS = ["Roadster", "Coupe", "Convertible", "Sedan", "Spider", "Tourer", "Limousine",
               "Speedster", "Wagon", "Grand Prix"]
_LINE_NOUNS = {
    "Motorcycles": (["Harley Davidson", "Triumph", "BMW", "Ducati", "Honda", "Indian"],
                    ["Chopper", "Racer", "Cruiser", "Scrambler", "Bobber"]),
    "Planes": (["Boeing", "Douglas", "Lockheed", "Spitfire", "Corsair", "Piper"],
               ["Airliner", "Fighter", "Biplane", "Transport", "Seaplane"]),
    "Ships": (["HMS", "USS", "SS", "Schooner", "Clipper"],
              ["Bounty", "Endeavour", "Mayflower", "Victory", "Atlantic"]),
    "Trains": (["Union Pacific", "Santa Fe", "Royal Scot"], ["Locomotive", "Tender", "Caboose"]),
    "Trucks and Buses": (["Ford", "Chevrolet", "Mack", "Volkswagen", "Dodge"],
                         ["Pickup", "Fire Engine", "Delivery Van", "School Bus", "Tanker"]),
}
_FEATURES = ["opening doors", "a detailed engine", "rubber tires", "a removable top", "hand-painted trim"]
_EXTRAS = ["a display base", "a certificate of authenticity", "working suspension"]
_VENDORS = ["Northwind Scale Works", "Gearhead Replicas", "Minimax Models", "Tin Soldier Co.",
            "Precision Pewter", "Harbor Hobby", "Alpine Miniatures", "Crown Diecast",
            "Velvet Gear", "Blue Ridge Replicas", "Silver Arrow Collectibles", "Keystone Kits",
            "Orbit Scale Models"]

# officeCode, city, state, country, postalCode, territory, phone, addressLine1, addressLine2
_OFFICES = [
    ("1", "San Francisco", "CA", "USA", "94080", "NA", "+1 650 219 4782", "100 Market Street", "Suite 300"),
    ("2", "Boston", "MA", "USA", "02107", "NA", "+1 215 837 0825", "1550 Court Place", "Suite 102"),
    ("3", "NYC", "NY", "USA", "10022", "NA", "+1 212 555 3000", "523 East 53rd Street", "apt. 5A"),
    ("4", "Paris", None, "France", "75017", "EMEA", "+33 14 723 4404", "43 Rue Jouffroy D'abbans", None),
    ("5", "Tokyo", "Chiyoda-Ku", "Japan", "102-8578", "Japan", "+81 33 224 5000", "4-1 Kioicho", None),
    ("6", "Sydney", "NSW", "Australia", "NSW 2010", "APAC", "+61 2 9264 2451", "5-11 Wentworth Avenue",
     "Floor #2"),
    ("7", "London", None, "UK", "EC2N 1HN", "EMEA", "+44 20 7877 2041", "25 Old Broad Street", "Level 7"),
]
# Sales reps per office (the rest of the 23 employees are managers).
_REPS_PER_OFFICE = {"1": 2, "2": 2, "3": 2, "4": 3, "5": 1, "6": 3, "7": 3}
_FIRST_NAMES = ["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
                "Keiko", "Liam", "Maren", "Nadia", "Oskar", "Paula", "Quentin", "Rosa", "Sven",
                "Tomas", "Ursula", "Viktor", "Wanda", "Xavier", "Yara", "Zeno"]
_LAST_NAMES = ["Abbott", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallo", "Hayes",
               "Ibarra", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "O'Neill", "Petrov",
               "Quinn", "Rossi", "Schulz", "Tanaka", "Urquhart", "Vidal", "Weber", "Young"]

# Customer addresses: (city, state, postalCode, country, territory). Several
# quirks are deliberate; see the module docstring. Weight: public-sample share.
_ADDRESSES = [
    ("San Francisco", "CA", "94217", "USA"), ("Burlingame", "CA", "94217", "USA"),
    ("San Rafael", "CA", "97562", "USA"), ("Bridgewater", "CT", "97562", "USA"),
    ("NYC", "NY", "10022", "USA"), ("Brickhaven", "MA", "58339", "USA"),
    ("Cambridge", "MA", "51247", "USA"), ("Pasadena", "CA", "90003", "USA"),
    ("Las Vegas", "NV", "83030", "USA"), ("Allentown", "PA", "70267", "USA"),
    ("New Haven", "CT", "97823", "USA"), ("Glendale", "CA", "92561", "USA"),
    ("Philadelphia", "PA", "71270", "USA"), ("Boston", "MA", "51003", "USA"),
    ("Nashua", "NH", "62005", "USA"), ("Newark", "NJ", "94019", "USA"),
    ("Vancouver", "BC", "V3F 2K1", "Canada"), ("Montréal", "Québec", "H1J 1C3", "Canada"),
    ("Tsawassen", "BC", "T2F 8M4", "Canada"),
    ("Melbourne", "Victoria", "3004", "Australia"), ("North Sydney", "NSW", "2060", "Australia"),
    ("Chatswood", "NSW", "2067", "Australia"), ("South Brisbane", "Queensland", "4101", "Australia"),
    ("Kita-ku", "Osaka", " 530-0003", "Japan"), ("Minato-ku", "Tokyo", "106-0032", "Japan"),
    ("Nantes", None, "44000", "France"), ("Paris", None, "75012", "France"),
    ("Paris", None, "75016", "France"), ("Lyon", None, "69004", "France"),
    ("Lille", None, "59000", "France"), ("Strasbourg", None, "67000", "France"),
    ("Toulouse", None, "31000", "France"), ("Marseille", None, "13008", "France"),
    ("Frankfurt", None, "60528", "Germany"), ("Köln", None, "50739", "Germany"),
    ("Berlin", None, "12209", "Germany"), ("München", None, "80805", "Germany"),
    ("Stuttgart", None, "70563", "Germany"),
    ("Madrid", None, "28034", "Spain"), ("Madrid", None, "28001", "Spain"),
    ("Barcelona", None, "08022", "Spain"),
    ("Torino", None, "10100", "Italy"), ("Bergamo", None, "24100", "Italy"),
    ("Manchester", None, "EC2 5NT", "UK"), ("Liverpool", None, "WX1 6LT", "UK"),
    ("London", None, "WX3 6FW", "UK"),
    ("Stavern", None, "4110", "Norway"), ("Bergen", None, "N 5804", "Norway  "),
    ("Oslo", None, "N 0106", "Norway  "),
    ("Auckland  ", None, None, "New Zealand"), ("Wellington", None, None, "New Zealand"),
    ("Central Hong Kong", None, None, "Hong Kong"),
    ("Dublin", None, "2", "Ireland"), ("Cork", None, None, "Ireland"),
    ("Fribourg", None, "1700", "Switzerland"), ("Genève", None, "1203", "Switzerland"),
    ("Bern", None, "3004", "Switzerland"),
    ("Kobenhavn", None, "1734", "Denmark"), ("Århus", None, "8200", "Denmark"),
    ("Helsinki", None, "21240", "Finland"), ("Espoo", None, "FIN-02271", "Finland"),
    ("Singapore", None, "079903", "Singapore"), ("Singapore", None, "069045", "Singapore"),
    ("Lisboa", None, "1756", "Portugal"), ("Bruxelles", None, "B-1180", "Belgium"),
    ("Antwerpen", None, "2060", "Belgium"), ("Salzburg", None, "5020", "Austria"),
    ("Luleå", None, "S-958 22", "Sweden"), ("Warszawa", None, "01-012", "Poland"),
    ("Amsterdam", None, "1043 GR", "Netherlands"), ("Makati City", None, "1227 MM", "Philippines"),
    ("Hatfield", None, "0028", "South Africa"),
]
# Customers per country in the public sample: drives the country mix.
_COUNTRY_WEIGHT = {
    "USA": 36, "Germany": 13, "France": 12, "Spain": 7, "Australia": 5, "UK": 5, "New Zealand": 4,
    "Italy": 4, "Finland": 3, "Singapore": 3, "Canada": 3, "Switzerland": 3, "Norway": 3,
    "Denmark": 2, "Portugal": 2, "Japan": 2, "Belgium": 2, "Ireland": 2, "Sweden": 2, "Austria": 1,
    "Hong Kong": 1, "Netherlands": 1, "Philippines": 1, "Poland": 1, "South Africa": 1,
}
_TERRITORY = {"USA": "NA", "Canada": "NA", "Japan": "Japan", "Australia": "APAC",
              "New Zealand": "APAC", "Singapore": "APAC", "Hong Kong": "APAC", "Philippines": "APAC"}
# Addresses every data set contains, whatever its size: they carry the quirks.
_QUIRK_ADDRESSES = [0, 1, 2, 3, 19, 56, 20, 66, 49, 51, 47, 23]

_NAME_WORDS = (["Mini", "Classic", "Royal", "Euro", "Diecast", "Vintage", "Urban", "Golden",
                "Atlantic", "Alpine", "Corner", "Heritage", "Model", "Toy", "Scale"],
               ["Gifts", "Collectables", "Replicas", "Imports", "Souvenirs", "Models", "Toys",
                "Treasures", "Designs", "Wheels", "Classics", "Decors"],
               ["Co.", "Inc.", "Ltd.", "& Co", "Network", "Exchange", "Distributors", "Store"])
_STREETS = ["Strong St.", "Furth Circle", "Pompton St.", "rue Royale", "Spinnaker Dr.",
            "Hillside Dr.", "Douglas Av.", "Long Airport Avenue", "Hauptstr.", "Gran Vía",
            "Berliner Platz", "Via Monte Bianco", "rue de l'Abbaye", "Kingsfordweg"]
_ADDRESS_LINE2 = ["Suite 101", "Level 3", "Floor No. 4", "PO Box 17", "2nd Floor"]
_COMMENTS = [
    "Check on availability.",
    "Customer requested that DHL is used for this shipping",
    'Customer says: "ship ASAP; we\'re out of stock"',
    "Difficult to negotiate with customer. We need more marketing materials",
    "Customer credit limit exceeded. Will ship when a payment is received",
    "Order was disputed; resolved on credit.\nCustomer agreed to pay the difference.",
    "Customer cancelled due to a\tlate delivery",
    "Invoice ref: C:\\orders\\2004\\inv.pdf",
    "Can we deliver before Christmas?",
    "They want to reevaluate their terms agreement with Finance.",
]
_STATUSES = np.array(["Shipped", "Resolved", "Disputed", "Cancelled", "In Process", "On Hold"])
_STATUS_P = np.array([303, 4, 3, 6, 6, 4], dtype=float) / 326
_SHIPPED_STATUSES = {"Shipped", "Resolved", "Disputed"}


def rows_for(sf: float) -> dict[str, int]:
    """Row counts per table at scale factor ``sf`` (order lines are exact: 2,996 x sf)."""
    if sf <= 0:
        raise ValueError(f"scale factor must be positive, got {sf}")
    counts = {name: max(1, round(n * sf)) for name, n in SF1_ROWS.items()}
    return {**FIXED_ROWS, **counts}


def generate(sf: float = 1, seed: int = DEFAULT_SEED) -> dict[str, pa.Table]:
    """Generate all eight tables at scale factor ``sf``; same ``(sf, seed)``, same data.

    Returns Arrow tables keyed by table name (parents first), each matching
    :func:`utils.classicmodels.schema.arrow_schema`.
    """
    counts = rows_for(sf)
    fixed = np.random.default_rng([seed, 0])  # catalogue and company: independent of sf
    varying = np.random.default_rng([seed, 1, round(sf * 1_000_000)])
    productlines, products = _catalogue(fixed)
    offices, employees = _company(fixed)
    customers = _customers(varying, counts["customers"], employees)
    orders, orderdetails = _orders(varying, counts, customers, products)
    payments = _payments(varying, counts["payments"], customers, orders)
    tables = {
        "productlines": productlines, "products": products, "offices": offices,
        "employees": employees, "customers": customers, "orders": orders,
        "orderdetails": orderdetails, "payments": payments,
    }
    return {name: tables[name].cast(arrow_schema(name)) for name in TABLES}


def _cents(values: np.ndarray) -> pa.Array:
    """Integer cents -> decimal(10,2) (via float: exact for the magnitudes used here)."""
    return pa.array(np.asarray(values, dtype=np.int64) / 100).cast(pa.decimal128(10, 2))


def _dates(day_offsets: np.ndarray, start: dt.date = FIRST_ORDER_DATE) -> pa.Array:
    epoch = (start - dt.date(1970, 1, 1)).days
    return pa.array(np.asarray(day_offsets, dtype=np.int32) + epoch, pa.int32()).cast(pa.date32())


def _catalogue(rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    lines, codes, names, line_of, scales, vendors, descriptions = [], [], [], [], [], [], []
    numbers = rng.choice(np.arange(1000, 5000), size=sum(n for _, n, _, _ in _PRODUCT_LINES),
                         replace=False)
    i = 0
    for line, count, line_scales, text in _PRODUCT_LINES:
        lines.append((line, text))
        makes, models = _LINE_NOUNS.get(line, (_MAKES, _CAR_MODELS))
        seen: set[str] = set()
        for _ in range(count):
            scale = line_scales[int(rng.integers(len(line_scales)))]
            year = int(rng.integers(1900 if line != "Classic Cars" else 1948, 1975))
            name = f"{year} {makes[int(rng.integers(len(makes)))]} {models[int(rng.integers(len(models)))]}"
            while name in seen:  # names are unique within a line, as in a real catalogue
                name = f"{name} II"
            seen.add(name)
            codes.append(f"S{scale.split(':')[1]}_{numbers[i]}")
            names.append(name)
            line_of.append(line)
            scales.append(scale)
            vendors.append(_VENDORS[int(rng.integers(len(_VENDORS)))])
            feature = _FEATURES[int(rng.integers(len(_FEATURES)))]
            extra = _EXTRAS[int(rng.integers(len(_EXTRAS)))]
            descriptions.append(f"This {scale} replica of the {name} features {feature} and {extra}.")
            i += 1
    productlines = pa.table({
        "productLine": [name for name, _ in lines],
        "textDescription": [text for _, text in lines],
        "htmlDescription": pa.nulls(len(lines), pa.string()),
        "image": pa.nulls(len(lines), pa.binary()),
    })
    n = len(codes)
    buy_cents = rng.integers(1500, 10500, n)
    msrp_cents = (buy_cents * rng.uniform(1.4, 2.3, n)).round().astype(np.int64)
    products = pa.table({
        "productCode": codes, "productName": names, "productLine": line_of,
        "productScale": scales, "productVendor": vendors, "productDescription": descriptions,
        "quantityInStock": pa.array(rng.integers(0, 9998, n).astype(np.int16)),
        "buyPrice": _cents(buy_cents), "MSRP": _cents(msrp_cents),
    })
    return productlines, products


def _company(rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    offices = pa.table({
        "officeCode": [o[0] for o in _OFFICES], "city": [o[1] for o in _OFFICES],
        "phone": [o[6] for o in _OFFICES], "addressLine1": [o[7] for o in _OFFICES],
        "addressLine2": [o[8] for o in _OFFICES], "state": [o[2] for o in _OFFICES],
        "country": [o[3] for o in _OFFICES], "postalCode": [o[4] for o in _OFFICES],
        "territory": [o[5] for o in _OFFICES],
    })
    # President, two VPs, four sales managers, then the sales reps per office.
    staff = [(1002, "1", None, "President"), (1056, "1", 1002, "VP Sales"),
             (1076, "1", 1002, "VP Marketing"), (1088, "6", 1056, "Sales Manager (APAC)"),
             (1102, "4", 1056, "Sale Manager (EMEA)"), (1143, "1", 1056, "Sales Manager (NA)"),
             (1621, "5", 1056, "Sales Manager (Japan)")]
    manager = {"NA": 1143, "EMEA": 1102, "APAC": 1088, "Japan": 1621}
    territory = {o[0]: o[5] for o in _OFFICES}
    number = 1165
    for office, reps in _REPS_PER_OFFICE.items():
        for _ in range(reps):
            staff.append((number, office, manager[territory[office]], "Sales Rep"))
            number += int(rng.integers(11, 60))
    first = rng.choice(_FIRST_NAMES, size=len(staff), replace=False)
    last = rng.choice(_LAST_NAMES, size=len(staff), replace=False)
    employees = pa.table({
        "employeeNumber": [s[0] for s in staff],
        "lastName": last.tolist(), "firstName": first.tolist(),
        "extension": [f"x{int(x)}" for x in rng.integers(100, 9999, len(staff))],
        "email": [f"{f[0].lower()}{ln.lower().replace(chr(39), '')}@classicmodelcars.com"
                  for f, ln in zip(first, last, strict=True)],
        "officeCode": [s[1] for s in staff], "reportsTo": [s[2] for s in staff],
        "jobTitle": [s[3] for s in staff],
    })
    return offices, employees


def _customers(rng: np.random.Generator, n: int, employees: pa.Table) -> pa.Table:
    weights = np.array([_COUNTRY_WEIGHT[a[3].strip()] for a in _ADDRESSES], dtype=float)
    per_country = {}
    for a in _ADDRESSES:
        per_country[a[3].strip()] = per_country.get(a[3].strip(), 0) + 1
    weights /= np.array([per_country[a[3].strip()] for a in _ADDRESSES])
    address = rng.choice(len(_ADDRESSES), size=n, p=weights / weights.sum())
    k = min(n, len(_QUIRK_ADDRESSES))  # the quirks exist at every size
    address[rng.choice(n, size=k, replace=False)] = _QUIRK_ADDRESSES[:k]

    # Sales rep: one from the customer's territory; none (and zero credit) for ~18%.
    reps = employees.filter(pc.equal(employees["jobTitle"], "Sales Rep"))
    office_territory = {o[0]: o[5] for o in _OFFICES}
    rep_numbers = np.array(reps["employeeNumber"].to_pylist())
    rep_territory = np.array([office_territory[o] for o in reps["officeCode"].to_pylist()])
    territory = np.array([_TERRITORY.get(_ADDRESSES[i][3].strip(), "EMEA") for i in address])
    rep = np.zeros(n, dtype=np.int64)
    for name in np.unique(territory):
        mask = territory == name
        pool = rep_numbers[rep_territory == name]
        rep[mask] = pool[rng.integers(0, len(pool), mask.sum())]
    no_rep = rng.random(n) < 0.18
    if n >= 3:
        no_rep[:2] = [False, True]  # at least one customer without a rep...
    credit = (rng.integers(100, 2300, n) * 10_000).astype(np.int64)  # cents: 10k..230k
    credit[no_rep] = 0
    zero_with_rep = (~no_rep) & (rng.random(n) < 0.02)
    if n >= 3:
        zero_with_rep[2] = True  # ...and one with a rep but a zero credit limit
    credit[zero_with_rep] = 0

    numbers = 103 + np.concatenate([[0], np.cumsum(rng.integers(1, 7, n - 1))])
    w1, w2, w3 = (rng.integers(0, len(words), n) for words in _NAME_WORDS)
    apostrophe = rng.random(n) < 0.05  # names like "Kelly's Gift Shop"
    last = rng.integers(0, len(_LAST_NAMES), n)
    first = rng.integers(0, len(_FIRST_NAMES), n)
    names = [
        (f"{_LAST_NAMES[last[i]]}'s {_NAME_WORDS[1][w2[i]]}" if apostrophe[i]
         else f"{_NAME_WORDS[0][w1[i]]} {_NAME_WORDS[1][w2[i]]} {_NAME_WORDS[2][w3[i]]}")
        for i in range(n)
    ]
    trailing = rng.random(n) < 0.15  # contact first names with a trailing space, as in the sample
    phone_digits = rng.integers(1_000_000_000, 9_999_999_999, n)
    street_no = rng.integers(1, 99_999, n)
    street = rng.integers(0, len(_STREETS), n)
    line2 = rng.integers(0, len(_ADDRESS_LINE2), n)
    has_line2 = rng.random(n) < 0.18
    return pa.table({
        "customerNumber": numbers.astype(np.int32),
        "customerName": [s[:50] for s in names],
        "contactLastName": [_LAST_NAMES[i] for i in last],
        "contactFirstName": [_FIRST_NAMES[f] + (" " if t else "")
                             for f, t in zip(first, trailing, strict=True)],
        "phone": [str(p) for p in phone_digits],
        "addressLine1": [f"{street_no[i]} {_STREETS[street[i]]}" for i in range(n)],
        "addressLine2": [_ADDRESS_LINE2[line2[i]] if has_line2[i] else None for i in range(n)],
        "city": [_ADDRESSES[i][0] for i in address],
        "state": [_ADDRESSES[i][1] for i in address],
        "postalCode": [_ADDRESSES[i][2] for i in address],
        "country": [_ADDRESSES[i][3] for i in address],
        "salesRepEmployeeNumber": pa.array(rep, mask=no_rep).cast(pa.int32()),
        "creditLimit": _cents(credit),
    })


def _orders(
    rng: np.random.Generator, counts: dict[str, int], customers: pa.Table, products: pa.Table
) -> tuple[pa.Table, pa.Table]:
    n_orders, n_lines = counts["orders"], counts["orderdetails"]
    n_products = products.num_rows

    # Who orders: customers with a sales rep, minus ~2% who never did. Each
    # active customer orders at least once (when there are enough orders), the
    # rest follow a skewed demand (a few big accounts, many small ones).
    numbers = customers["customerNumber"].to_numpy()
    active = ~customers["salesRepEmployeeNumber"].is_null().to_numpy(zero_copy_only=False)
    dormant = rng.random(len(numbers)) < 0.02
    if len(numbers) >= 4:
        dormant[3] = True  # a customer with a sales rep who never ordered
    active &= ~dormant
    if not active.any():
        active[0] = True
    buyers = numbers[active]
    demand = rng.lognormal(0, 0.8, len(buyers))
    first_round = buyers[rng.permutation(len(buyers))][: min(len(buyers), n_orders)]
    rest = rng.choice(buyers, size=n_orders - len(first_round), p=demand / demand.sum())
    order_customer = np.concatenate([first_round, rest])
    rng.shuffle(order_customer)

    span = (LAST_ORDER_DATE - FIRST_ORDER_DATE).days
    order_day = np.sort(rng.integers(0, span + 1, n_orders))
    status = rng.choice(len(_STATUSES), size=n_orders, p=_STATUS_P)
    if n_orders >= len(_STATUSES):  # every status exists at every size
        status[rng.choice(n_orders, size=len(_STATUSES), replace=False)] = np.arange(len(_STATUSES))
    shipped = np.isin(_STATUSES[status], list(_SHIPPED_STATUSES))
    ship_day = order_day + rng.integers(1, 7, n_orders)
    has_comment = rng.random(n_orders) < 0.25
    comment_index = rng.integers(0, len(_COMMENTS), n_orders)
    order_numbers = (10100 + np.arange(n_orders)).astype(np.int32)
    orders = pa.table({
        "orderNumber": order_numbers,
        "orderDate": _dates(order_day),
        "requiredDate": _dates(order_day + rng.integers(5, 11, n_orders)),
        "shippedDate": pa.array(ship_day.astype(np.int32) + (FIRST_ORDER_DATE - dt.date(1970, 1, 1)).days,
                                mask=~shipped).cast(pa.date32()),
        "status": pc.take(pa.array(_STATUSES), pa.array(status)),
        "comments": pc.if_else(pa.array(has_comment), pc.take(pa.array(_COMMENTS), pa.array(comment_index)),
                               pa.nulls(n_orders, pa.string())),
        "customerNumber": order_customer.astype(np.int32),
    })

    # Lines per order: 1..17 (mean ~9), then nudged so the total is exact.
    max_lines = min(17, n_products)
    per_order = rng.integers(1, max_lines + 1, n_orders)
    target = max(n_orders, min(n_lines, n_orders * max_lines))
    while (diff := target - int(per_order.sum())) != 0:
        room = per_order < max_lines if diff > 0 else per_order > 1
        candidates = np.flatnonzero(room)
        pick = rng.choice(candidates, size=min(abs(diff), len(candidates)), replace=False)
        per_order[pick] += 1 if diff > 0 else -1

    # Distinct products within an order: start + j * step (mod n) with a step
    # coprime to n visits distinct products for j < n.
    steps = np.array([s for s in range(1, n_products) if np.gcd(s, n_products) == 1] or [1])
    line_order = np.repeat(np.arange(n_orders), per_order)
    starts = np.cumsum(per_order) - per_order
    j = np.arange(len(line_order)) - np.repeat(starts, per_order)
    start = rng.integers(0, n_products, n_orders)[line_order]
    step = steps[rng.integers(0, len(steps), n_orders)][line_order]
    product = (start + j * step) % n_products
    msrp_cents = (np.array(products["MSRP"].cast(pa.float64()).to_numpy()) * 100).round().astype(np.int64)
    price_cents = (msrp_cents[product] * rng.uniform(0.82, 1.0, len(product))).round().astype(np.int64)
    orderdetails = pa.table({
        "orderNumber": order_numbers[line_order],
        "productCode": pc.take(products["productCode"], pa.array(product)),
        "quantityOrdered": rng.integers(10, 67, len(product)).astype(np.int32),
        "priceEach": _cents(price_cents),
        "orderLineNumber": (j + 1).astype(np.int16),
    })
    return orders, orderdetails


def _payments(rng: np.random.Generator, n: int, customers: pa.Table, orders: pa.Table) -> pa.Table:
    buyers, order_counts = np.unique(orders["customerNumber"].to_numpy(), return_counts=True)
    first_round = buyers[: min(len(buyers), n)]
    rest = rng.choice(buyers, size=n - len(first_round), p=order_counts / order_counts.sum())
    payer = np.concatenate([first_round, rest])
    # Check numbers: two letters + six digits, unique overall (7919 is prime and
    # coprime to 900000, so i -> i * 7919 mod 900000 never repeats).
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    prefix = np.char.add(letters[rng.integers(0, len(letters), n)], letters[rng.integers(0, len(letters), n)])
    digits = (100_000 + (np.arange(n, dtype=np.int64) * 7919) % 900_000).astype(str)
    span = (LAST_ORDER_DATE - FIRST_ORDER_DATE).days + 30
    return pa.table({
        "customerNumber": payer.astype(np.int32),
        "checkNumber": np.char.add(prefix, digits).tolist(),
        "paymentDate": _dates(rng.integers(10, span, n)),
        "amount": _cents(rng.integers(100_000, 12_000_000, n)),
    })
