"""Word lists the project wrote for its synthetic shopping corpus (see ``data/generators/corpus.py``).

Everything here is invented for shoplm: product types with one-line definitions written for this
project, made-up brand names, and generic attribute words. No third-party data, and nothing taken
from the ShopBench development set.
"""

from __future__ import annotations

# product type -> (category, definition written for this project)
PRODUCTS: dict[str, tuple[str, str]] = {
    "coffee grinder": ("kitchen", "a small appliance that crushes roasted beans into an even powder before brewing"),
    "french press": ("kitchen", "a glass jug with a mesh plunger that steeps ground coffee in hot water"),
    "cutting board": ("kitchen", "a flat slab of wood or plastic that protects the counter while food is chopped"),
    "chef knife": ("kitchen", "a broad kitchen blade used to slice, dice and mince most ingredients"),
    "mixing bowl": ("kitchen", "a deep round bowl for stirring batter, dough and salads"),
    "tea kettle": ("kitchen", "a pot with a spout and handle that boils water on a stove"),
    "frying pan": ("kitchen", "a shallow pan with sloped sides for searing and browning food"),
    "spice rack": ("kitchen", "a shelf or stand that keeps jars of herbs and spices in order"),
    "running shoes": ("shoes", "light footwear with cushioned soles made for jogging and road runs"),
    "hiking boots": ("shoes", "sturdy ankle boots with deep treads for rough trails"),
    "sandals": ("shoes", "open shoes held to the foot by straps, worn in warm weather"),
    "slippers": ("shoes", "soft indoor shoes that keep feet warm at home"),
    "wool socks": ("clothing", "thick knitted socks that keep feet warm and dry"),
    "rain jacket": ("clothing", "a light coat with a waterproof shell and a hood"),
    "hoodie": ("clothing", "a casual sweatshirt with a hood and a front pocket"),
    "yoga pants": ("clothing", "stretchy close fitting trousers made for exercise and comfort"),
    "denim jeans": ("clothing", "durable cotton trousers woven with a diagonal twill"),
    "winter gloves": ("clothing", "insulated gloves that protect the hands from cold wind"),
    "baseball cap": ("clothing", "a soft cap with a stiff front brim that shades the eyes"),
    "backpack": ("bags", "a bag with two shoulder straps that is carried on the back"),
    "duffel bag": ("bags", "a large cylindrical bag for gym clothes or weekend trips"),
    "laptop sleeve": ("bags", "a padded slim case that protects a laptop inside another bag"),
    "wallet": ("bags", "a small folding case for cards, cash and an id"),
    "desk lamp": ("home", "a small adjustable light that brightens a work surface"),
    "throw pillow": ("home", "a decorative cushion placed on a sofa or bed"),
    "bath towel": ("home", "a large absorbent cloth used to dry the body after bathing"),
    "shower curtain": ("home", "a waterproof sheet that keeps water inside the bathtub"),
    "wall clock": ("home", "a clock hung on a wall so the time can be read across a room"),
    "storage bin": ("home", "a lidded box that keeps household items tidy and stackable"),
    "scented candle": ("home", "a wax candle mixed with fragrance oil that perfumes a room"),
    "phone case": ("electronics", "a snug cover that protects a phone from drops and scratches"),
    "wireless earbuds": ("electronics", "tiny earphones that connect to a phone without cables"),
    "usb cable": ("electronics", "a cord that charges devices and moves data between them"),
    "power bank": ("electronics", "a portable battery that recharges a phone away from an outlet"),
    "bluetooth speaker": ("electronics", "a portable speaker that plays music sent from a phone"),
    "computer mouse": ("electronics", "a handheld pointer that moves the cursor on a screen"),
    "keyboard": ("electronics", "a board of keys used to type text into a computer"),
    "screen protector": ("electronics", "a thin clear film that guards a display against scratches"),
    "dog leash": ("pets", "a strap that clips to a collar so a dog can be walked safely"),
    "cat litter": ("pets", "absorbent granules that fill the box a cat uses indoors"),
    "pet bed": ("pets", "a cushioned bed where a cat or dog can rest"),
    "dog treats": ("pets", "small snacks given to a dog as a reward during training"),
    "shampoo": ("beauty", "a liquid soap that cleans hair and the scalp"),
    "face cream": ("beauty", "a moisturizer that softens and hydrates the skin of the face"),
    "hair brush": ("beauty", "a brush with bristles that detangles and smooths hair"),
    "lip balm": ("beauty", "a waxy stick that soothes and protects dry lips"),
    "nail polish": ("beauty", "a colored lacquer painted on fingernails and toenails"),
    "sunscreen": ("beauty", "a lotion that shields the skin from sunburn"),
    "yoga mat": ("sports", "a thin cushioned mat that grips the floor during stretching"),
    "water bottle": ("sports", "a reusable bottle that carries drinks to the gym or trail"),
    "dumbbells": ("sports", "short bars with weights at each end for strength training"),
    "tennis racket": ("sports", "a strung frame used to hit the ball in tennis"),
    "bike helmet": ("sports", "a padded shell that protects the head while cycling"),
    "camping tent": ("outdoors", "a portable shelter of fabric and poles for sleeping outside"),
    "sleeping bag": ("outdoors", "an insulated zippered bag that keeps a camper warm at night"),
    "flashlight": ("outdoors", "a handheld battery light for seeing in the dark"),
    "garden hose": ("garden", "a flexible tube that carries water to plants and lawns"),
    "flower pot": ("garden", "a container with a drain hole for growing plants"),
    "pruning shears": ("garden", "short sharp clippers that trim branches and stems"),
    "notebook": ("office", "a bound pad of lined paper for notes and sketches"),
    "gel pens": ("office", "pens with smooth water based gel ink that glides across paper"),
    "desk organizer": ("office", "a tray with compartments that holds pens, clips and notes"),
    "stapler": ("office", "a tool that fastens sheets of paper together with metal staples"),
    "building blocks": ("toys", "interlocking plastic bricks that children stack into models"),
    "jigsaw puzzle": ("toys", "a picture cut into many pieces that are fitted back together"),
    "plush bear": ("toys", "a soft stuffed toy bear for cuddling"),
    "green tea": ("grocery", "a drink brewed from lightly processed tea leaves"),
    "olive oil": ("grocery", "an oil pressed from olives and used for cooking and dressings"),
    "granola": ("grocery", "toasted oats with nuts and honey, eaten with milk or yogurt"),
    "dark chocolate": ("grocery", "chocolate with a high share of cocoa and little milk"),
    "peanut butter": ("grocery", "a spread made from ground roasted peanuts"),
}

# pairs that shoppers often buy together (both names are keys of PRODUCTS)
COMPLEMENTS: list[tuple[str, str]] = [
    ("coffee grinder", "french press"), ("cutting board", "chef knife"), ("tea kettle", "green tea"),
    ("frying pan", "olive oil"), ("running shoes", "wool socks"), ("hiking boots", "wool socks"),
    ("rain jacket", "backpack"), ("yoga pants", "yoga mat"), ("laptop sleeve", "computer mouse"),
    ("phone case", "screen protector"), ("power bank", "usb cable"), ("wireless earbuds", "phone case"),
    ("keyboard", "computer mouse"), ("bath towel", "shower curtain"), ("dog leash", "dog treats"),
    ("pet bed", "cat litter"), ("shampoo", "hair brush"), ("sunscreen", "lip balm"),
    ("water bottle", "dumbbells"), ("tennis racket", "water bottle"), ("bike helmet", "water bottle"),
    ("camping tent", "sleeping bag"), ("flashlight", "camping tent"), ("garden hose", "pruning shears"),
    ("flower pot", "pruning shears"), ("notebook", "gel pens"), ("stapler", "desk organizer"),
    ("granola", "peanut butter"), ("desk lamp", "desk organizer"), ("throw pillow", "scented candle"),
]

# two names that answer the same need (a shopper would take one instead of the other)
SUBSTITUTES: list[tuple[str, str]] = [
    ("coffee grinder", "burr mill"), ("running shoes", "sneakers"), ("hoodie", "sweatshirt"),
    ("backpack", "rucksack"), ("wireless earbuds", "headphones"), ("power bank", "portable charger"),
    ("flashlight", "headlamp"), ("notebook", "journal"), ("plush bear", "stuffed animal"),
    ("dark chocolate", "cocoa bar"), ("duffel bag", "gym bag"), ("tea kettle", "electric kettle"),
]

BRANDS = [
    "Northwind", "Bluepeak", "Cedarline", "Hollow Oak", "Lumora", "Vantor", "Quillby", "Mossgrove",
    "Tidewell", "Brightfold", "Kestrel", "Orchard Lane", "Pinecrest", "Solvane", "Ironbark", "Fablewood",
    "Zephyra", "Copperleaf", "Marlow", "Trailcraft", "Nimbus", "Redfern", "Silverbirch", "Amberly",
]

AUDIENCES = ["men", "women", "kids", "boys", "girls", "toddlers", "adults", "seniors", "teens"]

# per category: materials, features and sizes that make sense for it; whether color/audience apply
CATEGORY_TRAITS: dict[str, dict] = {
    "kitchen": dict(materials=["stainless steel", "ceramic", "glass", "oak wood", "bamboo", "cast iron"],
                    features=["dishwasher safe", "non stick", "heavy duty", "compact", "easy grip"],
                    sizes=["8 inch", "10 inch", "12 inch", "1 liter", "1.5 quart"], color=True, audience=False),
    "shoes": dict(materials=["leather", "canvas", "mesh", "suede", "rubber"],
                  features=["lightweight", "waterproof", "non slip", "breathable", "cushioned"],
                  sizes=["size 6", "size 8", "size 9", "size 10", "size 12", "wide"], color=True, audience=True),
    "clothing": dict(materials=["cotton", "wool", "polyester", "linen", "fleece", "nylon"],
                     features=["machine washable", "quick dry", "stretch", "water resistant", "warm"],
                     sizes=["small", "medium", "large", "x-large", "one size"], color=True, audience=True),
    "bags": dict(materials=["leather", "canvas", "nylon", "polyester"],
                 features=["water resistant", "lightweight", "padded", "anti theft", "foldable"],
                 sizes=["small", "medium", "large", "13 inch", "15 inch", "40 liter"], color=True, audience=True),
    "home": dict(materials=["cotton", "linen", "ceramic", "glass", "oak wood", "bamboo", "soy wax"],
                 features=["decorative", "soft", "modern", "stackable", "quiet"],
                 sizes=["small", "large", "queen", "king", "18 x 18 inch", "12 inch"], color=True, audience=False),
    "electronics": dict(materials=["silicone", "aluminum", "tempered glass", "braided nylon"],
                        features=["rechargeable", "wireless", "fast charging", "noise cancelling", "shockproof"],
                        sizes=["3 feet", "6 feet", "10000 mah", "20000 mah", "full size"], color=True, audience=False),
    "pets": dict(materials=["nylon", "cotton", "fleece", "natural clay"],
                 features=["odor control", "chew proof", "washable", "grain free", "reflective"],
                 sizes=["small", "medium", "large", "10 lb", "25 lb"], color=True, audience=False),
    "beauty": dict(materials=[], features=["unscented", "organic", "travel size", "vegan", "long lasting"],
                   sizes=["1 oz", "2 oz", "8 fl oz", "12 fl oz", "16 fl oz"], color=False, audience=True),
    "sports": dict(materials=["silicone", "stainless steel", "cast iron", "graphite", "foam"],
                   features=["non slip", "adjustable", "insulated", "lightweight", "ventilated"],
                   sizes=["small", "medium", "large", "24 oz", "32 oz", "10 lb", "20 lb"], color=True, audience=True),
    "outdoors": dict(materials=["nylon", "polyester", "aluminum", "ripstop"],
                     features=["waterproof", "portable", "compact", "rechargeable", "all season"],
                     sizes=["2 person", "4 person", "one size", "regular", "long"], color=True, audience=False),
    "garden": dict(materials=["ceramic", "terracotta", "recycled plastic", "stainless steel", "rubber"],
                   features=["kink free", "frost resistant", "ergonomic", "rust proof", "heavy duty"],
                   sizes=["25 feet", "50 feet", "6 inch", "10 inch", "12 inch"], color=True, audience=False),
    "office": dict(materials=["recycled paper", "bamboo", "metal", "mesh", "plastic"],
                   features=["refillable", "compact", "quick drying", "college ruled", "non jam"],
                   sizes=["a5", "letter size", "8 x 10 inch", "standard"], color=True, audience=False),
    "toys": dict(materials=["plastic", "cardboard", "plush", "wood"],
                 features=["educational", "colorful", "soft", "1000 piece", "classic"],
                 sizes=["small", "large", "12 inch", "500 piece"], color=True, audience=True),
    "grocery": dict(materials=[], features=["organic", "gluten free", "unsweetened", "natural", "family size"],
                    sizes=["8 oz", "12 oz", "16 oz", "1 liter", "2 lb"], color=False, audience=False),
}
COLORS = ["black", "white", "red", "blue", "green", "gray", "navy", "pink", "brown", "beige",
          "yellow", "purple", "orange", "teal"]
MATERIALS = sorted({m for traits in CATEGORY_TRAITS.values() for m in traits["materials"]})

# review aspects and short key phrases about them (positive, negative)
ASPECTS: dict[str, tuple[list[str], list[str]]] = {
    "size": (["fits true to size", "just the right size", "roomy enough"],
             ["runs too small", "much bigger than expected", "too tight around the edges"]),
    "quality": (["feels well made", "solid stitching", "sturdy and durable"],
                ["fell apart in a week", "cheap thin material", "broke after two uses"]),
    "color": (["the color is vibrant", "exactly the shade pictured", "rich deep color"],
              ["color faded after washing", "looks duller than the photo", "the dye bled"]),
    "price": (["great value for the money", "worth every penny", "cheaper than in stores"],
              ["overpriced for what it is", "not worth the price", "too expensive"]),
    "comfort": (["super comfortable all day", "soft against the skin", "no pain after hours"],
                ["rubs and pinches", "stiff and uncomfortable", "gave me blisters"]),
    "shipping": (["arrived two days early", "packed with care", "fast delivery"],
                 ["arrived damaged", "took three weeks to ship", "box was crushed"]),
    "smell": (["smells fresh and clean", "pleasant light scent", "no chemical odor"],
              ["strong plastic smell", "scent is overpowering", "smells stale"]),
    "ease of use": (["easy to set up", "simple to clean", "works right out of the box"],
                    ["confusing instructions", "hard to assemble", "buttons are fiddly"]),
}

# review openers and closers by star rating (1 to 5)
REVIEW_TONE: dict[int, tuple[list[str], list[str]]] = {
    1: (["Very disappointed.", "Do not buy this.", "Terrible purchase."],
        ["I am returning it.", "Waste of money.", "Would give zero stars if I could."]),
    2: (["Not great.", "Below my expectations.", "Mostly a letdown."],
        ["I would not order it again.", "There are better options.", "Only a few things work."]),
    3: (["It is okay.", "Average product.", "Mixed feelings about this one."],
        ["It does the job, nothing more.", "Fine for the price.", "Some pros and some cons."]),
    4: (["Pretty good.", "Happy with this.", "Nice product overall."],
        ["I would buy it again.", "Minor issues but recommended.", "Good choice for most people."]),
    5: (["Absolutely love it!", "Excellent purchase.", "Best one I have owned."],
        ["Highly recommend it.", "Five stars without doubt.", "Buying another as a gift."]),
}

SHOPPING_SENTENCES = [
    "Free shipping applies to orders over 35 dollars.",
    "Compare the size chart before you order clothing or shoes.",
    "Customers who bought this item also viewed similar products.",
    "Add the item to your cart and check out in a few clicks.",
    "Returns are accepted within 30 days of delivery.",
    "Read the reviews to learn how the product holds up over time.",
    "A bundle of two or more items often costs less per unit.",
    "Subscribe and save to get a discount on repeat deliveries.",
    "The listing shows the price, the rating and the number of reviews.",
    "Search results can be filtered by brand, color, size and price.",
    "Gift wrapping is available at checkout for most orders.",
    "Check the product dimensions to be sure it fits your space.",
]
