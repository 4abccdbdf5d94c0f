"""Postal addresses as one RE2 pattern (DuckDB regexes; also valid Python ``re``), value in group 1.

Layouts, tried left to right at each position (RE2 alternation is leftmost-first):

- military: ``PSC 1234, Box 5678`` / ``Unit 1234 Box 5678`` / ``USNS Name``, then ``APO|FPO|DPO AA|AE|AP 12345``;
- post boxes: ``PO Box 12``, ``GPO Box``, ``Locked Bag``, ``Postfach``, ``Postbus``, ``Apartado de Correos``,
  ``Casella Postale``, with the locality line when present;
- Japanese, romanised: ``1-2-3 Shibuya, Shibuya-ku, Tokyo 150-0002`` and the reverse order;
- number first (US, CA, AU, UK, IE, NZ): ``12 Main St``, ``Flat 3, 12 Baker Street``, ``66/9 King Gully``;
  a strong street type (Street, Road, Avenue, ...) is enough, a weak one (the other USPS Publication 28
  and Australian street types: Haven, Falls, Point, Key, View, ...) needs a unit or a locality line after it;
- French: ``12, rue de la Paix``; name after a street type (IT, ES, CA-FR, BE): ``Via Roma, 12``,
  ``Calle de Alcalá 5``, ``Avenue Louise 54``;
- German and Dutch compounds: ``Hauptstraße 12a``, ``Keizersgracht 123``; weak endings (``-ring``,
  ``-markt``, ``-hof``, ...) need the postcode line.

Each layout takes the lines after it that complete the address (city, state or province, postcode, in
the order the country writes them), joined by a comma, a space, a newline, or a JSON-escaped ``\\n``.
"""

from __future__ import annotations

_UP = "[A-ZÀ-ÖØ-Þ]"
_LET = "[A-Za-zÀ-ÖØ-öø-ÿ'’-]"
W = f"{_UP}{_LET}*\\.?"  # a capitalised word
NUM = r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"  # house number: 12, 12a, 12-14, 66/9
SEP = r"(?:[ \t]*,?[ \t]*(?:\r?\n|\\{1,2}n)[ \t]*|[ \t]*,[ \t]*|[ \t]+)"
_LINK = "(?:sur|sous|le|la|les|de|du|des|am|an|im|vorm|bei|upon|on|in|di|del|en|op|aan|ob|der|den|los|las|y)"
CITY = f"{W}(?:[ -](?:{W}|{_LINK}))*"

SECONDARY = (
    r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Studio|Room|Rm\.?|Floor|Fl\.?|Level|Lvl\.?|Bldg\.?|"
    r"Building|Lot|Dept\.?|Shop|#) ?#?[A-Za-z0-9-]{1,6}"
)
STRONG = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Terr|Ter|"
    "Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Crescent|Cres|Close|Mews|Alley|Aly|Way|"
    "Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Plaza|Plz|Row|Grove|Gardens|Gdns|Esplanade|Parade|Pde|"
    "Causeway|Cswy|Wynd|Motorway|Broadway|Pathway|Walkway|Circuit|Cct|Boulevarde|Concourse|Promenade"
)
WEAK = (
    "Anex|Annex|Arcade|Bayou|Beach|Bend|Bluffs?|Bottom|Branch|Bridge|Brooks?|Burgs?|Bypass|Camp|Canyon|Cape|"
    "Centers?|Centre|Cliffs?|Club|Commons?|Corners?|Course|Courts|Coves?|Creek|Crest|Crossing|Crossroads?|"
    "Curve|Dale|Dam|Divide|Drives|Estates?|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|"
    "Forks?|Fort|Garden|Gateway|Glens?|Greens?|Groves|Harbou?rs?|Haven|Heights|Hills?|Hollow|Inlet|Islands?|"
    "Isle|Junctions?|Keys?|Knolls?|Lakes?|Land|Landing|Lights?|Loaf|Locks?|Lodge|Loop|Mall|Manors?|"
    "Meadows?|Mills?|Mission|Mount|Mountains?|Neck|Orchard|Oval|Overpass|Parks?|Parkways|Pass|Passage|Path|"
    "Pike|Pines?|Plains?|Points?|Ports?|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads|Route|"
    "Rue|Run|Shoals?|Shores?|Skyway|Springs?|Spurs?|Squares|Station|Stravenue|Stream|Streets|Summit|"
    "Throughway|Trace|Track|Trafficway|Tunnel|Underpass|Unions?|Valleys?|Via|Viaduct|Views?|Villages?|"
    "Ville|Vista|Walks?|Wall|Ways|Wells?|Copse|Gully|Strand|Rise|Vale|Chase|Brae|Quay|Wharf|Nook|Retreat|"
    "Ridgeway|Boardwalk|Grange|Heath|Approach|Bank|Bay|Dell|End|Gate|Yard|Outlook|Reach|Round|Link|Glade|"
    "Ramble|Hub|Highroad|Cove|Cutting|Elbow|Entrance|Firetrail|Flat|Follow|Formation|Frontage|Gap|Grandstand|"
    "Interchange|Lookout|Loop|Mead|Motorway|Pocket|Port|Quays|Rotary|Serviceway|Slope|Steps|Subway|Tarn|"
    "Terraces|Tollway|Top|Tor|Towers|Turn|Upper|Vue|Waters|Wood|Woods|Circles|Lanes|Footway|Trailer|Artery|Edge|"
    "Ring|Amble|Brace|Brow|Byway|Cluster|Concord|Cruiseway|Dip|Distributor|Driveway|Easement|Fairway|"
    "Fireline|Intersection|Laneway|Line|Meander|Quadrant|Range|Reserve|Ride|Riverway|Riviera|Roadside|"
    "Roadway|Ronde|Siding|Sound|Strip|Thoroughfare|Triangle|Trunkway|Villas|Wade|Deviation|Circlet|"
    "Crossway|Esplanade|Junction|Corso|Piazza|Plaza|Busway|Centreway|Chase|Close|Corner|"
    "Flats|Freeway|Greenway|Hollow|Tunnel|"
    "View|Wynd|Boardwalk|Cove|Crest|Cross|Dale|"
    "Driveway|Elbow|End|Entrance|Fork|Hill|Loop|Nook|Quay|Ramble|Retreat|"
    "Spur|Trail|Walk|Way|Circus|Alleyway|Foreshore|Courtyard|Stairs|Parklands|Plateau|Crescent|Dene"
)
_SFX = r"\b"
_STREET = rf"(?:(?:[NSEW]{{1,2}}\.?|North|South|East|West) )?(?:{W} |\d{{1,3}}(?:st|nd|rd|th) )+"

ZIP = r"(?:\d{5}(?:-\d{4})?|\d{4}|[A-Z]\d[A-Z] ?\d[A-Z]\d)"
UKPC = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
TAIL_NA = rf"{SEP}{CITY},? [A-Z]{{2,4}}\.?,? {ZIP}"
TAIL_UK = rf"{SEP}{CITY}(?:{SEP}{CITY})?{SEP}{UKPC}"
TAIL_EU = (
    rf"{SEP}(?:[A-Z]-)?(?:\d{{5}}|\d{{4}} ?[A-Z]{{2}}|\d{{4}}-\d{{3}}|\d{{4}})(?:,? (?:{SEP})?|{SEP}){CITY}"
    rf"(?: \([A-Z]{{2}}\))?(?: CEDEX(?: \d{{1,2}})?)?"
)
TAIL_NL = rf"{SEP}\d{{4}} ?[A-Z]{{2}}(?:{SEP}{CITY})?"
# postcode last (ES, NZ, AU)
TAIL_ES = rf"{SEP}(?:RD \d{{1,2}}{SEP})?{CITY}(?:{SEP}{CITY})?,? \d{{4,5}}(?:-\d{{3,4}})?"
TAIL_IE = rf"{SEP}(?:[AC-FHKNPRTV-Y]\d{{2}}|D6W) ?[0-9AC-FHKNPRTV-Y]{{4}}(?:{SEP}{CITY})?"  # Eircode
TAIL = f"(?:{TAIL_NA}|{TAIL_UK}|{TAIL_NL}|{TAIL_EU}|{TAIL_ES}|{TAIL_IE})"

MILITARY = (
    rf"(?:(?:(?:PSC|CMR|Unit) \d{{1,5}},? Box \d{{1,5}}|(?:USNS|USS|USNV|USCGC|USAV) {W}(?: {W})*){SEP})?"
    r"(?:APO|FPO|DPO) (?:AA|AE|AP) \d{5}"
)
PO_BOX = (
    r"\b(?i:P\.? ?O\.? ?Box|Post Office Box|GPO Box|Locked Bag|Private Bag|Postfach|Postbus|"
    r"Apartado(?: de Correos)?|Casella Postale) \d{1,6}"
)
JAPAN = (
    rf"(?:(?:〒 ?)?\d{{3}}-\d{{4}},? )?\d{{1,4}}-\d{{1,4}}(?:-\d{{1,4}})?,? {W}(?:,? {W})?,? "
    rf"{W}-(?:ku|shi|machi|cho|gun|mura)(?:,? {W}(?:-(?:to|fu|ken|do))?)?(?:,? \d{{3}}-\d{{4}})?|"
    rf"{W}-(?:to|fu|ken|do),? {W}-(?:ku|shi),? {W}(?:,? \d{{1,2}}-chome)?,? \d{{1,4}}-\d{{1,4}}(?:-\d{{1,4}})?"
)
_BEFORE = rf"(?:{SECONDARY}(?:[ ,/]+|{SEP}))?"
_NF = rf"{_BEFORE}(?:\d{{1,5}} )?{NUM},? {_STREET}"
# The street type's full stop (St.) belongs to the address only when more of the address follows it.
NUMBER_FIRST = rf"{_NF}(?:{STRONG}){_SFX}(?:\.?{SEP}{SECONDARY})?"
# years read as house numbers (In 2024 Wall Street rallied): matched here so that address_ok refuses them
YEAR = r"(?i:in|since|by|from|until|during|after|before|of|circa) (?:19|20)\d\d\b"
NUMBER_FIRST_WEAK = (
    rf"{_NF}(?:{WEAK}){_SFX}\.?|"
    rf"{SECONDARY}{SEP}(?:{NUM} )?{_STREET}(?:{STRONG}|{WEAK}){_SFX}"
)  # Flat 3 / Baker Street
FR_TYPE = (
    r"(?i:rue|avenue|av\.|boulevard|bd|chemin|place|allée|allee|impasse|quai|route|cours|square|passage|"
    r"rond-point|voie|sentier|faubourg|cité|esplanade|promenade|parvis|villa|hameau|lieu-dit|chaussée|"
    r"montée|traverse|ruelle)"
)
FRENCH_NONUM = rf"{FR_TYPE} (?:(?:de la|de l'|du|des|de|d'|l'|la|le|les) ?)?{W}(?: (?:{W}|de|du|des|la|le|les))*"
FRENCH = (
    rf"{NUM}(?: ?(?:bis|ter))?,? {FR_TYPE} (?:(?:de la|de l'|du|des|de|d'|l'|la|le|les) ?)?"
    rf"{W}(?: (?:{W}|de|du|des|la|le|les))*(?:,? {SECONDARY}| #?\d{{1,6}})?"
)
_TYPE_FIRST = (
    "Via|Viale|V\\.le|Piazza|P\\.zza|Piazzale|Corso|C\\.so|Largo|Vicolo|Strada|Borgo|Contrada|Rotonda|"
    "Stretto|Canale|Incrocio|Vico|Salita|Lungomare|Traversa|Calle|C/|C\\.|Avenida|Avda\\.?|Paseo|Plaza|"
    "Camino|Carrer|Ronda|Rambla|Pasaje|Pasadizo|Callejón|Cuesta|Glorieta|Urbanización|Vía|Alameda|"
    "Acceso|Cañada|Carretera|Travesía|Passeig|Plaça|Avinguda|Vial|Bulevar|Costanilla|Partida|Ramal|"
    "Senda|Rua|Travessa|Rue|Avenue|Boulevard|Chemin|Chaussée|rue|avenue|boulevard|chemin|route|allée|"
    "quai|impasse|R\\.|Av\\.|Trav\\.|Estrada|Largo|Continuación|Prolongación|Privada|Cerrada|Circuito|"
    "Retorno|Periférico|Diagonal|Calzada|Andador|Corredor|Ampliación|Viaducto|Eje|Boulevard"
)
TYPE_FIRST = (
    rf"(?:{_TYPE_FIRST}) (?:(?:Norte|Sur|Oriente|Poniente|Este|Oeste) )?(?:(?:de la|de los|de las|del|"
    rf"de|della|delle|dei|degli|dell'|di|d'|da|do|dos|das|San|Santa) ?)?{W}"
    rf"(?: (?:{W}|de|del|la|los|las|y|di|della|dei|e))*,? (?:n[ºo°.]\.? ?)?"
    r"\d{1,5}[A-Za-z]?(?: \d{3})?(?: ?,? (?:Appartamento|Piano|Interno|Int\.|Interior|Edif\.|Depto\.|Scala|"
    r"Apt\.|Piso|Puerta|Portal|Escalera|Bajo|Local) ?\w{1,4}|,? \d{1,2}[ºª°] ?[A-Z]?){0,2}"
)
_DE_STRONG = (
    "straße|strasse|str\\.|gasse|allee|platz|weg|ufer|chaussee|steig|pfad|stieg|damm|graben|twiete|"
    "straat|laan|plein|gracht|kade|singel|dijk|dreef|steeg|plantsoen|boulevard|straatweg|gasse|gade|vej|allé|"
    "stræde|plads|torv|gatan|vägen|gränd|veien|gata"
)
_DE_WEAK = (
    "ring|markt|hof|berg|feld|park|tor|kamp|wall|garten|brücke|dorf|bogen|winkel|blick|höhe|horst|heide|"
    "grund|pad|baan|burg|wal|veld|haven|laantje|erf|wijk|zijde"
)
_DE_NAME = (
    r"(?:(?:Am|An der|An den|Auf der|Auf dem|Im|In der|In den|Zum|Zur|Unter den|Alte|Neue|Große|Kleine) )?"
    rf"{_UP}{_LET}*?"
)
COMPOUND = rf"(?:{_DE_NAME}|{W} )(?i:{_DE_STRONG}) ?{NUM}"  # Hauptstraße 12, Berliner Straße 12, Astrup Allé 7
COMPOUND_WEAK = rf"{_DE_NAME}(?i:{_DE_WEAK}) {NUM}"

# A layout that says "address" by itself may take the locality lines after it; a weak one needs them.
PATTERN = (
    rf"(?:^|[^\w])({YEAR}|(?:{MILITARY}|{PO_BOX}|{JAPAN}|{NUMBER_FIRST}|{FRENCH}|{TYPE_FIRST}|{COMPOUND})"
    rf"(?:\.?{TAIL})?|(?:{NUMBER_FIRST_WEAK}|{COMPOUND_WEAK}|{FRENCH_NONUM})(?:\.?{SEP}{SECONDARY})?\.?{TAIL})"
)
# address_ok's refusal: the YEAR alternative
REFUSE = r"^(?i:in|since|by|from|until|during|after|before|of|circa) "
# A necessary condition of every address PATTERN finds (YEAR aside, which address_ok refuses): each layout's
# anchor, and for the layouts that need locality lines, each tail's. Much cheaper than PATTERN over every
# stored text; tests/test_pii.py checks on every labelled corpus that no finding escapes it.
PREFILTER = "|".join(
    [
        r"[ADF]PO A[AEP] \d",  # military
        r"(?i:box|bag|postfach|postbus|apartado|postale) \d",  # post boxes
        r"-(?:ku|shi|machi|cho|gun|mura|to|fu|ken|do)\b",  # Japan
        rf"\d[A-Za-z]?,? [^\n]*? (?:{STRONG})\b",  # number first, strong type
        rf"\d(?: ?(?:bis|ter))?,? {FR_TYPE}",  # French
        rf"(?:{_TYPE_FIRST}) ",  # type first
        rf"(?i:{_DE_STRONG}) ?\d",  # compounds
        r"[A-Z]{2,4}\.?,? (?:\d{4}|[A-Z]\d[A-Z])",  # tails: state or province and code
        r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",  # UK postcode
        r"\d{4}(?: ?[A-Z]{2}|-\d{3})?,?[ \t]*(?:\r?\n|\\{1,2}n)?[ \t]*[A-ZÀ-ÖØ-Þ]",  # postcode then city
        rf"(?:{W}|\b{_LINK}),? \d{{4}}",  # city then postcode
        r"[AC-FHKNPRTV-Y]\d{2} ?[0-9AC-FHKNPRTV-Y]{4}",  # Eircode
    ]
)
