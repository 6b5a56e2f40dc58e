"""The course's original star schema, kept as a lesson in grain (do not use it).

The original job keys ``dim_locations`` by postal code and joins facts to
locations on it. In classicmodels a postal code is not a key: 94217 is both
San Francisco and Burlingame, 3004 is in Australia and in Switzerland, and
some customers have none. So the original fact table multiplies the order
lines of customers whose postal code has several locations (revenue counted
twice), and a dashboard that inner-joins locations drops customers without a
postal code (revenue lost). :func:`utils.etl.job.reconcile` catches both.

The SQL below reproduces the original design faithfully, in the same
dialect as our job, so a notebook can build both and compare them.
"""

from __future__ import annotations

from utils.etl.job import StarKeys

ORIGINAL_STAR_SQL: dict[str, str] = {
    "dim_customers": """
SELECT customerNumber, customerName, contactLastName, contactFirstName, phone,
       addressLine1, addressLine2, creditLimit
FROM customers
ORDER BY customerNumber
""",
    "dim_products": """
SELECT p.productCode, p.productName, p.productLine, p.productScale, p.productVendor,
       p.productDescription, pl.textDescription AS productLineDescription
FROM products AS p
LEFT JOIN productlines AS pl ON pl.productLine = p.productLine
ORDER BY p.productCode
""",
    "dim_locations": """
SELECT DISTINCT postalCode, city, state, country
FROM customers
ORDER BY postalCode, city, state, country
""",
    # orders LEFT JOIN orderdetails LEFT JOIN products LEFT JOIN customers
    # LEFT JOIN (distinct locations) USING (postalCode): the defect is the last join.
    "fact_orders": """
SELECT od.orderLineNumber, o.orderNumber, o.customerNumber, c.postalCode, od.productCode,
       o.orderDate, o.requiredDate, o.shippedDate, o.status, o.comments,
       od.quantityOrdered, od.priceEach,
       od.quantityOrdered * od.priceEach AS orderAmount,
       p.buyPrice, p.MSRP
FROM orders AS o
LEFT JOIN orderdetails AS od ON od.orderNumber = o.orderNumber
LEFT JOIN products AS p ON p.productCode = od.productCode
LEFT JOIN customers AS c ON c.customerNumber = o.customerNumber
LEFT JOIN (SELECT DISTINCT postalCode, city, state, country FROM customers) AS l
       ON l.postalCode = c.postalCode
ORDER BY o.orderNumber, od.orderLineNumber
""",
}

# How the original star connects: locations by postal code (not a key).
ORIGINAL_KEYS = StarKeys(
    dimension_keys={"dim_customers": "customerNumber", "dim_products": "productCode",
                    "dim_locations": "postalCode"},
    fact_keys={"customerNumber": ("dim_customers", "customerNumber"),
               "productCode": ("dim_products", "productCode"),
               "postalCode": ("dim_locations", "postalCode")},
    location_key="postalCode",
)
