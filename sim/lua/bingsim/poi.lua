-- Points of interest for Location Recognition (recog.lua) and Local Search (localsearch.lua):
-- real businesses, landmarks and natural features with their public coordinates, near a few
-- gazetteer cities, and the type identifiers of common-parameters-and-types/type-identifiers/.
--
-- Where the reference shows a business (the coffee shops around Pioneer Square, the pizza
-- places and the Ballard cinemas of local-search.md, the businesses at 1 Microsoft Way of
-- location-recognition.md and location-and-recognition-entity-types.md) the row carries the
-- reference's own values: name, point, geocode point, address, phone, website, and for the
-- recognition examples the businessInfo ids and types. Other rows have a public address and
-- coordinates rounded to about 10 m; phone and website only where they are the place's
-- published ones, else none (null in a Local Search answer, as the reference shows for
-- Ann's Teriyaki). Locality, division and country come from the gazetteer's city entry.
--
-- Synthetic, and documented as such in sim/README.md: opening hours (`hours`, local standard
-- time, no daylight saving), the numeric `typeId`s and the `id`s of rows without
-- reference values, and the display names of types (the type ID split into words).
local gaz = require "bingsim.gazetteer"
local geocode = require "bingsim.geocode"
local text = require "bingsim.text"

local _M = {_VERSION = "0.1.0"}

-- type-identifiers/index.md (top level, in its order) with the sub-category lists of
-- eat-drink-types.md, see-do-types.md and shop-types.md.
_M.TYPE_TREE = {
  {"EatDrink", {"Bars", "BarsGrillsAndPubs", "BelgianRestaurants", "BreweriesAndBrewPubs",
    "BritishRestaurants", "BuffetRestaurants", "CafeRestaurants", "CaribbeanRestaurants",
    "ChineseRestaurants", "CocktailLounges", "CoffeeAndTea", "Delicatessens", "DeliveryService",
    "Diners", "DiscountStores", "Donuts", "FastFood", "FrenchRestaurants", "FrozenYogurt",
    "GermanRestaurants", "GreekRestaurants", "Grocers", "Grocery", "HawaiianRestaurants",
    "HungarianRestaurants", "IceCreamAndFrozenDesserts", "IndianRestaurants",
    "ItalianRestaurants", "JapaneseRestaurants", "Juices", "KoreanRestaurants", "LiquorStores",
    "MexicanRestaurants", "MiddleEasternRestaurants", "Pizza", "PolishRestaurants",
    "PortugueseRestaurants", "Pretzels", "Restaurants", "RussianAndUkrainianRestaurants",
    "Sandwiches", "SeafoodRestaurants", "SpanishRestaurants", "SportsBars",
    "SteakHouseRestaurants", "Supermarkets", "SushiRestaurants", "TakeAway", "Taverns",
    "ThaiRestaurants", "TurkishRestaurants", "VegetarianAndVeganRestaurants",
    "VietnameseRestaurants"}},
  {"SeeDo", {"AmusementParks", "Attractions", "Carnivals", "Casinos",
    "LandmarksAndHistoricalSites", "MiniatureGolfCourses", "MovieTheaters", "Museums", "Parks",
    "SightseeingTours", "TouristInformation", "Zoos"}},
  {"Shop", {"AntiqueStores", "Bookstores", "CDAndRecordStores", "ChildrensClothingStores",
    "CigarAndTobaccoShops", "ComicBookStores", "DepartmentStores", "DiscountStores",
    "FleaMarketsAndBazaars", "FurnitureStores", "HomeImprovementStores",
    "JewelryAndWatchesStores", "KitchenwareStores", "LiquorStores", "MallsAndShoppingCenters",
    "MensClothingStores", "MusicStores", "OutletStores", "PetShops", "PetSupplyStores",
    "SchoolAndOfficeSupplyStores", "ShoeStores", "SportingGoodsStores", "ToyAndGameStores",
    "VitaminAndSupplementStores", "WomensClothingStores"}},
  {"BanksAndCreditUnions", {}}, {"Hospitals", {}}, {"HotelsAndMotels", {}}, {"Parking", {}},
}

-- location-and-recognition-entity-types.md: "The complete list of supported natural entity types".
_M.NATURAL_TYPES = {"Bay", "Beach", "Canal", "Forest", "Island", "Lake", "Mountain", "Plateau",
  "Reserve", "River", "Sea", "Valley"}

-- UTC offset (hours, standard time) of the cities the rows name: for opening hours only.
local UTC_OFFSET = {US_WA = -8, US_NY = -5, US_CA = -8, CA_ON = -5, CA_BC = -8, DE = 1, IT = 1,
  ES = 1, FR = 1}

-- Businesses and POIs: {name, lat, lon, addressLine, city, iso2, division code, postal code,
-- {type IDs}, phone =, url =, display = {lat, lon} (the rooftop geocode point when it differs
-- from the point), hours = {"HH:MM", "HH:MM"} (open, close; close < open runs past midnight),
-- neighborhood =, info = {id, typeId, otherTypeIds, type, otherTypes} (reference values)}.
_M.BUSINESSES = {
  -- local-search.md, "Search by Query for local coffee shops in Downtown Seattle"
  {"Starbucks", 47.603889465332031, -122.33554077148437, "823 1st Ave", "Seattle", "US", "WA",
    "98104", {"CoffeeAndTea"}, phone = "(206) 340-9184",
    url = "http://www.starbucks.com/store/16645/",
    display = {47.603809356689453, -122.33565521240234}, hours = {"05:30", "19:00"}},
  {"Starbucks", 47.599094390869141, -122.33290863037109, "400 Occidental Ave S", "Seattle", "US",
    "WA", "98104", {"CoffeeAndTea"}, phone = "(206) 624-2561", url = "http://www.starbucks.com/",
    display = {47.599094390869141, -122.33263397216797}, hours = {"05:30", "19:00"}},
  {"Starbucks", 47.605205535888672, -122.33363342285156, "999 3rd Ave", "Seattle", "US", "WA",
    "98104", {"CoffeeAndTea"}, phone = "(206) 748-0058", url = "http://www.starbucks.com/",
    display = {47.605247497558594, -122.33421325683594}, hours = {"05:30", "19:00"}},
  {"Starbucks", 47.605587005615234, -122.33090972900391, "800 5th Ave", "Seattle", "US", "WA",
    "98104", {"CoffeeAndTea"}, phone = "(206) 623-3425",
    url = "https://www.starbucks.com/store-locator/store/89253/",
    display = {47.605548858642578, -122.33027648925781}, hours = {"05:30", "19:00"}},
  {"Elm Coffee Roasters", 47.600246429443359, -122.33158874511719, "240 2nd Ave S Ste 103",
    "Seattle", "US", "WA", "98104", {"CoffeeAndTea"}, phone = "(206) 445-7808",
    url = "https://elmcoffeeroasters.com/", display = {47.600181579589844, -122.33110046386719},
    hours = {"07:00", "17:00"}},
  {"Starbucks", 47.606231689453125, -122.33615875244141, "1191 2nd Ave", "Seattle", "US", "WA",
    "98101", {"CoffeeAndTea"}, phone = "(206) 652-8924", url = "http://www.starbucks.com/",
    display = {47.606266021728516, -122.33662414550781}, hours = {"05:30", "19:00"}},
  {"Starbucks", 47.604999542236328, -122.33952331542969, "1101 Alaskan Way", "Seattle", "US",
    "WA", "98101", {"CoffeeAndTea"}, phone = "(206) 554-7060",
    url = "https://www.starbucks.com/store-locator/store/16417/",
    display = {47.6048583984375, -122.33982849121094}, hours = {"05:30", "19:00"}},
  {"Starbucks", 47.6070671081543, -122.335693359375, "1201 3rd Ave", "Seattle", "US", "WA",
    "98101", {"CoffeeAndTea"}, phone = "(206) 467-3079",
    url = "https://www.starbucks.com/store-locator/store/89252/", hours = {"05:30", "19:00"}},
  {"Cherry Street Coffee House", 47.602653503417969, -122.33394622802734, "103 Cherry St",
    "Seattle", "US", "WA", "98104", {"CoffeeAndTea"}, phone = "(206) 621-9372",
    url = "http://www.cherryst.com/", hours = {"06:00", "16:00"}},
  {"Slate Coffee Roasters", 47.60247039794922, -122.3326644897461, "602 2nd Ave", "Seattle",
    "US", "WA", "98104", {"CoffeeAndTea"}, phone = "(206) 235-6565",
    url = "http://www.slatecoffee.com/", display = {47.60249710083008, -122.33243560791016},
    hours = {"07:00", "16:00"}},
  -- local-search.md, "Search for coffee in Downtown Seattle by Type" (its answer: pizza)
  {"Pizza Hut", 47.5445327758789, -122.376449584961, "6501 35th Ave SW", "Seattle", "US", "WA",
    "98126", {"Pizza"}, phone = "(206) 935-9300",
    url = "https://locations.pizzahut.com/wa/seattle/6501-35th-ave-sw",
    display = {47.5445404052734, -122.376747131348}, hours = {"10:30", "23:00"}},
  {"Pizza Hut", 47.5704307556152, -122.291015625, "3642 33rd Ave S Ste C-6", "Seattle", "US",
    "WA", "98144", {"Pizza"}, phone = "(206) 725-7000",
    url = "https://locations.pizzahut.com/wa/seattle/3642-33rd-avenue-s",
    display = {47.5704307556152, -122.290733337402}, hours = {"10:30", "23:00"}},
  {"Domino's Pizza", 47.599250793457, -122.308433532715, "1800 S Jackson St, Ste D", "Seattle",
    "US", "WA", "98144", {"Pizza", "DeliveryService"}, phone = "(206) 325-3230",
    url = "https://www.dominos.com/en/?redirect=homepage&utm_source=locallistings"
      .. "&utm_medium=loclist&utm_campaign=localmaps",
    display = {47.5996704101562, -122.308433532715}, hours = {"10:00", "02:00"}},
  {"Domino's Pizza", 47.6012992858887, -122.334167480469, "112 1st Ave S, Ste 100", "Seattle",
    "US", "WA", "98104", {"Pizza", "DeliveryService"}, phone = "(206) 445-0999",
    url = "https://www.dominos.com/en/?redirect=homepage&utm_source=locallistings"
      .. "&utm_medium=loclist&utm_campaign=localmaps",
    display = {47.6012992858887, -122.333839416504}, hours = {"10:00", "02:00"}},
  {"Pizza Hut", 47.5100479125977, -122.354515075684, "1517 SW 104th St", "Seattle", "US", "WA",
    "98146", {"Pizza"}, phone = "(206) 764-6000",
    url = "https://locations.pizzahut.com/wa/seattle/1517-sw-104th-st",
    display = {47.5098915100098, -122.354507446289}, hours = {"10:30", "23:00"}},
  -- local-search.md, "Search for a Cafe or Korean Restaurant within a Circular Radius" (Ballard)
  {"Majestic Bay Theatres", 47.668788909912109, -122.38408660888672, "2044 NW Market St",
    "Seattle", "US", "WA", "98107", {"MovieTheaters"}, phone = "(206) 781-2229",
    url = "https://majesticbay.com/", hours = {"12:00", "23:30"}, neighborhood = "Ballard"},
  {"Kimchi House", 47.671367645263672, -122.38759613037109, "5809 24th Ave NW", "Seattle", "US",
    "WA", "98107", {"KoreanRestaurants"}, phone = "(206) 784-5322",
    url = "http://kimchihouseseattle.com/", display = {47.671379089355469, -122.38784790039062},
    hours = {"11:00", "21:00"}, neighborhood = "Ballard"},
  {"Ann\226\128\153s Teriyaki", 47.668701171875, -122.38677215576172, "2246 NW Market St",
    "Seattle", "US", "WA", "98107", {"KoreanRestaurants", "JapaneseRestaurants"},
    phone = "(206) 789-5838", display = {47.668891906738281, -122.38676452636719},
    hours = {"11:00", "20:00"}, neighborhood = "Ballard"},
  {"Careys Cinema and More", 47.668243408203125, -122.38571929931641, "5425 Ballard Ave NW",
    "Seattle", "US", "WA", "98107", {"MovieTheaters"}, phone = "(206) 353-8222",
    display = {47.668281555175781, -122.38566589355469}, hours = {"12:00", "22:00"},
    neighborhood = "Ballard"},
  {"Hiram M. Chittenden Locks", 47.6655, -122.3972, "3015 NW 54th St", "Seattle", "US", "WA",
    "98107", {"LandmarksAndHistoricalSites", "Parks"}, neighborhood = "Ballard"},
  -- location-recognition.md and location-and-recognition-entity-types.md (1 Microsoft Way)
  {"Eastside Ski & Sport", 47.640155, -122.129788, "1 Microsoft Way Bldg 98", "Redmond", "US",
    "WA", "98052", {"SportingGoodsStores"}, phone = "(425) 885-3000",
    url = "http://www.eastsideskiandsport.com/",
    info = {id = "873x131243969", typeId = 90628, otherTypeIds = {91518, 91517, 90826},
      type = "Retail", otherTypes = {"Outdoor Recreational Equipment Stores", "Bicycle Shops",
        "Sports & Outdoors"}}},
  {"Microsoft Alumni Network", 47.640012, -122.129756, "1 Microsoft Way", "Redmond", "US", "WA",
    "98052", {}, phone = "(425) 885-3500", url = "http://microsoftalumni.com/",
    info = {id = "873x8648196069879702717", typeId = 91254, otherTypeIds = {90298},
      type = "Charitable Organizations", otherTypes = {"Government & Community"}}},
  {"Microsoft", 47.6427448210338, -122.12949670889715, "1 Microsoft Way", "Redmond", "US", "WA",
    "98052", {}, phone = "(425) 882-8080", url = "https://www.microsoft.com/en-us/",
    info = {id = "873x2278110160718493824", typeId = 91600, otherTypeIds = {91046, 90100},
      type = "IndustrialStructure", otherTypes = {"Information Technology Companies",
        "B2B Business Services", "Business-to-Business"}}},
  {"Microsoft Visitor Center", 47.6423, -122.1368, "15010 NE 36th St", "Redmond", "US", "WA",
    "98052", {"Attractions", "TouristInformation"}},
  -- Seattle: downtown, the waterfront, Seattle Center, First Hill, Capitol Hill
  {"Space Needle", 47.6205, -122.3493, "400 Broad St", "Seattle", "US", "WA", "98109",
    {"LandmarksAndHistoricalSites", "Attractions"}, phone = "(206) 905-2100",
    url = "https://www.spaceneedle.com/", neighborhood = "Queen Anne"},
  {"Museum of Pop Culture", 47.6215, -122.3481, "325 5th Ave N", "Seattle", "US", "WA", "98109",
    {"Museums"}, url = "https://www.mopop.org/", neighborhood = "Queen Anne"},
  {"Chihuly Garden and Glass", 47.6206, -122.3505, "305 Harrison St", "Seattle", "US", "WA",
    "98109", {"Museums", "Attractions"}, url = "https://www.chihulygardenandglass.com/",
    neighborhood = "Queen Anne"},
  {"Pike Place Market", 47.6097, -122.3422, "85 Pike St", "Seattle", "US", "WA", "98101",
    {"Attractions", "Grocery", "FleaMarketsAndBazaars"}, phone = "(206) 682-7453",
    url = "https://www.pikeplacemarket.org/"},
  {"Starbucks", 47.6101, -122.3425, "1912 Pike Pl", "Seattle", "US", "WA", "98101",
    {"CoffeeAndTea"}, url = "https://www.starbucks.com/", hours = {"06:00", "21:00"}},
  {"Seattle Art Museum", 47.6073, -122.3381, "1300 1st Ave", "Seattle", "US", "WA", "98101",
    {"Museums"}, url = "https://www.seattleartmuseum.org/", hours = {"10:00", "17:00"}},
  {"Seattle Aquarium", 47.6076, -122.3430, "1483 Alaskan Way", "Seattle", "US", "WA", "98101",
    {"Zoos", "Attractions"}, url = "https://www.seattleaquarium.org/",
    hours = {"09:30", "18:00"}},
  {"Fairmont Olympic Hotel", 47.6077, -122.3343, "411 University St", "Seattle", "US", "WA",
    "98101", {"HotelsAndMotels"}, url = "https://www.fairmont.com/seattle/"},
  {"Crowne Plaza Seattle-Downtown", 47.6086, -122.3322, "1113 6th Ave", "Seattle", "US", "WA",
    "98101", {"HotelsAndMotels"}},
  {"Pacific Place", 47.6127, -122.3353, "600 Pine St", "Seattle", "US", "WA", "98101",
    {"MallsAndShoppingCenters"}},
  {"Nordstrom", 47.6124, -122.3366, "500 Pine St", "Seattle", "US", "WA", "98101",
    {"DepartmentStores", "ShoeStores"}, url = "https://www.nordstrom.com/"},
  {"Pike Place Market Parking Garage", 47.6087, -122.3414, "1531 Western Ave", "Seattle", "US",
    "WA", "98101", {"Parking"}},
  {"Virginia Mason Medical Center", 47.6100, -122.3270, "1100 9th Ave", "Seattle", "US", "WA",
    "98101", {"Hospitals"}},
  {"Harborview Medical Center", 47.6041, -122.3239, "325 9th Ave", "Seattle", "US", "WA",
    "98104", {"Hospitals"}},
  {"Smith Tower", 47.6018, -122.3319, "506 2nd Ave", "Seattle", "US", "WA", "98104",
    {"LandmarksAndHistoricalSites", "Attractions"}},
  {"Lumen Field", 47.5952, -122.3316, "800 Occidental Ave S", "Seattle", "US", "WA", "98134",
    {"Attractions"}},
  {"Elliott Bay Book Company", 47.6147, -122.3194, "1521 10th Ave", "Seattle", "US", "WA",
    "98122", {"Bookstores"}, neighborhood = "Capitol Hill"},
  -- New York
  {"Empire State Building", 40.7484, -73.9857, "20 W 34th St", "New York", "US", "NY", "10001",
    {"LandmarksAndHistoricalSites", "Attractions"}, phone = "(212) 736-3100",
    url = "https://www.esbnyc.com/", neighborhood = "Manhattan"},
  {"The Museum of Modern Art", 40.7614, -73.9776, "11 W 53rd St", "New York", "US", "NY",
    "10019", {"Museums"}, phone = "(212) 708-9400", url = "https://www.moma.org/",
    neighborhood = "Manhattan"},
  {"The Metropolitan Museum of Art", 40.7794, -73.9632, "1000 5th Ave", "New York", "US", "NY",
    "10028", {"Museums"}, phone = "(212) 535-7710", url = "https://www.metmuseum.org/",
    neighborhood = "Manhattan"},
  {"Rockefeller Center", 40.7587, -73.9787, "45 Rockefeller Plaza", "New York", "US", "NY",
    "10111", {"Attractions", "LandmarksAndHistoricalSites"},
    url = "https://www.rockefellercenter.com/", neighborhood = "Manhattan"},
  {"Macy's Herald Square", 40.7508, -73.9890, "151 W 34th St", "New York", "US", "NY", "10001",
    {"DepartmentStores"}, url = "https://www.macys.com/", neighborhood = "Manhattan"},
  {"Grand Central Terminal", 40.7527, -73.9772, "89 E 42nd St", "New York", "US", "NY", "10017",
    {"LandmarksAndHistoricalSites"}, neighborhood = "Manhattan"},
  {"Katz's Delicatessen", 40.7223, -73.9874, "205 E Houston St", "New York", "US", "NY", "10002",
    {"Delicatessens", "Sandwiches"}, url = "https://katzsdelicatessen.com/",
    neighborhood = "Manhattan"},
  {"Joe's Pizza", 40.7306, -74.0021, "7 Carmine St", "New York", "US", "NY", "10014", {"Pizza"},
    neighborhood = "Manhattan"},
  -- San Francisco
  {"Ferry Building Marketplace", 37.7955, -122.3937, "1 Ferry Building", "San Francisco", "US",
    "CA", "94111", {"LandmarksAndHistoricalSites", "MallsAndShoppingCenters"},
    url = "https://www.ferrybuildingmarketplace.com/"},
  {"Blue Bottle Coffee", 37.7956, -122.3934, "1 Ferry Building #7", "San Francisco", "US", "CA",
    "94111", {"CoffeeAndTea"}, url = "https://bluebottlecoffee.com/"},
  {"San Francisco Museum of Modern Art", 37.7857, -122.4011, "151 3rd St", "San Francisco", "US",
    "CA", "94103", {"Museums"}, url = "https://www.sfmoma.org/"},
  {"Exploratorium", 37.8017, -122.3973, "Pier 15", "San Francisco", "US", "CA", "94111",
    {"Museums"}, url = "https://www.exploratorium.edu/"},
  {"Coit Tower", 37.8024, -122.4058, "1 Telegraph Hill Blvd", "San Francisco", "US", "CA",
    "94133", {"LandmarksAndHistoricalSites"}},
  -- Toronto
  {"CN Tower", 43.6426, -79.3871, "290 Bremner Blvd", "Toronto", "CA", "ON", "M5V 3L9",
    {"LandmarksAndHistoricalSites", "Attractions"}, url = "https://www.cntower.ca/"},
  {"Ripley's Aquarium of Canada", 43.6424, -79.3860, "288 Bremner Blvd", "Toronto", "CA", "ON",
    "M5V 3L9", {"Zoos", "Attractions"}},
  {"Royal Ontario Museum", 43.6677, -79.3948, "100 Queens Park", "Toronto", "CA", "ON",
    "M5S 2C6", {"Museums"}, url = "https://www.rom.on.ca/"},
  {"St. Lawrence Market", 43.6487, -79.3716, "93 Front St E", "Toronto", "CA", "ON", "M5E 1C3",
    {"Grocery", "Attractions"}},
  -- Berlin
  {"Brandenburger Tor", 52.5163, 13.3777, "Pariser Platz", "Berlin", "DE", "BE", "10117",
    {"LandmarksAndHistoricalSites"}},
  {"Reichstagsgeb\195\164ude", 52.5186, 13.3762, "Platz der Republik 1", "Berlin", "DE", "BE",
    "11011", {"LandmarksAndHistoricalSites"}},
  {"Pergamonmuseum", 52.5212, 13.3969, "Bodestra\195\159e 1-3", "Berlin", "DE", "BE", "10178",
    {"Museums"}, url = "https://www.smb.museum/"},
  {"KaDeWe", 52.5015, 13.3411, "Tauentzienstra\195\159e 21-24", "Berlin", "DE", "BE", "10789",
    {"DepartmentStores"}, url = "https://www.kadewe.de/"},
  {"Zoo Berlin", 52.5079, 13.3378, "Hardenbergplatz 8", "Berlin", "DE", "BE", "10787", {"Zoos"},
    url = "https://www.zoo-berlin.de/"},
  -- Rome
  {"Colosseo", 41.8902, 12.4922, "Piazza del Colosseo 1", "Rome", "IT", "LAZ", "00184",
    {"LandmarksAndHistoricalSites"}},
  {"Pantheon", 41.8986, 12.4769, "Piazza della Rotonda", "Rome", "IT", "LAZ", "00186",
    {"LandmarksAndHistoricalSites"}},
  {"Fontana di Trevi", 41.9009, 12.4833, "Piazza di Trevi", "Rome", "IT", "LAZ", "00187",
    {"LandmarksAndHistoricalSites", "Attractions"}},
  {"Musei Vaticani", 41.9065, 12.4536, "Viale Vaticano", "Rome", "IT", "LAZ", "00165",
    {"Museums"}, url = "https://www.museivaticani.va/"},
  -- Madrid, Barcelona
  {"Museo Nacional del Prado", 40.4138, -3.6921, "Calle de Ruiz de Alarc\195\179n 23", "Madrid",
    "ES", "MD", "28014", {"Museums"}, url = "https://www.museodelprado.es/"},
  {"Palacio Real de Madrid", 40.4180, -3.7143, "Calle de Bail\195\169n", "Madrid", "ES", "MD",
    "28071", {"LandmarksAndHistoricalSites"}},
  {"Parque del Retiro", 40.4153, -3.6845, "Plaza de la Independencia 7", "Madrid", "ES", "MD",
    "28001", {"Parks"}},
  {"Mercado de San Miguel", 40.4154, -3.7090, "Plaza de San Miguel", "Madrid", "ES", "MD",
    "28005", {"Grocery", "Attractions"}},
  {"Sagrada Fam\195\173lia", 41.4036, 2.1744, "Carrer de Mallorca 401", "Barcelona", "ES", "CT",
    "08013", {"LandmarksAndHistoricalSites"}, url = "https://sagradafamilia.org/"},
  {"Mercat de la Boqueria", 41.3817, 2.1716, "La Rambla 91", "Barcelona", "ES", "CT", "08001",
    {"Grocery"}},
  -- Paris: France is not among the countries Location Recognition supports (nor is it the
  -- US, the only country of Local Search); these rows are never answered.
  {"Mus\195\169e du Louvre", 48.8606, 2.3376, "Rue de Rivoli", "Paris", "FR", "IdF", "75001",
    {"Museums"}, url = "https://www.louvre.fr/"},
  {"Tour Eiffel", 48.8584, 2.2945, "5 Avenue Anatole France", "Paris", "FR", "IdF", "75007",
    {"LandmarksAndHistoricalSites"}},
}

-- Natural points of interest: {entityName, lat, lon, type} (a representative point).
_M.NATURAL = {
  {"Alki Beach Park", 47.595383, -122.38659, "Beach"}, -- location-recognition.md
  {"Elliott Bay", 47.6040, -122.3560, "Bay"},
  {"Lake Union", 47.6390, -122.3380, "Lake"},
  {"Green Lake", 47.6800, -122.3290, "Lake"},
  {"Salmon Bay", 47.6640, -122.3860, "Bay"},
  {"Lake Washington Ship Canal", 47.6497, -122.3490, "Canal"},
  {"Sammamish River", 47.6770, -122.1290, "River"},
  {"Hudson River", 40.7600, -74.0050, "River"},
  {"East River", 40.7480, -73.9680, "River"},
  {"The Lake", 40.7760, -73.9710, "Lake"},
  {"Ocean Beach", 37.7594, -122.5107, "Beach"},
  {"Alcatraz Island", 37.8267, -122.4230, "Island"},
  {"Baker Beach", 37.7936, -122.4836, "Beach"},
  {"Lake Ontario", 43.6300, -79.3800, "Lake"},
  {"Toronto Islands", 43.6205, -79.3787, "Island"},
  {"English Bay Beach", 49.2863, -123.1432, "Beach"},
  {"Spree", 52.5190, 13.3950, "River"},
  {"Landwehrkanal", 52.5000, 13.3900, "Canal"},
  {"Tevere", 41.8960, 12.4740, "River"},
  {"Manzanares", 40.4100, -3.7200, "River"},
  {"Platja de la Barceloneta", 41.3784, 2.1925, "Beach"},
  {"Seine", 48.8580, 2.2950, "River"},
}

-- Street addresses for reverse geocoding that are neither a business nor in the gazetteer:
-- {addressLine, lat, lon, city, iso2, division, postal, neighborhood =}.
_M.ADDRESSES = {
  -- location-recognition.md: the address of 47.609722,-122.333056 and of 47.640068,-122.129860
  {"1314 6th Ave", 47.60975, -122.33287, "Seattle", "US", "WA", "98101",
    neighborhood = "Central Business District"},
  {"1 Microsoft Way", 47.640068, -122.12986, "Redmond", "US", "WA", "98052",
    neighborhood = "Overlake"},
}

-- Built by load() -----------------------------------------------------------------------

local TYPE_CANON, TYPE_CHILDREN, TYPE_NUMBER = {}, {}, {}
do
  local n = 0
  for _, row in ipairs(_M.TYPE_TREE) do
    local top, subs = row[1], row[2]
    n = n + 1
    TYPE_CANON[top:lower()], TYPE_NUMBER[top] = top, 90000 + n
    TYPE_CHILDREN[top] = subs
    for _, s in ipairs(subs) do
      if not TYPE_CANON[s:lower()] then
        n = n + 1
        TYPE_CANON[s:lower()], TYPE_NUMBER[s] = s, 90000 + n
      end
    end
  end
end
_M.TYPE_NUMBER = TYPE_NUMBER

--- "CoffeeAndTea" -> "Coffee & Tea", "CDAndRecordStores" -> "CD & Record Stores".
function _M.display(id)
  local s = id:gsub("(%l)(%u)", "%1 %2"):gsub("(%u)(%u%l)", "%1 %2")
  return (s:gsub(" And ", " & "))
end

-- Query words compare singular: "theaters" = "theater", "museums" = "museum".
local function stem(w)
  if #w > 3 and w:sub(-1) == "s" and w:sub(-2) ~= "ss" then return w:sub(1, -2) end
  return w
end
_M.stem = stem

local function minutes(hhmm)
  local h, m = hhmm:match("^(%d%d):(%d%d)$")
  return tonumber(h) * 60 + tonumber(m)
end

local function city_entry(name, iso2, code)
  for _, e in ipairs(gaz.entries) do
    if e.kind == "PopulatedPlace" and e.iso2 == iso2 and e.address.locality == name
        and e.address.adminDistrict == code then
      return e
    end
  end
  error("bingsim.poi: no gazetteer city " .. name .. ", " .. code .. ", " .. iso2)
end

local function add_words(set, s)
  for _, w in ipairs(text.words(s)) do set[stem(w)] = true end
end

local function place(row, line, city, iso2, code, postal, neighborhood)
  local c = city_entry(city, iso2, code)
  local country = gaz.countries[iso2]
  local admin = gaz.admin1[iso2 .. "/" .. code]
  return {
    line = line, locality = city, iso2 = iso2, admin = code,
    admin_name = admin and admin.name or code, country = country.name, postal = postal,
    neighborhood = neighborhood or row.neighborhood, utc = UTC_OFFSET[iso2 .. "_" .. code]
      or UTC_OFFSET[iso2] or 0, city = c,
  }
end

local loaded = false
function _M.load()
  if loaded then return _M end
  gaz.load()
  local businesses = {}
  for i, row in ipairs(_M.BUSINESSES) do
    local b = place(row, row[4], row[5], row[6], row[7], row[8])
    b.id, b.name, b.lat, b.lon, b.types = i, row[1], row[2], row[3], row[9]
    b.dlat = row.display and row.display[1] or b.lat
    b.dlon = row.display and row.display[2] or b.lon
    b.phone, b.url, b.info = row.phone, row.url, row.info
    if row.hours then b.open, b.close = minutes(row.hours[1]), minutes(row.hours[2]) end
    b.type_set, b.keywords = {}, {}
    for _, t in ipairs(b.types) do
      b.type_set[t] = true
      add_words(b.keywords, _M.display(t))
    end
    if b.info then add_words(b.keywords, b.info.type) end
    add_words(b.keywords, b.name)
    add_words(b.keywords, b.locality)
    if b.neighborhood then add_words(b.keywords, b.neighborhood) end
    local eat = false
    for _, t in ipairs(b.types) do
      for _, s in ipairs(TYPE_CHILDREN.EatDrink) do
        if s == t and t ~= "DiscountStores" and t ~= "LiquorStores" then eat = true end
      end
    end
    -- local-search.md shows "Restaurant" for eating places (coffee shops too) and
    -- "LocalBusiness" for the others (cinemas).
    b.entity_type = eat and "Restaurant" or "LocalBusiness"
    businesses[i] = b
  end
  _M.businesses = businesses

  local natural = {}
  for i, row in ipairs(_M.NATURAL) do
    natural[i] = {id = i, name = row[1], lat = row[2], lon = row[3], type = row[4]}
  end
  _M.natural = natural

  -- Reverse geocoding candidates: the extra addresses, every business address, and the
  -- gazetteer's street addresses.
  local addresses = {}
  for _, row in ipairs(_M.ADDRESSES) do
    local a = place(row, row[1], row[4], row[5], row[6], row[7], row.neighborhood)
    a.lat, a.lon = row[2], row[3]
    addresses[#addresses + 1] = a
  end
  for _, b in ipairs(businesses) do addresses[#addresses + 1] = b end
  for _, e in ipairs(gaz.entries) do
    if e.kind == "Address" and e.address.locality then
      local a = e.address
      addresses[#addresses + 1] = {
        line = a.addressLine, locality = a.locality, iso2 = e.iso2, admin = a.adminDistrict,
        admin_name = e.admin1_name or a.adminDistrict, country = a.countryRegion,
        postal = a.postalCode, neighborhood = a.neighborhood, lat = e.lat, lon = e.lon,
      }
    end
  end
  _M.addresses = addresses
  loaded = true
  return _M
end

local distance_km = geocode.distance_km
_M.distance_km = distance_km

--- Type IDs of a `type=` value: list of canonical IDs, or nil, the first unknown item.
function _M.parse_types(s)
  local out = {}
  for item in (s .. ","):gmatch("([^,]*),") do
    local t = item:match("^%s*(.-)%s*$")
    local canon = TYPE_CANON[t:lower()]
    if not canon then return nil, t end
    out[#out + 1] = canon
  end
  return out
end

--- The set of type IDs a list selects: a top-level ID selects itself and its sub-categories.
function _M.expand(list)
  local set = {}
  for _, t in ipairs(list) do
    set[t] = true
    for _, s in ipairs(TYPE_CHILDREN[t] or {}) do set[s] = true end
  end
  return set
end

function _M.has_type(b, set)
  for _, t in ipairs(b.types) do
    if set[t] then return true end
  end
  return false
end

--- Every query word (stopwords aside) names the business, one of its types, its city or
-- its neighbourhood.
function _M.matches_query(b, query)
  local any = false
  for _, w in ipairs(text.words(query)) do
    if not text.STOPWORDS[w] then
      any = true
      if not b.keywords[stem(w)] then return false end
    end
  end
  return any
end

--- Open at `minute_utc` (minutes since midnight UTC)? nil when the row has no hours.
function _M.is_open(b, minute_utc)
  if not b.open then return nil end
  local t = (minute_utc + b.utc * 60) % 1440
  if b.open <= b.close then return t >= b.open and t < b.close end
  return t >= b.open or t < b.close
end

--- {item, dist} for the items of `list` within `km` of the point, nearest first.
function _M.within(list, lat, lon, km)
  local out = {}
  for _, it in ipairs(list) do
    local d = distance_km(lat, lon, it.lat, it.lon)
    if d <= km then out[#out + 1] = {item = it, dist = d} end
  end
  table.sort(out, function(a, b)
    if a.dist ~= b.dist then return a.dist < b.dist end
    return a.item.id < b.item.id
  end)
  return out
end

--- The nearest reverse-geocoding address within `km`, and its distance.
function _M.nearest_address(lat, lon, km)
  local best, best_d
  for _, a in ipairs(_M.addresses) do
    local d = distance_km(lat, lon, a.lat, a.lon)
    if d <= km and (not best_d or d < best_d) then best, best_d = a, d end
  end
  return best, best_d
end

return _M
