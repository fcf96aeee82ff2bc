"""Invented instruction data for the ECInstruct, MMLU and Alpaca-cleaned samples (written by this
project, in the publishers' record shapes; no third-party rows)."""

from __future__ import annotations

import json

_J = json.dumps
_ESCI_OPTIONS = _J([
    "A: The product matches the query and meets every requirement in it.",
    "B: The product is somewhat relevant: it misses part of the query but could serve as a substitute.",
    "C: The product does not match the query but could be used together with a product that does.",
    "D: The product has nothing to do with the query.",
])
_RELATION_OPTIONS = _J([
    "A: Customers who buy product 1 also tend to buy product 2.",
    "B: Customers who view product 1 also tend to view product 2.",
    "C: Product 1 and product 2 are similar products.",
])
_SENTIMENT_OPTIONS = _J(["A: very positive", "B: positive", "C: neutral", "D: negative", "E: very negative"])
_SR_OPTIONS = str([
    "A: Northpeak USB-C to USB-C Cable 6 ft, 100W. Electronics. Cables. Northpeak.",
    "B: Stillform Yoga Blocks, Set of 2. Sports. Yoga. Stillform.",
    "C: Whiskerly Cardboard Cat Scratcher. Pet Supplies. Cats. Whiskerly.",
    "D: Ridgeline Roasters Whole Bean Coffee, 2 lb. Grocery. Coffee. Ridgeline Roasters.",
    "E: Puddlejump Kids Raincoat with Hood. Clothing. Kids. Puddlejump.",
])

# (task, setting, split, instruction, input, options, output)
_ECI = [
    ("Attribute_Value_Extraction", "Extract the value of each target attribute from the product information and say where it was found.",
     [(_J({"product title": "Tidewater Stainless Steel Water Bottle 32 oz, Vacuum Insulated", "product features": "18/8 stainless steel; leak-proof lid", "product brand": "Tidewater", "target attributes": {"Material": ["stainless steel"], "Capacity": ["32 oz"]}}),
       _J([{"attribute": "Material", "value": "stainless steel", "source": "product title"}, {"attribute": "Capacity", "value": "32 oz", "source": "product title"}])),
      (_J({"product title": "Stillform Thick Yoga Mat 6 mm, Non-Slip", "product description": "Extra cushioning made of TPE foam.", "product brand": "Stillform", "target attributes": {"Material": ["TPE"], "Thickness": ["6 mm"]}}),
       _J([{"attribute": "Material", "value": "TPE", "source": "product description"}, {"attribute": "Thickness", "value": "6 mm", "source": "product title"}])),
      (_J({"product title": "Ironhearth Chain Mail Scrubber for Cast Iron", "product features": "Stainless steel rings", "product brand": "Ironhearth", "target attributes": {"Material": ["stainless steel"]}}),
       _J([{"attribute": "Material", "value": "stainless steel", "source": "product features"}]))], None),
    ("Multiclass_Product_Classification", "How relevant is the product title to the query? Answer with one of the options.",
     [(_J({"query": "wireless mouse", "product title": "Keyline USB Wired Optical Mouse, 1000 DPI"}), "B: The product is somewhat relevant: it misses part of the query but could serve as a substitute."),
      (_J({"query": "cast iron skillet 12 inch", "product title": "Ironhearth Pre-Seasoned Cast Iron Skillet 12 Inch"}), "A: The product matches the query and meets every requirement in it."),
      (_J({"query": "retractable dog leash", "product title": "Pawtrail Dog Poop Bags, 240 Count"}), "C: The product does not match the query but could be used together with a product that does.")], _ESCI_OPTIONS),
    ("Product_Relation_Prediction", "Given two product titles, decide whether they are similar or likely to be bought or viewed together. Answer from the options.",
     [(_J({"Product 1:": "Ironhearth Cast Iron Skillet 12 Inch", "Product 2:": "Ironhearth Chain Mail Scrubber"}), "A"),
      (_J({"Product 1:": "Lumora Over-Ear Noise Cancelling Headphones", "Product 2:": "Lumora True Wireless Earbuds"}), "B"),
      (_J({"Product 1:": "Tidewater Water Bottle 32 oz", "Product 2:": "Tidewater Water Bottle 20 oz"}), "C")], _RELATION_OPTIONS),
    ("Query_Product_Rank", "Rank the products A, B, C, ... by how relevant their titles are to the query, most relevant first. Output only the ranked letters.",
     [(_J({"query": "burr coffee grinder", "product list": ["A: Whirlmix Personal Blender", "B: Grindwell Conical Burr Coffee Grinder", "C: Grindwell Electric Blade Coffee Grinder"]}), "B,C,A"),
      (_J({"query": "kids rain boots", "product list": ["A: Puddlejump Kids Raincoat", "B: Pawtrail Retractable Dog Leash", "C: Puddlejump Kids Rain Boots", "D: Puddlejump Kids Snow Boots"]}), "C,D,A,B"),
      (_J({"query": "usb c charger", "product list": ["A: Northpeak USB-C Cable", "B: Northpeak 30W USB-C Charger"]}), "B,A")], None),
    ("Sequential_Recommendation", "From the products the user bought before, predict which option the user will buy next. Answer with one option letter.",
     [(str(["1st: Northpeak 65W USB-C GaN Charger. Electronics. Chargers. Northpeak.", "2nd: Voltique Slim Power Bank. Electronics. Power Banks. Voltique."]), "A"),
      (str(["1st: Grindwell Conical Burr Coffee Grinder. Home & Kitchen. Coffee. Grindwell.", "2nd: Pourline Gooseneck Kettle. Home & Kitchen. Kettles. Pourline."]), "D"),
      (str(["1st: Puddlejump Kids Rain Boots. Clothing. Kids. Puddlejump."]), "E")], _SR_OPTIONS),
    ("Answerability_Prediction", "Can the question be answered from the supporting document? Answer yes or no.",
     [(_J({"question": "Does the bottle fit a car cup holder?", "document": "Works well but the 32 oz size does not fit my car cup holder."}), "yes"),
      (_J({"question": "Is the skillet dishwasher safe?", "document": "Cooks beautifully and the helper handle makes it easy to lift."}), "no"),
      (_J({"question": "How long does the power bank take to recharge?", "document": "Charging it back up takes about four hours with the included cable."}), "yes")], None),
    ("Answer_Generation", "Answer the question using the supporting document.",
     [(_J({"question": "Are the clicks loud?", "document": "The clicks really are silent, which my office mates appreciate."}), "No, the clicks are silent."),
      (_J({"question": "Can the kettle keep water warm?", "document": "Keep-warm holds the temperature for 60 minutes."}), "Yes, it keeps water warm for up to 60 minutes.")], None),
    ("Product_Matching", "Do the two product descriptions refer to the same product? Answer yes or no.",
     [(_J({"product 1": {"title": "northpeak 65w usb-c gan charger 2-port", "manufacturer": "northpeak", "price": 35.99}, "product 2": {"title": "Northpeak NP-65 GaN wall charger, 65 W, two USB-C", "manufacturer": "Northpeak", "price": 34.5}}), "yes"),
      (_J({"product 1": {"title": "tidewater water bottle 32 oz", "manufacturer": "tidewater", "price": 27.95}, "product 2": {"title": "Tidewater bottle 20 oz navy", "manufacturer": "Tidewater", "price": 22.0}}), "no"),
      (_J({"product 1": {"title": "ironhearth skillet 10 in", "manufacturer": "ironhearth", "price": 24.0}, "product 2": {"title": "Ironhearth cast iron skillet 12 inch", "manufacturer": "Ironhearth", "price": 32.5}}), "no")], None),
    ("Product_Substitute_Identification", "Could the product serve as a functional substitute for what the query asks for, even if it misses some details? Answer yes or no.",
     [(_J({"query": "noise cancelling headphones", "product": "Lumora True Wireless Earbuds with Noise Cancelling"}), "yes"),
      (_J({"query": "noise cancelling headphones", "product": "Keyline Hard Carrying Case for Headphones"}), "no"),
      (_J({"query": "thick yoga mat", "product": "Stillform Travel Yoga Mat 1.5 mm"}), "yes")], None),
    ("Sentiment_Analysis", "Identify the sentiment the user expresses in the review. Answer with one of the options.",
     [("Ice lasts all day and it never leaks in my bag. Best bottle I have owned.", "A: very positive"),
      ("Comfortable shape and tracks well, though I would like it a little heavier.", "B: positive"),
      ("It charges my phone. Nothing special either way.", "C: neutral"),
      ("The scroll wheel started squeaking after a few weeks, which is annoying.", "D: negative"),
      ("The lid cracked after three weeks. Complete waste of money.", "E: very negative")], _SENTIMENT_OPTIONS),
]
_SPLITS = [("train", "IND_Diverse_Instruction"), ("val", "IND_Diverse_Instruction"),
           ("test", "IND_Diverse_Instruction"), ("test", "OOD_Unseen_Instruction"),
           ("test", "IND_Diverse_Instruction_1-shot")]


def ecinstruct_records() -> list[dict]:
    """Records in the hub file's field order: the hand-written ones, then the composed ones of
    ``sample_extra`` (train split, each with its task's instruction and options)."""
    from data.generators.sample_extra import ecinstruct_rows

    records = []
    for task, instruction, examples, options in _ECI:
        for number, (text, output) in enumerate(examples):
            split, setting = _SPLITS[number]
            shot = None
            if setting.endswith("1-shot"):
                shot = _J({"input": examples[0][0], "options": options, "output": examples[0][1]})
            records.append({"output": output, "input": text, "options": options, "task": task,
                            "setting": setting, "split": split, "few_shot_example": shot,
                            "instruction": instruction})
    tasks = {task: (instruction, options) for task, instruction, _, options in _ECI}
    for task, text, output in ecinstruct_rows():
        instruction, options = tasks[task]
        records.append({"output": output, "input": text, "options": options, "task": task,
                        "setting": _SPLITS[0][1], "split": "train", "few_shot_example": None,
                        "instruction": instruction})
    return records


# MMLU: subject -> list of (question, A, B, C, D, answer); the first two rows go to dev.
MMLU = {
    "marketing": [
        ("A shop lowers the price of a popular item to attract shoppers who then buy other goods. This is called", "Skimming", "A loss leader", "Premium pricing", "Price lining", "B"),
        ("Which of the four Ps covers where and how a product is sold?", "Product", "Price", "Place", "Promotion", "C"),
        ("Dividing a market into groups of customers with similar needs is called", "Segmentation", "Positioning", "Branding", "Sampling", "A"),
        ("A customer who buys the same brand repeatedly shows", "Cognitive dissonance", "Brand loyalty", "Impulse buying", "Variety seeking", "B"),
        ("Which metric measures the share of site visitors who make a purchase?", "Bounce rate", "Click-through rate", "Conversion rate", "Churn rate", "C"),
        ("Bundling a charger with a phone at one price is an example of", "Product bundling", "Cost-plus pricing", "Penetration pricing", "Psychological pricing", "A"),
        ("Setting a price at 9.99 instead of 10.00 is called", "Dynamic pricing", "Psychological pricing", "Target pricing", "Transfer pricing", "B"),
        ("A product that is bought together with another, such as ink with a printer, is a", "Substitute", "Complement", "Inferior good", "Giffen good", "B"),
    ],
    "high_school_microeconomics": [
        ("If the price of a good rises and quantity demanded falls, the demand curve", "slopes upward", "slopes downward", "is vertical", "is horizontal", "B"),
        ("Two goods are substitutes when a rise in the price of one", "lowers demand for the other", "raises demand for the other", "has no effect on the other", "lowers supply of the other", "B"),
        ("A market with many sellers of identical products is", "a monopoly", "an oligopoly", "perfect competition", "monopolistic competition", "C"),
        ("Marginal cost is the change in total cost from producing", "one more unit", "all units", "the first unit only", "no output", "A"),
        ("A price ceiling set below the equilibrium price causes", "a surplus", "a shortage", "no change", "higher quantity supplied", "B"),
        ("Demand is price elastic when a 10 percent price rise lowers quantity demanded by", "2 percent", "5 percent", "10 percent", "20 percent", "D"),
        ("Which cost does not change with the quantity produced in the short run?", "Variable cost", "Marginal cost", "Fixed cost", "Average variable cost", "C"),
        ("Consumer surplus is the difference between", "price and cost", "willingness to pay and price paid", "revenue and profit", "supply and demand", "B"),
    ],
    "nutrition": [
        ("Which nutrient is the body's main source of quick energy?", "Protein", "Carbohydrate", "Vitamin C", "Calcium", "B"),
        ("Which vitamin does skin make when exposed to sunlight?", "Vitamin A", "Vitamin B12", "Vitamin D", "Vitamin K", "C"),
        ("Dietary fibre is found mainly in", "plant foods", "red meat", "butter", "eggs", "A"),
        ("Iron deficiency most commonly leads to", "rickets", "scurvy", "anaemia", "goitre", "C"),
        ("How many kilocalories does one gram of fat provide?", "4", "7", "9", "12", "C"),
        ("Which mineral is most important for strong bones and teeth?", "Sodium", "Calcium", "Zinc", "Iodine", "B"),
        ("Complete proteins contain all", "fatty acids", "essential amino acids", "B vitamins", "trace minerals", "B"),
        ("Which food is the richest source of vitamin C?", "White rice", "Bell pepper", "Cheddar cheese", "Bread", "B"),
    ],
}
MMLU_AUX = {
    "arc_easy": [
        ("Which tool is best for measuring the mass of a bag of coffee beans?", "A ruler", "A balance", "A thermometer", "A stopwatch", "B"),
        ("A metal spoon left in hot soup becomes hot because metal is a good", "insulator", "conductor of heat", "source of light", "magnet", "B"),
        ("Which of these is a renewable resource?", "Coal", "Oil", "Wind", "Natural gas", "C"),
    ],
}

ALPACA = [
    ("Give three tips for keeping a cast iron pan in good condition.", "", "1. Dry it completely right after washing.\n2. Rub a thin layer of oil on it while it is still warm.\n3. Avoid soaking it in water for long periods."),
    ("Rewrite the sentence in a more formal tone.", "this charger is super fast and tiny, love it", "This charger is remarkably fast and compact; I am very satisfied with it."),
    ("Classify each item as a fruit or a vegetable.", "apple, carrot, banana, spinach", "Fruits: apple, banana. Vegetables: carrot, spinach."),
    ("Write a short product description for a stainless steel water bottle.", "", "Stay refreshed all day with this vacuum-insulated stainless steel bottle. It keeps drinks cold for 24 hours, hot for 12, and its leak-proof lid makes it safe to toss in any bag."),
    ("Summarize the review in one sentence.", "The headphones sound great and block out the train noise, but they get uncomfortable after an hour and the case feels cheap.", "Great sound and noise blocking, but uncomfortable for long wear and a flimsy case."),
    ("Convert 32 fluid ounces to milliliters.", "", "32 fluid ounces is about 946 milliliters."),
    ("Suggest a name for an online shop that sells handmade candles.", "", "Wick & Ember"),
    ("Explain the difference between a substitute and a complement good.", "", "A substitute can be used in place of another good, like tea instead of coffee. A complement is used together with another good, like a printer and its ink."),
    ("Find the odd one out.", "mouse, keyboard, monitor, skillet", "Skillet, because the others are computer equipment."),
    ("Write a polite reply to a customer whose order arrived late.", "My order was supposed to arrive on Monday but came on Thursday.", "We are sorry your order arrived later than promised. Thank you for your patience; we have added a discount to your account for your next purchase."),
    ("List four things to pack for a day hike.", "", "Water, snacks, a rain jacket and a map."),
    ("Calculate the total price.", "2 cables at $13.99 each and 1 charger at $35.99", "The total is $63.97."),
    ("Give an antonym for the word.", "generous", "Stingy"),
    ("Describe how to brew pour-over coffee in five steps.", "", "1. Heat water to about 94 C.\n2. Grind the beans medium-fine.\n3. Rinse the paper filter.\n4. Pour a little water to let the coffee bloom for 30 seconds.\n5. Pour the rest slowly in circles."),
    ("Identify the main complaint in the review.", "Works fine, but the scroll wheel started squeaking after a few weeks.", "The scroll wheel squeaks."),
    ("Create a catchy slogan for a dog leash brand.", "", "Walk further, worry less."),
    ("Translate the sentence into Spanish.", "The case fits my phone perfectly.", "La funda se ajusta perfectamente a mi teléfono."),
    ("Name three renewable sources of energy.", "", "Solar, wind and hydroelectric power."),
    ("Sort the numbers from smallest to largest.", "12, 3, 45, 7", "3, 7, 12, 45"),
    ("Write a question a shopper might ask about a coffee grinder.", "", "Can this grinder make a fine enough grind for espresso?"),
]
