"""Serving beyond dashboards: nearest-neighbour search for ML, and picking a dashboard tool.

Vector search. A model turns each item (a product, a document, an image) into a vector,
its *embedding*, so that similar items get vectors pointing in similar directions. Serving
"items like this one" is then a nearest-neighbour search: :func:`nearest_neighbours` is the
exact (brute-force) version, comparing the query with every vector. A vector database
stores the vectors with their ids and metadata and builds an *index* so that it compares
the query with only a small part of them; :class:`IVFIndex` is the simplest such index
(an inverted file: vectors grouped around centroids, only the nearest groups searched),
which trades a little recall for much less work, the trade every vector database makes.

Dashboards. :data:`DASHBOARD_TOOLS` records facts about Amazon QuickSight, Apache
Superset and Metabase that decide between them, and :func:`pick_dashboard_tool` keeps the
tools that meet every hard requirement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# --- embeddings of the classicmodels products ---------------------------------------------------

PRODUCTS_SQL = (
    "SELECT productCode, productName, productLine, productScale, buyPrice "
    "FROM products ORDER BY productCode"
)
"""The columns the hand-made product embeddings are built from (read-only query)."""


def product_embeddings(products: Sequence[Mapping[str, Any]]) -> tuple[list[str], np.ndarray]:
    """``(names, vectors)``: one small vector per product, built from its catalogue facts.

    A real embedding comes from a model (a text or image encoder) and has hundreds of
    dimensions; this one is made by hand so you can read it: one dimension per product
    line (1 for the product's line), plus its scale and price, each standardised.
    Products of the same line, scale and price point end up pointing the same way.
    """
    if not products:
        raise ValueError("No products: check the query returned rows.")
    lines = sorted({p["productLine"] for p in products})
    scales = np.array([math.log(float(str(p["productScale"]).split(":")[1])) for p in products])
    prices = np.array([math.log(float(p["buyPrice"])) for p in products])

    def standardised(values: np.ndarray) -> np.ndarray:
        spread = values.std()
        return (values - values.mean()) / spread if spread else values * 0

    one_hot = np.array([[1.0 if p["productLine"] == line else 0.0 for line in lines] for p in products])
    vectors = np.column_stack([one_hot * 2.0, standardised(scales), standardised(prices)])
    return [str(p["productName"]) for p in products], vectors


def cosine_similarities(query: Sequence[float], vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``query`` with each row of ``vectors`` (1 = same direction)."""
    matrix = np.asarray(vectors, dtype=float)
    q = np.asarray(query, dtype=float)
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        sims = matrix @ q / norms
    return np.where(norms > 0, sims, -1.0)  # a zero vector points nowhere: least similar


def nearest_neighbours(query: Sequence[float], vectors: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` rows most similar to ``query`` by cosine, most similar first (exact search)."""
    if k < 1:
        raise ValueError("k must be at least 1.")
    sims = cosine_similarities(query, vectors)
    return [int(i) for i in np.argsort(-sims, kind="stable")[:k]]


@dataclass
class IVFIndex:
    """An inverted-file index: vectors grouped around ``lists`` centroids (a few k-means rounds).

    ``search`` compares the query with the centroids, then only with the vectors of the
    ``probe`` nearest groups: what a vector database's ANN index does, in miniature.
    """

    vectors: np.ndarray
    lists: int = 6
    rounds: int = 10

    def __post_init__(self) -> None:
        data = self._unit(np.asarray(self.vectors, dtype=float))
        if not 1 <= self.lists <= len(data):
            raise ValueError("lists must be between 1 and the number of vectors.")
        # Deterministic start: evenly spaced rows, then plain k-means on the unit sphere.
        centroids = data[np.linspace(0, len(data) - 1, self.lists).astype(int)].copy()
        for _ in range(self.rounds):
            assignment = np.argmax(data @ centroids.T, axis=1)
            for c in range(self.lists):
                members = data[assignment == c]
                if len(members):
                    centroids[c] = self._unit(members.mean(axis=0, keepdims=True))[0]
        self.centroids = centroids
        self.assignment = np.argmax(data @ centroids.T, axis=1)

    @staticmethod
    def _unit(matrix: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms > 0, norms, 1.0)

    def search(self, query: Sequence[float], k: int, probe: int = 1) -> tuple[list[int], int]:
        """``(indices, compared)``: the ``k`` best rows found, and how many vectors were compared."""
        q = np.asarray(query, dtype=float)
        groups = np.argsort(-(self.centroids @ q), kind="stable")[:probe]
        candidates = np.flatnonzero(np.isin(self.assignment, groups))
        sims = cosine_similarities(q, np.asarray(self.vectors, dtype=float)[candidates])
        best = candidates[np.argsort(-sims, kind="stable")[:k]]
        return [int(i) for i in best], len(candidates) + len(self.centroids)


def recall_at_k(found: Sequence[int], exact: Sequence[int]) -> float:
    """Share of the exact ``k`` nearest neighbours that an approximate search found."""
    return len(set(found) & set(exact)) / len(exact) if exact else 1.0


# --- dashboard tools ------------------------------------------------------------------------------

DASHBOARD_TOOLS: dict[str, dict[str, Any]] = {
    "Amazon QuickSight": {
        "licence": "proprietary (pay per user or per session)",
        "open source": False,
        "an AWS service (IAM sign-in, nothing to install)": True,
        "you can run it on your own servers": False,
        "one container is a complete install": False,
        "permissive licence (ship modified code without publishing it)": False,
    },
    "Apache Superset": {
        "licence": "Apache 2.0",
        "open source": True,
        "an AWS service (IAM sign-in, nothing to install)": False,
        "you can run it on your own servers": True,
        # A web app plus a metadata database, and Redis and Celery workers for caching and async queries.
        "one container is a complete install": False,
        "permissive licence (ship modified code without publishing it)": True,
    },
    "Metabase": {
        "licence": "AGPL 3.0 (open-source edition)",
        "open source": True,
        "an AWS service (IAM sign-in, nothing to install)": False,
        "you can run it on your own servers": True,
        # One JAR or one Docker image, its app database inside (Postgres is advised for production).
        "one container is a complete install": True,
        # The AGPL makes you offer your modified source to the users of a network service.
        "permissive licence (ship modified code without publishing it)": False,
    },
}
"""Facts that separate the three dashboard tools the course names (open-source editions).

All three query Athena, draw the usual charts and let people build dashboards without
code; they differ in who runs them, their licence and how heavy they are to operate.
"""

DASHBOARD_SCENARIOS: dict[str, dict[str, Any]] = {
    "finance": {
        "story": "Finance wants dashboards on the Athena tables from an AWS service: nobody patches "
        "servers, and people sign in with the company's IAM identities.",
        "needs": ("an AWS service (IAM sign-in, nothing to install)",),
    },
    "product": {
        "story": "The product team will change the dashboard tool's source code and ship the modified "
        "tool inside the software it sells to customers, without publishing those changes.",
        "needs": ("open source", "permissive licence (ship modified code without publishing it)"),
    },
    "warehouse": {
        "story": "A warehouse with no cloud account wants an open-source tool on its own server, "
        "installed and kept up by one person: one container, no other services to run.",
        "needs": ("open source", "you can run it on your own servers", "one container is a complete install"),
    },
}
"""Three teams, each with hard requirements that exactly one tool meets."""


def pick_dashboard_tool(needs: Sequence[str]) -> list[str]:
    """The tools of :data:`DASHBOARD_TOOLS` that meet every need (each need is a fact that must be True)."""
    unknown = [need for need in needs if need not in next(iter(DASHBOARD_TOOLS.values()))]
    if unknown:
        raise ValueError(f"Unknown need(s) {unknown}; use the facts listed in DASHBOARD_TOOLS.")
    return [tool for tool, facts in DASHBOARD_TOOLS.items() if all(facts[need] is True for need in needs)]
