"""Composed rows that enlarge the public-source samples, so a built mixture can hold out a few hundred
evaluation questions besides its training rows (``build.mixtures.<m>.heldout``; the smol-heldout profile
holds out 2 x 250 questions of mixture v7).

The hand-written rows of ``sample_shop``, ``sample_reviews`` and ``sample_text`` stay first and unchanged
(their edge cases are what the reader tests check); these rows come after them, composed from the
project's own word lists (``corpus_vocabulary``, ``corpus_items``) and the small multilingual lexicon
below, with one seeded RNG per source, so ``python -m data.generators.samples`` stays deterministic.
Everything here is invented for shoplm.

Sizes (what mixture v7's builders need for 156 training rows and 500 held-out questions, with room
for the held-out questions that decontamination drops): ESCI 130 more English queries and 48 Spanish or
Japanese ones, each with its own 5-6 judged products (5 for the Spanish and Japanese ones); Amazon-M2 54
products with an English listing and one in another language; Reviews 2023 48 items, 160 reviews;
ECInstruct 208 records; MMLU 96 questions; Alpaca 71 records.
"""

from __future__ import annotations

import json
from random import Random

from data.generators.corpus_items import (
    PRODUCT_NAMES,
    complements_of,
    define,
    random_item,
    substitutes_of,
    title_case,
)
from data.generators.corpus_vocabulary import ASPECTS, BRANDS, COMPLEMENTS, PRODUCTS, REVIEW_TONE

# ---- a small multilingual lexicon -------------------------------------------------------------------
# product type -> (de, es, fr, it, ja)
LEXICON: dict[str, tuple[str, str, str, str, str]] = {
    "coffee grinder": ("Kaffeemühle", "molinillo de café", "moulin à café", "macinacaffè", "コーヒーミル"),
    "french press":
        ("Kaffeebereiter", "cafetera de émbolo", "cafetière à piston", "caffettiera a pistone", "フレンチプレス"),
    "cutting board": ("Schneidebrett", "tabla de cortar", "planche à découper", "tagliere", "まな板"),
    "frying pan": ("Bratpfanne", "sartén", "poêle", "padella", "フライパン"),
    "tea kettle": ("Wasserkessel", "hervidor", "bouilloire", "bollitore", "やかん"),
    "running shoes":
        ("Laufschuhe", "zapatillas de running", "chaussures de course", "scarpe da corsa", "ランニングシューズ"),
    "hiking boots": ("Wanderschuhe", "botas de montaña", "chaussures de randonnée", "scarponi da trekking", "登山靴"),
    "sandals": ("Sandalen", "sandalias", "sandales", "sandali", "サンダル"),
    "wool socks": ("Wollsocken", "calcetines de lana", "chaussettes en laine", "calzini di lana", "ウールソックス"),
    "rain jacket": ("Regenjacke", "chaqueta impermeable", "veste de pluie", "giacca antipioggia", "レインジャケット"),
    "hoodie": ("Kapuzenpullover", "sudadera con capucha", "sweat à capuche", "felpa con cappuccio", "パーカー"),
    "backpack": ("Rucksack", "mochila", "sac à dos", "zaino", "リュックサック"),
    "wallet": ("Geldbörse", "cartera", "portefeuille", "portafoglio", "財布"),
    "desk lamp":
        ("Schreibtischlampe", "lámpara de escritorio", "lampe de bureau", "lampada da scrivania", "デスクライト"),
    "bath towel": ("Badetuch", "toalla de baño", "serviette de bain", "telo da bagno", "バスタオル"),
    "wall clock": ("Wanduhr", "reloj de pared", "horloge murale", "orologio da parete", "壁掛け時計"),
    "phone case": ("Handyhülle", "funda para móvil", "coque de téléphone", "custodia per telefono", "スマホケース"),
    "wireless earbuds": ("kabellose Ohrhörer", "auriculares inalámbricos", "écouteurs sans fil", "auricolari wireless",
                         "ワイヤレスイヤホン"),
    "power bank": ("Powerbank", "batería externa", "batterie externe", "caricatore portatile", "モバイルバッテリー"),
    "keyboard": ("Tastatur", "teclado", "clavier", "tastiera", "キーボード"),
    "yoga mat": ("Yogamatte", "esterilla de yoga", "tapis de yoga", "tappetino yoga", "ヨガマット"),
    "water bottle": ("Trinkflasche", "botella de agua", "gourde", "borraccia", "水筒"),
    "camping tent": ("Campingzelt", "tienda de campaña", "tente de camping", "tenda da campeggio", "キャンプテント"),
    "flashlight": ("Taschenlampe", "linterna", "lampe torche", "torcia", "懐中電灯"),
}
LEXICON_COLORS: dict[str, tuple[str, str, str, str, str]] = {
    "black": ("Schwarz", "negro", "noir", "nero", "ブラック"),
    "white": ("Weiß", "blanco", "blanc", "bianco", "ホワイト"),
    "red": ("Rot", "rojo", "rouge", "rosso", "レッド"),
    "blue": ("Blau", "azul", "bleu", "blu", "ブルー"),
    "green": ("Grün", "verde", "vert", "verde", "グリーン"),
    "gray": ("Grau", "gris", "gris", "grigio", "グレー"),
    "navy": ("Marineblau", "azul marino", "bleu marine", "blu navy", "ネイビー"),
    "pink": ("Rosa", "rosa", "rose", "rosa", "ピンク"),
}
LEXICON_FEATURES: dict[str, tuple[str, str, str, str, str]] = {
    "lightweight": ("leicht", "ligero", "léger", "leggero", "軽量"),
    "waterproof": ("wasserdicht", "impermeable", "imperméable", "impermeabile", "防水"),
    "easy to clean":
        ("leicht zu reinigen", "fácil de limpiar", "facile à nettoyer", "facile da pulire", "お手入れ簡単"),
    "durable": ("langlebig", "resistente", "résistant", "resistente", "丈夫"),
    "compact": ("kompakt", "compacto", "compact", "compatto", "コンパクト"),
    "with gift box": ("mit Geschenkbox", "con caja de regalo", "avec coffret cadeau", "con confezione regalo",
                      "ギフトボックス付き"),
}
LANGS = ("DE", "ES", "FR", "IT", "JP")  # the lexicon's columns, as Amazon-M2 names the locales


def _word(table: dict, key: str, locale: str) -> str:
    return table[key][LANGS.index(locale)]


def _local_title(brand: str, product: str, color: str, feature: str, size: str, locale: str) -> str:
    noun, colour, trait = (_word(t, k, locale) for t, k in ((LEXICON, product), (LEXICON_COLORS, color),
                                                             (LEXICON_FEATURES, feature)))
    if locale == "JP":
        return f"{brand} {noun} {colour} {trait} {size}"
    if locale == "DE":
        return f"{brand} {noun} in {colour}, {trait}, {size}"
    joiner = {"ES": "color", "FR": "coloris", "IT": "colore"}[locale]
    return f"{brand} {noun[:1].upper() + noun[1:]}, {joiner} {colour}, {trait}, {size}"


def _local_description(brand: str, product: str, color: str, feature: str, locale: str) -> str:
    noun, colour, trait = (_word(t, k, locale) for t, k in ((LEXICON, product), (LEXICON_COLORS, color),
                                                             (LEXICON_FEATURES, feature)))
    return {
        "DE": f"{noun} von {brand} in {colour}: {trait} und ideal für jeden Tag.",
        "ES": f"{noun[:1].upper() + noun[1:]} de {brand} en color {colour}: {trait} e ideal para el día a día.",
        "FR": f"{noun[:1].upper() + noun[1:]} de {brand}, coloris {colour} : {trait} et idéal au quotidien.",
        "IT": f"{noun[:1].upper() + noun[1:]} di {brand}, colore {colour}: {trait} e ideale per ogni giorno.",
        "JP": f"{brand}の{colour}の{noun}です。{trait}で毎日使えます。",
    }[locale]


SIZES = ("S", "M", "L", "20 cm", "28 cm", "1 l", "500 ml", "2er-Pack", "30 x 40 cm", "10 m")
ESCI_JP = "jp"  # ESCI's locale names are lower case (us, es, jp)


# ---- ESCI -----------------------------------------------------------------------------------------------

def _esci_row(key: str, locale: str, item) -> tuple:
    bullets = "; ".join(part for part in (title_case(item.feature), item.material and title_case(item.material),
                                          item.size) if part)
    return (key, locale, item.title, item.brand, item.color and title_case(item.color), define(item.product),
            bullets or None)


def esci_rows(n_english: int = 130, n_local: int = 24) -> tuple[list[tuple], list[tuple]]:
    """(products as sample_shop.ESCI_PRODUCTS rows, queries as ESCI_QUERIES rows): each query has its own
    products: two exact matches, a substitute (another colour or a substitute type), a complement and
    one or two irrelevant products. ``n_local`` Spanish and as many Japanese queries, from the lexicon."""
    rng = Random(20240601)
    products: list[tuple] = []
    queries: list[tuple] = []
    seen: set[str] = set()
    order = [PRODUCT_NAMES[i % len(PRODUCT_NAMES)] for i in range(n_english)]
    rng.shuffle(order)
    for number, product in enumerate(order):
        anchor = random_item(rng, product)
        colored = anchor.color is not None
        text = " ".join(w for w in (anchor.color if colored else None, anchor.audience, product,
                                    None if colored else anchor.brand.lower()) if w)
        if text in seen:
            text = f"{anchor.feature} {text}"
        if text in seen:
            continue
        seen.add(text)
        fixed = {"color": anchor.color, "audience": anchor.audience}
        if not colored:
            fixed["brand"] = anchor.brand
        judged: list[tuple[object, str]] = [(anchor, "E"), (random_item(rng, product, **fixed), "E")]
        substitute = substitutes_of(product)
        if colored:
            other = rng.choice([c for c in ("black", "white", "red", "blue", "green", "gray") if c != anchor.color])
            judged.append((random_item(rng, product, color=other, audience=anchor.audience), "S"))
        elif substitute and substitute[0] in PRODUCTS:
            judged.append((random_item(rng, substitute[0]), "S"))
        else:
            judged.append((random_item(rng, product, brand=rng.choice([b for b in BRANDS if b != anchor.brand])), "S"))
        partner = complements_of(product) or [p for p in PRODUCT_NAMES if PRODUCTS[p][0] == anchor.category
                                              and p != product]
        judged.append((random_item(rng, rng.choice(partner)), "C"))
        unrelated = [p for p in PRODUCT_NAMES if PRODUCTS[p][0] != anchor.category]
        for _ in range(1 + number % 2):
            judged.append((random_item(rng, rng.choice(unrelated)), "I"))
        keys = []
        for index, (item, label) in enumerate(judged):
            key = f"x{number}_{index}"
            products.append(_esci_row(key, "us", item))
            keys.append((key, label))
        queries.append((text, "us", "train", 1, keys))
    local_types = sorted(LEXICON)
    for locale, column in (("es", "ES"), (ESCI_JP, "JP")):
        for number in range(n_local):
            product = local_types[(number * 7 + (locale == ESCI_JP) * 3) % len(local_types)]
            color = sorted(LEXICON_COLORS)[(number * 3 + (locale == ESCI_JP)) % len(LEXICON_COLORS)]
            noun, colour = _word(LEXICON, product, column), _word(LEXICON_COLORS, color, column)
            text = f"{noun} {colour}"
            if text in seen:
                continue
            seen.add(text)
            other_color = rng.choice([c for c in LEXICON_COLORS if c != color])
            unrelated = rng.sample([p for p in local_types if PRODUCTS[p][0] != PRODUCTS[product][0]], 2)
            judged = [(product, color, "E"), (product, color, "E"), (product, other_color, "S"),
                      (unrelated[0], color, "I"), (unrelated[1], other_color, "I")]
            keys = []
            for index, (kind, shade, label) in enumerate(judged):
                brand = rng.choice(BRANDS)
                feature = rng.choice(sorted(LEXICON_FEATURES))
                key = f"{locale}{number}_{index}"
                title = _local_title(brand, kind, shade, feature, rng.choice(SIZES), column)
                products.append((key, locale, title, brand, _word(LEXICON_COLORS, shade, column),
                                 _local_description(brand, kind, shade, feature, column), None))
                keys.append((key, label))
            queries.append((text, locale, "train", 1, keys))
    return products, queries


# ---- Amazon-M2 --------------------------------------------------------------------------------------------

def m2_rows(n: int = 54) -> list[tuple]:
    """sample_shop.M2_PRODUCTS rows: ``n`` products with an English (UK) listing and one in DE, ES, FR, IT
    or JP, the same ASIN (key) in both."""
    rng = Random(20230601)
    rows: list[tuple] = []
    types = [p for p in sorted(LEXICON) if p != "french press"]  # "French" would read as the target language
    titles: set[str] = set()
    for number in range(n):
        product = types[number % len(types)]
        while True:  # a title of its own: the translation's English source names one product
            color = rng.choice(sorted(LEXICON_COLORS))
            feature = rng.choice(sorted(LEXICON_FEATURES))
            brand, size = rng.choice(BRANDS), rng.choice(SIZES[:7])
            english = f"{brand} {title_case(product)} {title_case(color)}, {title_case(feature)}, {size}"
            if english not in titles:
                titles.add(english)
                break
        key, locale = f"m2x{number}", LANGS[number % len(LANGS)]
        price = f"{rng.randrange(5, 90)}.{rng.choice(['49', '99', '00'])}"
        description = f"{define(product)} This {color} one by {brand} is {feature}."
        rows.append((key, "UK", english, price, brand, title_case(color), size, None, None, None, description))
        local_price = str(rng.randrange(800, 9000)) if locale == "JP" else price
        rows.append((key, locale, _local_title(brand, product, color, feature, size, locale), local_price, brand,
                     _word(LEXICON_COLORS, color, locale), size, None, None, None,
                     _local_description(brand, product, color, feature, locale)))
    return rows


# ---- Amazon Reviews 2023 ------------------------------------------------------------------------------------

REVIEW_CATEGORIES = {"Electronics": ("electronics", "office", "outdoors"), "Home_and_Kitchen": ("kitchen", "home")}
_CONTEXTS = ("at work", "at home", "on weekend trips", "every morning", "for my kids", "in the car", "at the gym",
             "when I travel", "in the evenings", "for gifts")
_WHEN = ("two weeks", "a month", "three months", "half a year", "a few days", "a year")


def review_text(rng: Random, product: str, rating: int) -> tuple[str, str]:
    """(title, text) of a composed review whose tone matches ``rating``."""
    heads, tails = REVIEW_TONE[rating]
    aspects = rng.sample(sorted(ASPECTS), 2)
    good = [rng.choice(ASPECTS[a][0]) for a in aspects]
    bad = [rng.choice(ASPECTS[a][1]) for a in aspects]
    said = {5: good, 4: [good[0], good[1]], 3: [good[0], bad[1]], 2: [bad[0], good[1]], 1: bad}[rating]
    text = (f"{rng.choice(heads)} I bought this {product} {rng.choice(_WHEN)} ago and use it {rng.choice(_CONTEXTS)}. "
            f"The {aspects[0]}: {said[0]}. The {aspects[1]}: {said[1]}. {rng.choice(tails)}")
    return rng.choice(heads).rstrip(".!"), text


def reviews_rows(per_category: int = 24) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """(items per category as sample_reviews.ITEMS rows, reviews per item key as REVIEWS rows). About a
    third of the items are bought together with another item of their category."""
    rng = Random(20230602)
    items: dict[str, list[tuple]] = {}
    reviews: dict[str, list[tuple]] = {}
    for category, kinds in REVIEW_CATEGORIES.items():
        pool = [p for p in PRODUCT_NAMES if PRODUCTS[p][0] in kinds]
        made: list[tuple] = []
        for number in range(per_category):
            product = pool[number % len(pool)]
            item = random_item(rng, product)
            key = f"rx_{category[:4].lower()}{number}"
            main = "All Electronics" if category == "Electronics" else "Amazon Home"
            kind = title_case(PRODUCTS[product][0])
            details = {"Brand": item.brand, **({"Color": title_case(item.color)} if item.color else {})}
            made.append([key, main, item.title, round(rng.uniform(3.2, 4.8), 1), rng.randrange(20, 4000),
                         round(rng.uniform(6, 120), 2), item.brand, [category.replace("_", " "), kind,
                                                                     title_case(product)],
                         [title_case(item.feature)], [define(product)], details, None])
            count = 3 + (number % 3 == 0)
            reviews[key] = []
            for index in range(count):
                rating = 1 + (number * 3 + index) % 5
                head, text = review_text(rng, product, rating)
                reviews[key].append((float(rating), rng.randrange(0, 40), rng.random() < 0.85, head, text))
        for number in range(0, per_category - 1, 3):  # bought together: items 0+1, 3+4, ...
            made[number][11] = [made[number + 1][0]]
        items[category] = [tuple(row) for row in made]
    return items, reviews


# ---- ECInstruct -----------------------------------------------------------------------------------------------

_SENTIMENT = {5: "A: very positive", 4: "B: positive", 3: "C: neutral", 2: "D: negative", 1: "E: very negative"}


def ecinstruct_rows() -> list[tuple[str, str, str]]:
    """(task, input, output) records for the four tasks mixture v7 reads: 72 answerability, 72
    product-matching, 32 substitute and 32 sentiment records (sample_text adds each task's instruction
    and options). The first two are the only tasks of their tracks besides MMLU and Alpaca, so a
    held-out slice asks the most of them (shoplm.builders.mixtures.heldout_allocation)."""
    rng = Random(20230603)
    out: list[tuple[str, str, str]] = []
    for number in range(72):
        item = random_item(rng, PRODUCT_NAMES[(number * 5) % len(PRODUCT_NAMES)])
        asked = f"Is this {item.product} {item.feature}?"
        if number % 2 == 0:
            document = f"I checked before ordering: the {item.product} really is {item.feature}, as the listing says."
            answer = "yes"
        else:
            document = f"The {item.product} from {item.brand} arrived on time and {rng.choice(ASPECTS['price'][0])}."
            answer = "no"
        out.append(("Answerability_Prediction", json.dumps({"question": asked, "document": document}), answer))
    for number in range(72):
        item = random_item(rng, PRODUCT_NAMES[(number * 7 + 2) % len(PRODUCT_NAMES)], pack=1)
        price = round(rng.uniform(8, 90), 2)
        first = {"title": item.title.lower(), "manufacturer": item.brand.lower(), "price": price}
        if number % 2 == 0:
            same = f"{item.brand} {title_case(item.product)} ({item.title.split(', ', 1)[-1]})"
            second, answer = {"title": same, "manufacturer": item.brand, "price": round(price * 0.95, 2)}, "yes"
        else:
            other = random_item(rng, item.product, brand=item.brand, pack=2)
            second, answer = {"title": other.title, "manufacturer": item.brand, "price": round(price * 1.6, 2)}, "no"
        out.append(("Product_Matching", json.dumps({"product 1": first, "product 2": second}), answer))
    for number in range(32):
        product = PRODUCT_NAMES[(number * 11 + 4) % len(PRODUCT_NAMES)]
        anchor = random_item(rng, product)
        query = " ".join(w for w in (anchor.color, product) if w)
        if number % 2 == 0:
            shade = rng.choice([c for c in ("black", "white", "teal") if c != anchor.color])
            other = random_item(rng, product, color=shade)
            answer = "yes"
        else:
            partner = complements_of(product) or [p for p in PRODUCT_NAMES if PRODUCTS[p][0] != anchor.category]
            other, answer = random_item(rng, rng.choice(partner)), "no"
        out.append(("Product_Substitute_Identification", json.dumps({"query": query, "product": other.title}), answer))
    for number in range(32):
        rating = 5 - number % 5
        _, text = review_text(rng, PRODUCT_NAMES[(number * 13 + 1) % len(PRODUCT_NAMES)], rating)
        out.append(("Sentiment_Analysis", text, _SENTIMENT[rating]))
    return out


# ---- MMLU ---------------------------------------------------------------------------------------------------------

def _mc(rng: Random, question: str, right: str, wrong: list[str]) -> tuple[str, str, str, str, str, str]:
    options = [right, *wrong[:3]]
    rng.shuffle(options)
    return (question, *options, "ABCD"[options.index(right)])


def mmlu_rows(per_subject: int = 32) -> dict[str, list[tuple]]:
    """Test-split rows for the three sample subjects: sale prices (marketing), complements (microeconomics)
    and food energy (nutrition), each question with its own numbers or products."""
    rng = Random(20230604)
    out: dict[str, list[tuple]] = {"marketing": [], "high_school_microeconomics": [], "nutrition": []}
    for number in range(per_subject):
        product = PRODUCT_NAMES[(number * 3) % len(PRODUCT_NAMES)]
        price, off = rng.randrange(12, 200), rng.choice([10, 15, 20, 25, 30, 40])
        sale = price * (100 - off) / 100
        wrong = [price * off / 100, price - off, price * (100 + off) / 100]
        asked = (f"A {product} is listed at {price} dollars and goes on sale at {off} percent off. "
                 "What is the sale price?")
        out["marketing"].append(_mc(rng, asked, f"{sale:.2f} dollars", [f"{w:.2f} dollars" for w in wrong]))
    pairs = [*COMPLEMENTS] + [(b, a) for a, b in COMPLEMENTS]
    firsts: dict[str, str] = {}  # one question per product: a second pair would make it ambiguous
    for number in range(len(pairs)):
        first, second = pairs[(number * 7) % len(pairs)]
        firsts.setdefault(first, second)
    for first, second in list(firsts.items())[:per_subject]:
        others = [p for p in PRODUCT_NAMES if p not in (first, second) and p not in complements_of(first)
                  and PRODUCTS[p][0] != PRODUCTS[first][0]]
        out["high_school_microeconomics"].append(_mc(
            rng, f"For a shopper who buys a {first}, which good is most likely a complement?", second,
            rng.sample(others, 3)))
    foods = ["granola bar", "peanut butter toast", "cheese sandwich", "fruit yogurt", "trail mix", "oat cookie",
             "veggie wrap", "rice bowl"]
    for number in range(per_subject):
        fat, carbs, protein = rng.randrange(2, 25), rng.randrange(10, 70), rng.randrange(2, 30)
        energy = 9 * fat + 4 * carbs + 4 * protein
        wrong = [4 * (fat + carbs + protein), 9 * (fat + carbs + protein), 9 * fat + 4 * carbs]
        if len({energy, *wrong}) < 4:
            wrong[2] = energy + 40
        out["nutrition"].append(_mc(rng, f"A {foods[number % len(foods)]} holds {fat} g of fat, {carbs} g of "
                                         f"carbohydrate and {protein} g of protein. About how many kilocalories "
                                         "does it provide?", str(energy), [str(w) for w in wrong]))
    return out


# ---- Alpaca ------------------------------------------------------------------------------------------------------

def alpaca_rows() -> list[tuple[str, str, str]]:
    """(instruction, input, output): one definition per product type of the word lists (no input)."""
    rng = Random(20230605)
    wordings = ("Explain what a {p} is in one sentence.", "Describe the product '{p}' in one sentence.",
                "Write a one-sentence definition of '{p}' for a shopping glossary.")
    return [(rng.choice(wordings).format(p=product), "", define(product)) for product in PRODUCT_NAMES]

