"""Invented product data for the ESCI and Amazon-M2 samples (written by this project; brands,
titles and ids are made up). Kept apart from :mod:`data.generators.samples`, which writes the files.

Each product line is ``key | field | field | ...``; an empty field becomes null, ``;`` separates
bullet points.
"""

from __future__ import annotations

import hashlib

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def fake_id(key: str, prefix: str, length: int) -> str:
    """A deterministic, made-up id: ``prefix`` + base-36 digits of a hash of ``key``."""
    number = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest(), "big")
    digits = []
    for _ in range(length - len(prefix)):
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return prefix + "".join(digits)


def fake_asin(key: str) -> str:
    """An ASIN-shaped id (10 characters, ``B0`` + 8 base-36 digits)."""
    return fake_id(key, "B0", 10)


def parse_table(text: str, width: int) -> list[list[str | None]]:
    rows = []
    for line in text.strip().splitlines():
        cells = [cell.strip() or None for cell in line.split("|")]
        if len(cells) != width:
            raise ValueError(f"expected {width} cells: {line}")
        rows.append(cells)
    return rows


# ---- ESCI: key | locale | title | brand | color | description | bullets ----------------------------
ESCI_PRODUCTS = parse_table("""
mouse_wl | us | Brightwell Ergonomic Wireless Mouse, 2.4 GHz with USB Receiver, 6 Buttons, Silent Clicks | Brightwell | Graphite | <p>A contoured wireless mouse that keeps your hand relaxed through long work days.</p> | Contoured right-hand shape with thumb rest; 2.4 GHz receiver stores inside the mouse; Three DPI levels: 800, 1600, 2400; Runs 12 months on one AA battery
mouse_wl2 | us | Brightwell Compact Wireless Mouse for Laptop, Travel Size, Blue | Brightwell | Blue | A pocket-size wireless mouse for travel and small desks. | Compact travel size; Plug-and-play USB receiver; Auto sleep saves battery
mouse_wired | us | Keyline USB Wired Optical Mouse, 1000 DPI, 5 ft Cable | Keyline | Black |  | Wired USB connection, no batteries needed; 1000 DPI optical sensor; Ambidextrous shape
mousepad | us | Keyline Large Mouse Pad with Stitched Edges, Non-Slip Rubber Base, 11 x 9 in | Keyline | Black | Smooth cloth surface for precise tracking. | Stitched edges resist fraying; Non-slip rubber base; Water-resistant surface
batteries_aa | us | Voltique AA Alkaline Batteries, 24 Pack, Long Lasting | Voltique |  | Everyday alkaline batteries for remotes, mice and toys. | 24 AA batteries; 10-year shelf life; Leak-resistant design
lamp_led_basic | us | Lumora LED Desk Lamp, 3 Color Modes, Touch Control, Foldable | Lumora | White | A foldable LED lamp for reading and homework. | Three color temperatures; Touch dimmer with memory; Folds flat for storage
lamp_led_usb | us | Lumora LED Desk Lamp with USB Charging Port, 5 Brightness Levels, Eye-Caring | Lumora | Black | Charge your phone while you work under flicker-free light. | Built-in USB-A charging port; Five brightness levels and three color modes; Flicker-free eye-caring LEDs
clip_light | us | Lumora Clip-On Reading Light, Rechargeable, Flexible Gooseneck | Lumora | Silver |  | Clips to books, desks and headboards; Rechargeable battery lasts 40 hours; Flexible gooseneck
bottle_ss32 | us | Tidewater Stainless Steel Water Bottle 32 oz, Vacuum Insulated, Leak-Proof Lid | Tidewater | Sage | <p>Double-wall vacuum insulation keeps drinks cold for 24 hours and hot for 12.</p> | 32 oz capacity; 18/8 stainless steel; Leak-proof lid with carry loop; BPA free
bottle_ss20 | us | Tidewater Stainless Steel Water Bottle 20 oz, Vacuum Insulated | Tidewater | Navy | A smaller insulated bottle that fits most cup holders. | 20 oz capacity; Fits cup holders; Keeps drinks cold 24 hours
bottle_tritan | us | Clearpath Plastic Sports Water Bottle 32 oz with Time Marker, BPA Free | Clearpath | Clear | A lightweight bottle with hourly intake markings. | 32 oz Tritan plastic; Time markers to track intake; Flip-top straw lid
bottle_brush | us | Tidewater Bottle Cleaning Brush Set, Long Handle, 3 Pieces | Tidewater |  |  | Long handle reaches the bottom of tall bottles; Straw brush and lid brush included; Dishwasher safe
yoga_mat | us | Stillform Thick Yoga Mat 6 mm, Non-Slip, with Carrying Strap, 72 x 24 in | Stillform | Plum | Extra cushioning for knees and joints. | 6 mm thick cushioning; Non-slip textured surface; Carrying strap included
mat_thin | us | Stillform Travel Yoga Mat 1.5 mm, Foldable, Lightweight | Stillform | Grey | A foldable mat that fits in a suitcase. | 1.5 mm thin and foldable; Weighs under 2 lb; Machine washable
yoga_blocks | us | Stillform Yoga Blocks, High-Density Foam, Set of 2 | Stillform | Purple |  | Set of two 9 x 6 x 4 in blocks; High-density foam; Beveled edges
yoga_strap | us | Stillform Yoga Strap 8 ft with Metal D-Ring | Stillform | Black |  | 8 ft cotton strap; Metal D-ring buckle; Helps with stretching
dumbbells | us | Ironhearth Neoprene Dumbbell Set, 3 lb, 5 lb and 8 lb Pairs with Rack | Ironhearth | Multicolor | Coated dumbbells for home workouts. | Three pairs with rack; Neoprene coating for grip; Hexagon shape stops rolling
phone_case_i13 | us | Cellwise Slim Silicone Case for iPhone 13, Soft Microfiber Lining, Midnight | Cellwise | Midnight | A thin silicone case with a soft lining. | Designed for iPhone 13; Raised edges protect camera and screen; Wireless charging compatible
phone_case_i13 | es | Cellwise Funda de silicona fina para iPhone 13, forro de microfibra, color medianoche | Cellwise | Medianoche | Funda fina de silicona con forro suave. | Diseñada para iPhone 13; Bordes elevados protegen cámara y pantalla; Compatible con carga inalámbrica
charger_65w | us | Northpeak 65W USB-C GaN Charger, 2-Port Fast Charging Wall Charger, Foldable Plug | Northpeak | White | Fast-charges a laptop and a phone at the same time. | 65 W total output over two USB-C ports; GaN design, 40% smaller; Foldable plug for travel
charger_30w | us | Northpeak 30W USB-C Fast Charger, PD 3.0 Compact Wall Charger | Northpeak | White |  | 30 W USB-C Power Delivery; Compact cube design; Charges phones from 0 to 50% in 30 minutes
charger_usba | us | Northpeak 12W USB-A Wall Charger, Dual Port | Northpeak | Black |  | Two USB-A ports; 12 W shared output; Compact design
cable_usbc | us | Northpeak USB-C to USB-C Cable 6 ft, 100W, Braided Nylon (2-Pack) | Northpeak | Grey | Braided cables rated for 100 W charging. | Two 6 ft cables; Supports 100 W Power Delivery; Braided nylon outlasts rubber cables
power_bank | us | Voltique 10000mAh Slim Power Bank with 20W USB-C PD | Voltique | Black | A slim battery pack that fast-charges phones on the go. | 10000 mAh capacity; 20 W USB-C PD input and output; Slim 0.6 in profile
headphones_anc | us | Lumora Over-Ear Active Noise Cancelling Headphones, Bluetooth 5.3, 40H Battery | Lumora | Black | Quiet your commute with hybrid active noise cancelling. | Hybrid active noise cancelling; 40 hours of playtime; Foldable with travel case
headphones_wired | us | Lumora Wired Over-Ear Studio Headphones, 3.5 mm, Closed Back | Lumora | Black |  | Closed-back design; Detachable 3.5 mm cable; 50 mm drivers
earbuds_anc | us | Lumora True Wireless Earbuds with Noise Cancelling, Wireless Charging Case | Lumora | White | Pocketable earbuds with active noise cancelling. | Active noise cancelling with transparency mode; 30 hours with the case; IPX4 sweat resistant
headphone_case | us | Keyline Hard Carrying Case for Over-Ear Headphones | Keyline | Grey |  | Hard EVA shell; Mesh pocket for cables; Fits most foldable over-ear headphones
grinder_burr | us | Grindwell Conical Burr Coffee Grinder, 18 Grind Settings, Espresso to French Press | Grindwell | Black | <p>Conical burrs give an even grind for every brew method.</p> | 18 grind settings; Stainless steel conical burrs; Holds beans for 12 cups
grinder_blade | us | Grindwell Electric Blade Coffee Grinder, One-Touch, 3 oz | Grindwell | Silver |  | One-touch blade grinding; 3 oz bean capacity; Also grinds spices
coffee_beans | us | Ridgeline Roasters Whole Bean Coffee, Medium Roast, 2 lb Bag | Ridgeline Roasters |  | A balanced medium roast with notes of cocoa. | 2 lb whole beans; Medium roast; Roasted in small batches
kettle_gooseneck | us | Pourline Gooseneck Electric Kettle 1.0 L with Temperature Control | Pourline | Matte Black | Precise pouring for pour-over coffee and tea. | Gooseneck spout for a steady pour; Five temperature presets; Keeps warm for 60 minutes
blender | us | Whirlmix Personal Blender for Smoothies, 600 W, 2 Travel Cups | Whirlmix | Red |  | 600 W motor; Two 20 oz travel cups; Dishwasher-safe parts
boots_kids_rain | us | Puddlejump Kids Rain Boots, Waterproof with Easy-On Handles, Toddler Size 10 | Puddlejump | Yellow | Bright rubber boots that little hands can pull on. | 100% waterproof rubber; Easy-on handles; Non-slip sole
boots_kids_snow | us | Puddlejump Kids Insulated Snow Boots, Toddler Size 10 | Puddlejump | Red |  | Insulated to -20 F; Waterproof shell; Hook-and-loop closure
boots_adult_rain | us | Puddlejump Women's Ankle Rain Boots, Waterproof | Puddlejump | Olive |  | Waterproof ankle height; Cushioned insole; Pull tabs
raincoat_kids | us | Puddlejump Kids Raincoat with Hood, Waterproof, Reflective Strips | Puddlejump | Yellow | A hooded raincoat that matches the boots. | Waterproof with taped seams; Reflective strips; Machine washable
socks_boot | us | Puddlejump Kids Fleece Boot Socks, 3 Pairs | Puddlejump | Multicolor |  | Soft fleece lining; Three pairs; Fit inside rain boots
dog_leash_retract | us | Pawtrail Retractable Dog Leash 16 ft, Tangle-Free Tape, One-Button Brake | Pawtrail | Blue | A retractable leash for dogs up to 55 lb. | 16 ft tangle-free tape; One-button brake and lock; Ergonomic anti-slip handle
dog_leash_nylon | us | Pawtrail Nylon Dog Leash 6 ft with Padded Handle | Pawtrail | Red |  | 6 ft nylon leash; Padded handle; Reflective stitching
poop_bags | us | Pawtrail Dog Poop Bags, 240 Count with Dispenser | Pawtrail | Green |  | 240 leak-proof bags; Dispenser clips to any leash; Unscented
dog_collar | us | Pawtrail Adjustable Dog Collar, Quick-Release Buckle | Pawtrail | Blue |  | Adjustable nylon collar; Quick-release buckle; D-ring for tags and leash
cat_scratcher | us | Whiskerly Cardboard Cat Scratcher with Catnip | Whiskerly |  |  | Recycled corrugated cardboard; Catnip included; Reversible for double use
skillet_12 | us | Ironhearth Pre-Seasoned Cast Iron Skillet 12 Inch with Helper Handle | Ironhearth | Black | <p>Seasoned and ready to sear, bake and fry.</p> | 12 inch cooking surface; Pre-seasoned with vegetable oil; Oven, stove and campfire safe
skillet_10 | us | Ironhearth Pre-Seasoned Cast Iron Skillet 10 Inch | Ironhearth | Black |  | 10 inch cooking surface; Pre-seasoned; Even heat retention
pan_nonstick_12 | us | Ironhearth Nonstick Frying Pan 12 Inch, Aluminum, Induction Base | Ironhearth | Grey |  | 12 inch nonstick pan; Induction-compatible base; Stay-cool handle
handle_cover | us | Ironhearth Silicone Hot Handle Holder for Cast Iron Skillets, 2 Pack | Ironhearth | Red |  | Heat resistant to 480 F; Fits most skillet handles; Dishwasher safe
chainmail_scrubber | us | Ironhearth Chain Mail Scrubber for Cast Iron, 7 x 7 in | Ironhearth | Silver |  | Stainless steel rings; Cleans without stripping seasoning; Dishwasher safe
funda_i12 | es | Cellwise Funda de silicona para iPhone 12, color azul | Cellwise | Azul |  | Para iPhone 12; Silicona suave al tacto; Protección de cámara
protector_pantalla | es | Cellwise Protector de pantalla de vidrio templado para iPhone 13, pack de 2 | Cellwise |  |  | Vidrio templado 9H; Pack de 2; Instalación sin burbujas
funda_samsung | es | Cellwise Funda transparente para Samsung Galaxy S22 | Cellwise | Transparente |  | Para Galaxy S22; Transparente y fina; Esquinas reforzadas
cargador_es | es | Northpeak Cargador USB-C 20 W, carga rápida | Northpeak | Blanco |  | 20 W Power Delivery; Diseño compacto; Compatible con iPhone y Android
mouse_jp_silent | jp | Brightwell ワイヤレスマウス 静音 2.4GHz 小型 電池式 | Brightwell | グレー | 静かなクリック音のワイヤレスマウスです。 | 静音クリック; 2.4GHz USBレシーバー; 単三電池1本で約12か月
mouse_jp_bt | jp | Brightwell Bluetooth マウス 静音 3台接続 | Brightwell | ホワイト |  | Bluetooth 5.0; 3台まで切り替え; 静音ボタン
mouse_jp_wired | jp | Keyline 有線マウス USB 光学式 | Keyline | ブラック |  | USB有線接続; 1000DPI; 左右対称デザイン
mousepad_jp | jp | Keyline マウスパッド 大型 滑り止め | Keyline | ブラック |  | 大型サイズ; 滑り止めラバー; 撥水加工
usb_hub_jp | jp | Northpeak USBハブ 4ポート USB3.0 | Northpeak | シルバー |  | 4ポート; USB3.0; バスパワー
""", 7)

# ---- ESCI queries: (query, locale, split, small_version, [(product key, label), ...]) --------------
ESCI_QUERIES = [
    ("wireless mouse", "us", "train", 1, [("mouse_wl", "E"), ("mouse_wl2", "E"), ("mouse_wired", "S"), ("mousepad", "C"), ("batteries_aa", "C"), ("lamp_led_basic", "I")]),
    ("stainless steel water bottle 32 oz", "us", "train", 1, [("bottle_ss32", "E"), ("bottle_ss20", "S"), ("bottle_tritan", "S"), ("bottle_brush", "C"), ("yoga_mat", "I"), ("phone_case_i13", "I")]),
    ("usb c charger fast charging", "us", "train", 1, [("charger_65w", "E"), ("charger_30w", "E"), ("charger_usba", "S"), ("power_bank", "S"), ("cable_usbc", "C"), ("bottle_ss20", "I"), ("mousepad", "I")]),
    ("thick yoga mat", "us", "train", 0, [("yoga_mat", "E"), ("mat_thin", "S"), ("yoga_blocks", "C"), ("yoga_strap", "C"), ("dumbbells", "I")]),
    ("noise cancelling headphones", "us", "train", 1, [("headphones_anc", "E"), ("earbuds_anc", "S"), ("headphones_wired", "S"), ("headphone_case", "C"), ("phone_case_i13", "I"), ("batteries_aa", "I")]),
    ("burr coffee grinder", "us", "train", 1, [("grinder_burr", "E"), ("grinder_blade", "S"), ("coffee_beans", "C"), ("kettle_gooseneck", "C"), ("blender", "I")]),
    ("kids rain boots size 10", "us", "train", 0, [("boots_kids_rain", "E"), ("boots_kids_snow", "S"), ("boots_adult_rain", "S"), ("raincoat_kids", "C"), ("socks_boot", "C"), ("dog_leash_retract", "I")]),
    ("retractable dog leash", "us", "train", 0, [("dog_leash_retract", "E"), ("dog_leash_nylon", "S"), ("poop_bags", "C"), ("dog_collar", "C"), ("cat_scratcher", "I"), ("yoga_strap", "I")]),
    ("led desk lamp with usb port", "us", "test", 1, [("lamp_led_usb", "E"), ("lamp_led_basic", "S"), ("clip_light", "S"), ("cable_usbc", "C"), ("mousepad", "I")]),
    ("cast iron skillet 12 inch", "us", "test", 1, [("skillet_12", "E"), ("skillet_10", "S"), ("pan_nonstick_12", "S"), ("handle_cover", "C"), ("chainmail_scrubber", "C"), ("grinder_burr", "I"), ("dumbbells", "I"), ("blender", "I")]),
    ("funda iphone 13 silicona", "es", "train", 1, [("phone_case_i13", "E"), ("funda_i12", "S"), ("protector_pantalla", "C"), ("funda_samsung", "I"), ("cargador_es", "I")]),
    ("ワイヤレスマウス 静音", "jp", "test", 1, [("mouse_jp_silent", "E"), ("mouse_jp_bt", "E"), ("mouse_jp_wired", "S"), ("mousepad_jp", "C"), ("usb_hub_jp", "I")]),
]

# ---- Amazon-M2: key | locale | title | price | brand | color | size | model | material | author | desc
M2_PRODUCTS = parse_table("""
usb_c_cable | UK | Northpeak USB-C Cable 2 m, Braided, 60 W Fast Charging | 8.99 | Northpeak | Grey | 2 m | NP-C2 | Nylon |  | Braided USB-C cable for phones and tablets.
wall_charger | UK | Northpeak 30W USB-C Plug Charger, UK Plug | 17.49 | Northpeak | White |  | NP-30 |  |  | Compact fast charger with a UK three-pin plug.
earbuds | UK | Lumora Wireless Earbuds, Bluetooth 5.3, 30 Hours Playtime | 39.99 | Lumora | Black |  | LM-E2 |  |  | True wireless earbuds with a charging case.
ear_tips | UK | Lumora Replacement Silicone Ear Tips, S/M/L, 6 Pairs | 5.99 | Lumora | Black | S/M/L |  | Silicone |  | Spare tips for Lumora earbuds.
thriller | UK | The Quiet Harbour: A Gripping Coastal Thriller (Paperback) | 8.99 | Saltmarsh Books |  |  |  |  | R. T. Ellory-Finch | A missing ferryman and a town that keeps its secrets.
bookmark | UK | Set of 6 Magnetic Bookmarks, Botanical Prints | 4.50 | Papernook | Multicolour |  |  | Paper |  | Magnetic page markers that clip over the page.
kettle | UK | Pourline Electric Kettle 1.7 L, Rapid Boil, Stainless Steel | 29.99 | Pourline | Silver | 1.7 L | PL-17 | Stainless Steel |  | Cordless kettle with a 360 degree base.
descaler | UK | Pourline Kettle Descaler, 6 Sachets | 6.49 | Pourline |  |  |  |  |  | Removes limescale from kettles and coffee machines.
usb_c_cable | DE | Northpeak USB-C Kabel 2 m, geflochten, 60 W Schnellladen | 9.99 | Northpeak | Grau | 2 m | NP-C2 | Nylon |  | Geflochtenes USB-C Kabel für Smartphones und Tablets.
wall_charger | DE | Northpeak 30W USB-C Ladegerät, Netzteil mit Schnellladefunktion | 18.99 | Northpeak | Weiß |  | NP-30 |  |  | Kompaktes Schnellladegerät.
power_bank | DE | Voltique Powerbank 10000 mAh mit USB-C PD 20 W | 24.99 | Voltique | Schwarz |  | VQ-10 |  |  | Schlanke Powerbank für unterwegs.
earbuds | DE | Lumora Kabellose Kopfhörer, Bluetooth 5.3, 30 Stunden Spielzeit | 42.99 | Lumora | Schwarz |  | LM-E2 |  |  | In-Ear Kopfhörer mit Ladecase.
bottle | DE | Tidewater Trinkflasche Edelstahl 750 ml, isoliert, auslaufsicher | 21.95 | Tidewater | Salbeigrün | 750 ml |  | Edelstahl |  | Hält Getränke 24 Stunden kalt.
bottle_brush | DE | Tidewater Flaschenbürste Set, 3-teilig, langer Griff | 7.99 | Tidewater |  |  |  |  |  | Reinigt auch hohe Flaschen gründlich.
novel | DE | Der stille Hafen: Kriminalroman (Taschenbuch) | 12.00 | Salzwiese Verlag |  |  |  |  | R. T. Ellory-Finch | Ein verschwundener Fährmann und ein Dorf voller Geheimnisse.
reading_lamp | DE | Lumora Leselampe mit Klemme, LED, wiederaufladbar | 16.99 | Lumora | Silber |  |  |  |  | Klemmleuchte für Bücher und Nachttisch.
usb_c_cable | JP | Northpeak USB-C ケーブル 2m 編組 60W 急速充電 | 1280 | Northpeak | グレー | 2m | NP-C2 | ナイロン |  | スマートフォンやタブレットに使える編組ケーブル。
power_bank | JP | Voltique モバイルバッテリー 10000mAh USB-C PD 20W 薄型 | 2980 | Voltique | ブラック |  | VQ-10 |  |  | 持ち運びやすい薄型バッテリー。
phone_stand | JP | Cellwise スマホスタンド 角度調整 折りたたみ アルミ | 1580 | Cellwise | シルバー |  | CW-S1 | アルミニウム |  | 卓上で動画視聴に便利なスタンド。
earbuds | JP | Lumora ワイヤレスイヤホン Bluetooth 5.3 最大30時間再生 | 4980 | Lumora | ブラック |  | LM-E2 |  |  | 充電ケース付き完全ワイヤレスイヤホン。
bottle | JP | Tidewater 水筒 ステンレス 750ml 保冷 保温 | 2480 | Tidewater | セージ | 750ml |  | ステンレス |  | 保冷24時間のマグボトル。
lunch_box | JP | Tidewater 弁当箱 2段 食洗機対応 | 1680 | Tidewater | ネイビー | 600ml |  | ポリプロピレン |  | 電子レンジ対応の二段弁当箱。
novel | JP | 静かな港 ミステリー小説 文庫 | 880 | 潮風文庫 |  |  |  |  | R・T・エロリー＝フィンチ | 消えた渡し守と秘密を抱えた町の物語。
book_cover | JP | Papernook ブックカバー 文庫サイズ 帆布 | 1200 | Papernook | ベージュ | 文庫 |  | 帆布 |  | 文庫本にぴったりの布製カバー。
phone_case | ES | Cellwise Funda de silicona para móvil, 6,1 pulgadas | 12.99 | Cellwise | Negro |  |  | Silicona |  | Funda fina con bordes elevados.
screen_protector | ES | Cellwise Protector de pantalla de cristal templado, pack de 2 | 7.99 | Cellwise |  |  |  | Cristal |  | Dureza 9H e instalación sencilla.
wall_charger | ES | Northpeak Cargador USB-C 30 W, carga rápida | 17.99 | Northpeak | Blanco |  | NP-30 |  |  | Cargador compacto de carga rápida.
usb_c_cable | ES | Northpeak Cable USB-C 2 m trenzado, 60 W | 9.49 | Northpeak | Gris | 2 m | NP-C2 | Nailon |  | Cable trenzado resistente.
bottle | ES | Tidewater Botella de agua de acero inoxidable 750 ml, termo | 19.99 | Tidewater | Verde | 750 ml |  | Acero inoxidable |  | Mantiene el frío 24 horas.
novel | ES | El puerto callado: novela de misterio (tapa blanda) | 18.90 | Salina Ediciones |  |  |  |  | R. T. Ellory-Finch | Un barquero desaparecido y un pueblo lleno de secretos.
phone_case | FR | Cellwise Coque en silicone pour smartphone 6,1 pouces | 12.99 | Cellwise | Noir |  |  | Silicone |  | Coque fine aux bords surélevés.
wall_charger | FR | Northpeak Chargeur USB-C 30 W, charge rapide | 17.99 | Northpeak | Blanc |  | NP-30 |  |  | Chargeur secteur compact.
earbuds | FR | Lumora Écouteurs sans fil Bluetooth 5.3, autonomie 30 heures | 39.99 | Lumora | Noir |  | LM-E2 |  |  | Écouteurs avec boîtier de charge.
bottle | FR | Tidewater Gourde isotherme inox 750 ml | 19.99 | Tidewater | Sauge | 750 ml |  | Inox |  | Garde au frais pendant 24 heures.
bottle_brush | FR | Tidewater Goupillon pour gourde, lot de 3 | 6.99 | Tidewater |  |  |  |  |  | Nettoie le fond des bouteilles hautes.
phone_case | IT | Cellwise Cover in silicone per smartphone 6,1 pollici | 12.99 | Cellwise | Nero |  |  | Silicone |  | Cover sottile con bordi rialzati.
wall_charger | IT | Northpeak Caricatore USB-C 30 W, ricarica rapida | 17.99 | Northpeak | Bianco |  | NP-30 |  |  | Caricabatterie compatto.
usb_c_cable | IT | Northpeak Cavo USB-C 2 m intrecciato, 60 W | 9.49 | Northpeak | Grigio | 2 m | NP-C2 | Nylon |  | Cavo intrecciato resistente.
bottle | IT | Tidewater Borraccia termica in acciaio inox 750 ml | 19.99 | Tidewater | Salvia | 750 ml |  | Acciaio inox |  | Mantiene le bevande fredde per 24 ore.
novel | IT | Il porto silenzioso: romanzo giallo (brossura) | 14.00 | Salmastro Editore |  |  |  |  | R. T. Ellory-Finch | Un traghettatore scomparso e un paese pieno di segreti.
""", 11)

# Session families: items engaged with together, per locale (keys of M2_PRODUCTS).
M2_FAMILIES = {
    "UK": [["usb_c_cable", "wall_charger", "earbuds", "ear_tips"], ["thriller", "bookmark"], ["kettle", "descaler"]],
    "DE": [["usb_c_cable", "wall_charger", "power_bank", "earbuds"], ["bottle", "bottle_brush"], ["novel", "reading_lamp"]],
    "JP": [["usb_c_cable", "power_bank", "phone_stand", "earbuds"], ["bottle", "lunch_box"], ["novel", "book_cover"]],
    "ES": [["phone_case", "screen_protector", "wall_charger", "usb_c_cable"], ["bottle", "novel"]],
    "FR": [["phone_case", "wall_charger", "earbuds"], ["bottle", "bottle_brush"]],
    "IT": [["phone_case", "wall_charger", "usb_c_cable"], ["bottle", "novel"]],
}
M2_SESSIONS_PER_LOCALE = {"DE": 8, "JP": 8, "UK": 8, "ES": 6, "FR": 5, "IT": 5}
