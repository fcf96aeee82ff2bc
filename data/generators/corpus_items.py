"""Composed products for the synthetic corpus: a random ``Item`` with a title, a definition and a query."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from data.generators.corpus_vocabulary import (
    AUDIENCES, BRANDS, CATEGORY_TRAITS, COLORS, COMPLEMENTS, PRODUCTS, SUBSTITUTES,
)

PRODUCT_NAMES = sorted(PRODUCTS)
CATEGORIES = sorted({category for category, _ in PRODUCTS.values()})
COUNTED_CATEGORIES = ("grocery", "office", "pets", "beauty", "kitchen")  # titles may say "24 Count"
MASS_NOUNS = {"cat litter", "shampoo", "face cream", "nail polish", "sunscreen", "green tea",
              "olive oil", "granola", "dark chocolate", "peanut butter", "lip balm"}
POSSESSIVE = {"men": "Men's", "women": "Women's", "kids": "Kids'", "boys": "Boys'", "girls": "Girls'",
              "toddlers": "Toddlers'", "adults": "Adults'", "seniors": "Seniors'", "teens": "Teens'"}


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def is_plural(product: str) -> bool:
    return product.endswith("s") and product not in MASS_NOUNS


def complements_of(product: str) -> list[str]:
    return sorted({b for a, b in COMPLEMENTS if a == product} | {a for a, b in COMPLEMENTS if b == product})


def substitutes_of(product: str) -> list[str]:
    return sorted({b for a, b in SUBSTITUTES if a == product})


def this(product: str) -> str:
    return "these" if is_plural(product) else "this"


def define(product: str) -> str:
    """One sentence defining a product type, e.g. "A coffee grinder is a small appliance ..."."""
    definition = PRODUCTS[product][1]
    if product in MASS_NOUNS:
        subject, verb = product.capitalize(), "is"
    elif is_plural(product):
        subject, verb = product.capitalize(), "are"
        definition = definition.split(" ", 1)[1] if definition.startswith(("a ", "an ")) else definition
    else:
        subject, verb = f"{article(product).capitalize()} {product}", "is"
    return f"{subject} {verb} {definition}."


def title_case(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


@dataclass(frozen=True)
class Item:
    """One composed product listing; ``None`` fields are left out of the title."""

    brand: str
    product: str
    color: str | None
    material: str | None
    size: str | None
    audience: str | None
    feature: str
    count: int | None
    pack: int

    @property
    def category(self) -> str:
        return PRODUCTS[self.product][0]

    @property
    def title(self) -> str:
        head = [self.brand]
        if self.audience:
            head.append(POSSESSIVE[self.audience])
        head.append(title_case(self.feature))
        if self.material:
            head.append(title_case(self.material))
        head.append(title_case(self.product))
        parts = [" ".join(head)]
        parts += [part for part in (self.color and title_case(self.color), self.size) if part]
        if self.count:
            parts.append(f"{self.count} Count")
        if self.pack > 1:
            parts.append(f"Pack of {self.pack}")
        return ", ".join(parts)

    def definition_sentence(self) -> str:
        return define(self.product)

    def query(self, rng: Random) -> str:
        """A lower-case search query a shopper could type for this item."""
        words = [w for w in (
            self.brand.lower() if rng.random() < 0.4 else None,
            self.audience and rng.random() < 0.5 and self.audience,
            self.color if rng.random() < 0.6 else None,
            self.material if rng.random() < 0.3 else None,
        ) if w]
        return " ".join([*words, self.product])


def random_item(rng: Random, product: str | None = None, **fixed: object) -> Item:
    """A random item (optionally of a given product type; ``fixed`` overrides any other field).

    Materials, features and sizes come from the product's category, so titles stay plausible.
    """
    product = product or rng.choice(PRODUCT_NAMES)
    traits = CATEGORY_TRAITS[PRODUCTS[product][0]]
    fields = dict(
        brand=rng.choice(BRANDS),
        product=product,
        color=rng.choice(COLORS) if traits["color"] and rng.random() < 0.8 else None,
        material=rng.choice(traits["materials"]) if traits["materials"] and rng.random() < 0.6 else None,
        size=rng.choice(traits["sizes"]) if rng.random() < 0.5 else None,
        audience=rng.choice(AUDIENCES) if traits["audience"] and rng.random() < 0.5 else None,
        feature=rng.choice(traits["features"]),
        count=rng.choice([6, 10, 12, 20, 24, 50, 100])
        if PRODUCTS[product][0] in COUNTED_CATEGORIES and rng.random() < 0.3 else None,
        pack=rng.choice([1, 1, 1, 2, 3, 4, 6]),
    )
    fields.update(fixed)
    return Item(**fields)  # type: ignore[arg-type]
