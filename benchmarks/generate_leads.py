"""Synthetic lead files with known duplicates, for benchmarks, tests and the bundled samples.

``generate_leads(n)`` returns ``n`` leads as a polars frame of strings with the headers a CRM or
list-vendor export typically has ("First Name", "Email", "Postal Code", ...), plus two truth
columns: ``record_id`` (unique per row) and ``entity_id`` (rows describing the same real person
share it). A fraction ``dup_rate`` of the rows are extra records of an already generated person,
re-typed with the noise seen in real lead data: typos, nicknames (Robert/Bob), case, e-mail
variants (plus-tags, gmail dots, private instead of work address), the same phone written another
way, company legal-suffix variants ("Acme Inc." / "ACME, Inc" / "Acme"), missing fields and
swapped first/last names. ``noise="hard"`` adds distinct people who look like duplicates:
colleagues with similar names at the same company sharing the switchboard phone, and namesakes
whose e-mail addresses differ only by a digit.

Everything is drawn with numpy from one seeded generator and assembled with polars expressions:
there is no Python loop over rows, only over small vocabularies (countries, phone ranges, formats),
so a million rows take a few seconds. Phone numbers are drawn from ranges that
``phonenumbers.is_valid_number`` accepts for the person's country (real area codes, no 555
exchanges); the test in ``tests/benchmarks`` checks this on a sample.

The vocabularies live in this one module on purpose: the module is a self-contained benchmark
script, not part of the package, and splitting the word lists out would add a file to import
for no gain in readability. The one exception is the long tail of rarer names,
``benchmarks/data/name_tails.csv``: thousands of names extracted from the Faker library by
``benchmarks/extract_name_tails.py``.

Usage::

    python benchmarks/generate_leads.py --rows 1000000 --out /tmp/leads.csv --noise hard

Example::

    >>> from benchmarks.generate_leads import generate_leads
    >>> frame = generate_leads(1_000, dup_rate=0.1, seed=7)
    >>> frame.height, frame["entity_id"].n_unique()
    (1000, 900)
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

__all__ = [
    "COMMON_FIRST_NAMES",
    "COMMON_LAST_NAMES",
    "COUNTRY_VARIANTS",
    "RARE_NAMES",
    "add_rare_names_option",
    "EXPORT_COLUMNS",
    "SUPPORTED_COUNTRIES",
    "country_code",
    "generate_leads",
    "write_leads",
]

#: The export headers of a generated frame, in order (besides ``record_id`` and ``entity_id``).
EXPORT_COLUMNS: tuple[str, ...] = (
    "First Name",
    "Last Name",
    "Email",
    "Phone",
    "Company",
    "Title",
    "Website",
    "Street",
    "City",
    "State",
    "Postal Code",
    "Country",
    "Industry",
    "Lead Source",
    "Employees",
)
RECORD_ID = "record_id"
ENTITY_ID = "entity_id"

Noise = Literal["normal", "hard"]

# =============================================================================================
# Vocabulary
# =============================================================================================


def _words(text: str) -> list[str]:
    """Split a comma-separated word list (entries may contain spaces: "van der Berg")."""
    return [w.strip() for w in text.split(",") if w.strip()]


# Languages drive names, titles, streets and company words: en_us (US/CA), en_gb (GB/IE), de
# (DE/AT/CH), fr (FR, Geneva, Lausanne, Montréal). Pools are indexed by them in this order.
_EN_US, _EN_GB, _DE, _FR = range(4)

# Titles are in the generic (grammatically masculine) form: the generator does not know
# people's gender, and "Geschäftsführerin" next to "Herr" would be a mess nobody makes.

# Roughly in order of frequency: pools are drawn with Zipf-like weights, so "John Smith" and
# "Thomas Müller" occur often enough to produce namesakes in large files; rarer names come from
# the tail lists (see RARE_NAMES below).
_FIRST_EN = _words("""
James, John, Robert, Michael, William, David, Richard, Joseph, Thomas, Charles, Christopher,
Daniel, Matthew, Anthony, Mark, Donald, Steven, Paul, Andrew, Joshua, Kenneth, Kevin, Brian,
George, Timothy, Ronald, Edward, Jason, Jeffrey, Ryan, Jacob, Gary, Nicholas, Eric, Jonathan,
Stephen, Lawrence, Justin, Scott, Brandon, Benjamin, Samuel, Gregory, Alexander, Frank, Patrick,
Raymond, Jack, Dennis, Gerald, Tyler, Aaron, Jose, Adam, Nathan, Henry, Douglas, Zachary, Peter,
Kyle, Noah, Ethan, Jeremy, Walter, Christian, Keith, Roger, Terry, Austin, Sean, Carl, Harold,
Dylan, Arthur, Jordan, Jesse, Bryan, Bruce, Gabriel, Logan, Albert, Alan, Eugene, Russell,
Vincent, Philip, Bradley, Oliver, Theodore, Frederick, Nathaniel, Francis, Carlos, Luis, Miguel,
Ahmed, Mohammed, Raj, Wei, Hiroshi, Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan,
Jessica, Sarah, Karen, Lisa, Nancy, Betty, Margaret, Sandra, Ashley, Kimberly, Emily, Donna,
Michelle, Carol, Amanda, Dorothy, Melissa, Deborah, Stephanie, Rebecca, Sharon, Laura, Cynthia,
Kathleen, Amy, Angela, Shirley, Anna, Brenda, Pamela, Emma, Nicole, Helen, Samantha, Katherine,
Christine, Rachel, Carolyn, Janet, Catherine, Maria, Heather, Diane, Ruth, Julie, Olivia, Joyce,
Virginia, Victoria, Kelly, Lauren, Christina, Joan, Evelyn, Judith, Megan, Andrea, Cheryl, Hannah,
Jacqueline, Martha, Gloria, Teresa, Sara, Madison, Frances, Kathryn, Janice, Jean, Abigail,
Alice, Sophia, Grace, Denise, Amber, Danielle, Beverly, Isabella, Diana, Natalie, Brittany,
Charlotte, Alexandra, Chloe, Priya, Mei, Yuki, Fatima, Aisha, Sofia, Lucia,
Bob, Rob, Bobby, Bill, Will, Billy, Liz, Beth, Kate, Katie, Kathy, Cathy, Mike, Jim, Jimmy, Rick,
Rich, Joe, Tom, Chris, Dan, Matt, Tony, Steve, Andy, Josh, Jon, Ben, Sam, Alex, Nick, Pat, Ed,
Ted, Charlie, Jen, Jenny, Maggie, Meg, Peggy, Sue, Debbie, Becky, Jess, Vicky, Kim, Steph, Jackie,
Tim, Greg, Ken, Ron, Don, Larry, Fred, Zach, Nate, Abby, Gabe, Jeff, Doug, Ray, Jerry, Pam, Cindy,
Sandy, Barb, Nat, Al, Phil, Vince, Russ, Brad, Harry, Dave, Theo
""")
_FIRST_DE = _words("""
Thomas, Michael, Andreas, Stefan, Christian, Markus, Frank, Martin, Alexander, Jürgen, Peter,
Klaus, Wolfgang, Matthias, Sebastian, Tobias, Daniel, Jan, Florian, Uwe, Johannes, Friedrich,
Maximilian, Lukas, Leon, Finn, Jonas, Paul, Felix, Elias, Benjamin, Tim, Niklas, Julian, Moritz,
Philipp, Dieter, Günter, Horst, Helmut, Jörg, Bernd, Ralf, Sven, Dirk, Kai, Lars, Oliver,
Torsten, Hans-Peter, Karl-Heinz, Sabine, Petra, Claudia, Andrea, Birgit, Monika, Ursula, Karin,
Heike, Nicole, Sandra, Anja, Kerstin, Susanne, Gabriele, Christina, Katharina, Stefanie,
Franziska, Julia, Anna, Lena, Lea, Hannah, Emma, Mia, Sophie, Laura, Lisa, Sarah, Jana, Marie,
Johanna, Charlotte, Greta, Frieda, Anna-Lena, Doris, Renate, Silke, Tanja, Melanie,
Hans, Fritz, Max, Alex, Andi, Chris, Micha, Tom, Tobi, Ben, Steffi, Franzi, Kathi, Susi, Gabi,
Tina, Wolf
""")
_FIRST_FR = _words("""
Jean, Pierre, Michel, Philippe, Alain, Nicolas, Christophe, Laurent, Éric, Frédéric, Sébastien,
Stéphane, David, Olivier, Julien, Thomas, Antoine, Alexandre, Maxime, Guillaume, Vincent,
François, Romain, Mathieu, Hugo, Lucas, Louis, Gabriel, Arthur, Raphaël, Théo, Jules, Benoît,
Thierry, Patrick, Didier, Gérard, Bruno, Yves, Maximilien, Jean-Pierre, Jean-Luc, Jean-Marc,
Marie, Nathalie, Isabelle, Sylvie, Catherine, Françoise, Sandrine, Véronique, Valérie,
Christine, Céline, Stéphanie, Aurélie, Julie, Camille, Émilie, Élodie, Sophie, Claire, Chloé,
Léa, Manon, Emma, Inès, Louise, Jade, Alice, Lina, Élisabeth, Hélène, Anne, Marie-Claire,
Marie-Hélène, Anne-Sophie, Brigitte, Monique, Mathilde, Margaux, Océane, Clémence, Juliette,
Amélie, Agnès, Nico, Fred, Seb, Alex, Cathy, Véro, Steph, Babeth, Max
""")

# Names outside the curated lists above: the longer lists of the Faker library, extracted once
# by benchmarks/extract_name_tails.py (Faker 40.63.0) into a committed CSV. The curated lists
# alone drew 29-39% of first names from the 10 most common ones and one surname of the US list in
# 22 was Smith (one American in 126 in the 2010 census); two people drawing from the US lists
# shared a full name with probability 1.5e-4, 9 times what Faker's census-based US lists give
# (1.7e-5). Namesakes at one company were then so common in large files that they, not matching,
# set the F1. With the tail taking RARE_NAMES of the draws: 2.1e-5 for the US lists, 4.6e-5 to
# 5.5e-5 for the German and French ones (shorter curated lists), still above real life (Faker's US
# lists stop at the 1,000 most common surnames and 690 first names). The hard-noise look-alike
# colleagues keep a common first name when one has the right initial.
_NAME_TAILS = Path(__file__).with_name("data") / "name_tails.csv"
#: Default share of first and last names drawn from the tail lists (0: the curated lists alone,
#: as the generator did before 2026-12-05).
RARE_NAMES = 0.4


def _name_tails() -> dict[str, list[str]]:
    """The tail names of each pool (first_en, last_us, ...), in file order."""
    frame = pl.read_csv(_NAME_TAILS, schema={"pool": pl.String, "name": pl.String})
    return {pool: names for pool, names in
            frame.group_by("pool", maintain_order=True).agg("name").iter_rows()}


# formal name -> nicknames (the first is the usual one). Used both ways for duplicates.
_NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth"), "Katherine": ("Kate", "Katie", "Kathy"),
    "Catherine": ("Cathy", "Kate"), "Kathleen": ("Kathy",), "Michael": ("Mike", "Micha"),
    "James": ("Jim", "Jimmy"), "Richard": ("Rick", "Rich"), "Joseph": ("Joe",),
    "Thomas": ("Tom",), "Christopher": ("Chris",), "Daniel": ("Dan",), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Steven": ("Steve",), "Stephen": ("Steve",), "Andrew": ("Andy",),
    "Joshua": ("Josh",), "Jonathan": ("Jon",), "Benjamin": ("Ben",), "Samuel": ("Sam",),
    "Alexander": ("Alex",), "Nicholas": ("Nick",), "Patrick": ("Pat",), "Edward": ("Ed", "Ted"),
    "Charles": ("Charlie",), "Jennifer": ("Jen", "Jenny"), "Margaret": ("Maggie", "Meg", "Peggy"),
    "Patricia": ("Pat",), "Susan": ("Sue",), "Deborah": ("Debbie",), "Rebecca": ("Becky",),
    "Jessica": ("Jess",), "Victoria": ("Vicky",), "Samantha": ("Sam",), "Christine": ("Chris",),
    "Alexandra": ("Alex",), "Kimberly": ("Kim",), "Stephanie": ("Steph",),
    "Jacqueline": ("Jackie",), "Timothy": ("Tim",), "Gregory": ("Greg",), "Kenneth": ("Ken",),
    "Ronald": ("Ron",), "Donald": ("Don",), "Lawrence": ("Larry",), "Frederick": ("Fred",),
    "Zachary": ("Zach",), "Nathan": ("Nate",), "Nathaniel": ("Nate",), "Abigail": ("Abby",),
    "Gabriel": ("Gabe",), "Jeffrey": ("Jeff",), "Douglas": ("Doug",), "Raymond": ("Ray",),
    "Gerald": ("Jerry",), "Pamela": ("Pam",), "Cynthia": ("Cindy",), "Sandra": ("Sandy",),
    "Barbara": ("Barb",), "Natalie": ("Nat",), "Albert": ("Al",), "Philip": ("Phil",),
    "Vincent": ("Vince",), "Russell": ("Russ",), "Bradley": ("Brad",), "Henry": ("Harry",),
    "David": ("Dave",), "Theodore": ("Theo", "Ted"),
    # German
    "Johannes": ("Hans",), "Friedrich": ("Fritz",), "Katharina": ("Kathi",),
    "Christian": ("Chris",), "Stefanie": ("Steffi",), "Franziska": ("Franzi",),
    "Tobias": ("Tobi",), "Andreas": ("Andi",), "Maximilian": ("Max",), "Susanne": ("Susi",),
    "Gabriele": ("Gabi",), "Christina": ("Tina",), "Wolfgang": ("Wolf",),
    # French
    "Nicolas": ("Nico",), "Alexandre": ("Alex",), "Frédéric": ("Fred",), "Christophe": ("Chris",),
    "Élisabeth": ("Babeth",), "Sébastien": ("Seb",), "Véronique": ("Véro",),
    "Stéphanie": ("Steph",), "Maximilien": ("Max",),
}

_LAST_US = _words("""
Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez,
Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Perez, Thompson,
White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker, Young, Allen, King, Wright,
Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson, Baker, Hall, Rivera, Campbell,
Mitchell, Carter, Roberts, Gomez, Phillips, Evans, Turner, Diaz, Parker, Cruz, Edwards, Collins,
Reyes, Stewart, Morris, Morales, Murphy, Cook, Rogers, Gutierrez, Ortiz, Morgan, Cooper,
Peterson, Bailey, Reed, Kelly, Howard, Ramos, Kim, Cox, Ward, Richardson, Watson, Brooks, Chavez,
Wood, James, Bennett, Gray, Mendoza, Ruiz, Hughes, Price, Alvarez, Castillo, Sanders, Patel,
Myers, Long, Ross, Foster, Jimenez, Powell, Jenkins, Perry, Russell, Sullivan, Bell, Coleman,
Butler, Henderson, Barnes, Fisher, Vasquez, Simmons, Romero, Jordan, Patterson, Hamilton,
Graham, Reynolds, Griffin, Wallace, Moreno, West, Cole, Hayes, Bryant, Herrera, Gibson, Ellis,
Tran, Medina, Aguilar, Stevens, Murray, Ford, Castro, Marshall, Owens, Harrison, Fernandez,
McDonald, Woods, Washington, Kennedy, Wells, Vargas, Chen, Freeman, Webb, Tucker, Guzman, Burns,
Crawford, Olson, Simpson, Porter, Hunter, Gordon, Mendez, Silva, Shaw, Snyder, Mason, Dixon,
Munoz, Hunt, Hicks, Holmes, Palmer, Wagner, Black, Robertson, Boyd, Rose, Stone, Salazar, Fox,
Warren, Mills, Meyer, Rice, Garza, Daniels, Ferguson, Nichols, Stephens, Soto, Weaver, Ryan,
Gardner, Payne, Grant, Dunn, Spencer, Hawkins, Arnold, Pierce, Hansen, Peters, Santos, Hart,
Bradley, Knight, Elliott, Cunningham, Duncan, Armstrong, Hudson, Carroll, Lane, Riley, Andrews,
Berry, Perkins, Hoffman, Johnston, Matthews, Richards, Willis, Carpenter, Lawrence, O'Brien,
O'Connor, McCarthy, MacKenzie, McDonnell, Wang, Zhang, Liu, Singh, Shah, Cohen, Levy, Goldberg,
St. John, DeLuca, D'Angelo, Van Buren, Vanderbilt, Smith-Jones, LaRue, DeSantis, Nakamura, Park
""")
_LAST_GB = _words("""
Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Patel, Robinson, Wright,
Thompson, Evans, Walker, White, Roberts, Green, Hall, Thomas, Clarke, Jackson, Wood, Harris,
Edwards, Turner, Martin, Cooper, Hill, Ward, Hughes, Moore, Clark, King, Harrison, Lewis, Baker,
Lee, Allen, Morris, Khan, Scott, Watson, Davis, Parker, James, Bennett, Young, Phillips,
Richardson, Mitchell, Bailey, Carter, Cook, Singh, Shaw, Bell, Collins, Morgan, Kelly, Begum,
Miller, Cox, Hussain, Marshall, Simpson, Price, Anderson, Adams, Wilkinson, Ali, Ahmed, Foster,
Ellis, Murphy, Chapman, Mason, Gray, Richards, Webb, Griffiths, Hunt, Palmer, Campbell, Holmes,
Mills, Barnes, Knight, Matthews, Barker, Powell, Stevens, Kaur, Fisher, Butler, Dixon, Russell,
Harvey, Pearson, Graham, Fletcher, Howard, Lloyd, Rees, Jenkins, Sutton, Cartwright, Pritchard,
Fitzgerald, MacLeod, McGregor, MacDonald, McDonald, O'Brien, O'Neill, O'Sullivan, Fraser,
Stewart, Reid, Murray, Paterson, Ross, Hamilton, Macintyre, Ferguson, Crawford, Doyle, Byrne,
Gallagher, Kennedy, Lynch, Quinn, Walsh, Ryan, Brennan, Ashworth-Clarke, Lloyd-Jones,
Featherstonehaugh, Llewellyn, Vaughan-Williams, Bowen, Pugh, Rhys
""")
_LAST_DE = _words("""
Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer,
Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger,
Hofmann, Hartmann, Lange, Schmitt, Werner, Schmitz, Krause, Meier, Lehmann, Schmid, Schulze,
Maier, Köhler, Herrmann, König, Walter, Mayer, Huber, Kaiser, Fuchs, Peters, Lang, Scholz,
Möller, Weiß, Jung, Hahn, Schubert, Vogel, Friedrich, Keller, Günther, Frank, Berger, Winkler,
Roth, Beck, Lorenz, Baumann, Franke, Albrecht, Schuster, Simon, Ludwig, Böhm, Winter, Kraus,
Martin, Schumacher, Krämer, Vogt, Stein, Jäger, Otto, Sommer, Groß, Seidel, Heinrich, Brandt,
Haas, Schreiber, Graf, Schulte, Dietrich, Ziegler, Kuhn, Kühn, Pohl, Engel, Horn, Busch,
Bergmann, Thomas, Voigt, Sauer, Arnold, Wolff, Pfeiffer, Brunner, Gerber, Steiner, Baumgartner,
Frei, Moser, Widmer, Zürcher, Gasser, Gruber, Pichler, Wimmer, Leitner, Eder, Mayr, Hofer,
Egger, Aigner, Reiter, Wallner, Fink, Yılmaz, Öztürk, Kaya, Demir, Şahin, Nowak, Kowalski,
Rossi, Esposito, von Bergen, von der Heide, van der Berg, van Dijk, ter Horst, Schmidt-Weber,
Becker-Lindner, Müller-Thurgau, zu Stolberg, Obermüller, Großmann, Weißenberger
""")
_LAST_FR = _words("""
Martin, Bernard, Thomas, Petit, Robert, Richard, Durand, Dubois, Moreau, Laurent, Simon, Michel,
Lefebvre, Leroy, Roux, David, Bertrand, Morel, Fournier, Girard, Bonnet, Dupont, Lambert,
Fontaine, Rousseau, Vincent, Muller, Lefèvre, Faure, André, Mercier, Blanc, Guérin, Boyer,
Garnier, Chevalier, François, Legrand, Gauthier, Garcia, Perrin, Robin, Clément, Morin,
Nicolas, Henry, Roussel, Mathieu, Gautier, Masson, Marchand, Duval, Denis, Dumont, Marie,
Lemaire, Noël, Meyer, Dufour, Meunier, Brun, Blanchard, Giraud, Joly, Rivière, Lucas, Brunet,
Gaillard, Barbier, Arnaud, Martinez, Gérard, Roche, Renard, Schmitt, Roy, Leroux, Colin, Vidal,
Caron, Picard, Roger, Fabre, Aubert, Lemoine, Renaud, Dumas, Lacroix, Olivier, Philippe,
Bourgeois, Pierre, Benoît, Rey, Leclerc, Payet, Rolland, Leclercq, Guillaume, Lecomte, Lopez,
Jean, Dupuy, Guillot, Hubert, Berger, Carpentier, Sanchez, Dupuis, Moulin, Louis, Deschamps,
Huet, Vasseur, Perez, Boucher, Fleury, Royer, Klein, Jacquet, Adam, Paris, Poirier, Marty,
Aubry, Guyot, Carré, Charles, Renault, Charpentier, Ménard, Maillard, Baron, Bertin, Bailly,
Hervé, Schneider, Le Gall, Le Goff, Le Roux, de la Fontaine, de Villiers, Saint-Martin,
d'Arnaud, Benali, Haddad, Nguyen, Diallo, Da Silva, Ferreira, Lefort
""")

#: The curated common names of every language (what ``rare_names=0`` draws from).
COMMON_FIRST_NAMES = frozenset(_FIRST_EN + _FIRST_DE + _FIRST_FR)
COMMON_LAST_NAMES = frozenset(_LAST_US + _LAST_GB + _LAST_DE + _LAST_FR)

_TITLES_EN = _words("""
Marketing Manager, VP of Sales, Chief Technology Officer, CTO, Head of Marketing,
Director of Operations, Software Engineer, Senior Software Engineer, Procurement Manager,
Purchasing Manager, IT Director, CFO, CEO, Founder, Co-Founder, Sales Director,
Account Executive, Business Development Manager, Product Manager, Data Analyst, Head of IT,
Operations Manager, HR Manager, Office Manager, Marketing Coordinator,
Demand Generation Manager, Head of Procurement, Vice President Marketing, Director of Finance,
Controller, IT Manager, Systems Administrator, Head of Data, Chief Marketing Officer,
Managing Director, General Manager, Plant Manager, Supply Chain Manager, Engineering Manager,
Customer Success Manager, Solutions Architect, Project Manager, Owner, President,
Director of Sales, Category Manager
""")
_TITLES_DE = _words("""
Geschäftsführer, Leiter Einkauf, Leiter Marketing, Vertriebsleiter, IT-Leiter, Prokurist,
Abteilungsleiter, Teamleiter Vertrieb, Einkauf, Projektleiter, Leiter IT, Marketingleitung,
Werkleiter, Key Account Manager, Vorstand, Bereichsleiter Finanzen,
Sachbearbeiter Einkauf, Produktmanager, Inhaber
""")
_TITLES_FR = _words("""
Directeur Général, Directeur Marketing, Directeur Commercial, Responsable Achats,
Responsable Marketing, Chef de projet, DSI, Directeur Financier, Ingénieur commercial,
Responsable informatique, Acheteur, Chargé de communication, Président, Gérant,
Directeur des opérations, Responsable RH, Chef de produit, Directeur Administratif
""")

_INDUSTRIES = _words("""
Agriculture, Apparel, Banking, Biotechnology, Chemicals, Communications, Construction,
Consulting, Education, Electronics, Energy, Engineering, Entertainment, Environmental, Finance,
Food & Beverage, Government, Healthcare, Hospitality, Insurance, Machinery, Manufacturing, Media,
Not For Profit, Recreation, Retail, Shipping, Technology, Telecommunications, Transportation,
Utilities, Other
""")
_LEAD_SOURCES = (
    ("Web", 30), ("Trade Show", 15), ("Purchased List", 20), ("Partner Referral", 8),
    ("Webinar", 10), ("Advertisement", 7), ("Employee Referral", 4), ("Other", 6),
)

_COMPANY_PREFIX = _words("""
Blue, North, South, East, West, Silver, Gold, Green, Red, Bright, Clear, Deep, High, Iron, Star,
Sun, Moon, Sky, Ever, Prime, Apex, Nova, Omni, Terra, Aqua, Vita, Alpha, Delta, Summit, Pioneer,
True, Swift, Smart, Cloud, Data, Quantum, Fusion, Vertex, Zen, Lumen, Core, Next, Neo, Bold,
Open, Pure, Rapid, Crystal, Atlas, Orion, Cedar, Maple, Oak, Pine, River, Lake, Stone, Granite,
Copper, Cobalt, Amber, Falcon, Eagle, Fox, Wolf, Bear, Lion, Harbor, Bay, Ridge, Valley, Meadow,
Polar, Solar, Lunar, Stellar, Hyper, Micro, Mega, Ultra, Info, Tech, Net, Web, Cyber, Arc, Bison,
Birch, Coral, Echo, Ember, Flint, Helix, Indigo, Juniper, Keystone, Lynx, Onyx, Quartz, Sage
""")
_COMPANY_CORE = _words("""
Peak, Point, Path, Way, Works, Wave, Line, Link, Logic, Soft, Ware, Tech, Tek, Bridge, Field,
Gate, Stone, Wood, Brook, Crest, Forge, Hub, Lab, Mark, Mind, Scale, Shift, Spark, Sphere,
Stream, Vision, View, Base, Bit, Box, Cast, Cell, Craft, Dyne, Flow, Form, Grid, Gen, Key, Leaf,
Light, Loop, Matrix, Nest, Node, Pulse, Quest, Rock, Root, Scope, Sense, Signal, Source, Span,
Star, Tide, Track, Trail, Vault, Verse, Wing, Wise, Yard, Zone, Bay, Dale, Haven, Land, Port,
Shore, Ton, Well, Worth, Frame, Mill, Metrics, Nexus, Pilot, Range, Rise, Sight, Stack, Sync,
Tower, Vector, Bloom, Circuit, Deck, Fleet, Harvest
""")
# (descriptor, industry); "" industry: any. Per language family: en, de, fr.
_DESCRIPTORS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("Analytics", "Technology"), ("Software", "Technology"), ("Systems", "Technology"),
     ("Solutions", "Technology"), ("Technologies", "Technology"), ("Labs", "Biotechnology"),
     ("Logistics", "Transportation"), ("Health", "Healthcare"), ("Medical", "Healthcare"),
     ("Capital", "Finance"), ("Financial", "Finance"), ("Foods", "Food & Beverage"),
     ("Energy", "Energy"), ("Consulting", "Consulting"), ("Partners", "Consulting"),
     ("Media", "Media"), ("Robotics", "Machinery"), ("Manufacturing", "Manufacturing"),
     ("Insurance", "Insurance"), ("Networks", "Telecommunications"), ("Pharma", "Biotechnology"),
     ("Retail", "Retail"), ("Construction", "Construction"), ("Engineering", "Engineering"),
     ("Industries", "Manufacturing"), ("Group", ""), ("Holdings", "Finance"),
     ("Security", "Technology"), ("Motors", "Transportation"), ("Brands", "Retail"),
     ("Hospitality", "Hospitality"), ("Learning", "Education"), ("Studios", "Entertainment"),
     ("Freight", "Shipping"), ("Apparel", "Apparel"), ("Chemicals", "Chemicals"),
     ("Electronics", "Electronics"), ("Agritech", "Agriculture")),
    (("Maschinenbau", "Machinery"), ("Logistik", "Transportation"), ("Systeme", "Technology"),
     ("Software", "Technology"), ("Beratung", "Consulting"), ("Technik", "Engineering"),
     ("Energie", "Energy"), ("Medizintechnik", "Healthcare"), ("Versicherung", "Insurance"),
     ("Bau", "Construction"), ("Elektronik", "Electronics"), ("Chemie", "Chemicals"),
     ("Lebensmittel", "Food & Beverage"), ("Handel", "Retail"), ("Anlagenbau", "Engineering"),
     ("Automation", "Machinery"), ("Digital", "Technology"), ("Solutions", "Technology"),
     ("Holding", "Finance"), ("Gruppe", ""), ("Werke", "Manufacturing"),
     ("Pharma", "Biotechnology"), ("Medien", "Media"), ("Spedition", "Shipping")),
    (("Conseil", "Consulting"), ("Logistique", "Transportation"), ("Systèmes", "Technology"),
     ("Informatique", "Technology"), ("Énergie", "Energy"), ("Ingénierie", "Engineering"),
     ("Santé", "Healthcare"), ("Distribution", "Retail"), ("Industries", "Manufacturing"),
     ("Assurances", "Insurance"), ("Finance", "Finance"), ("Médias", "Media"),
     ("Technologies", "Technology"), ("Solutions", "Technology"), ("Construction", "Construction"),
     ("Transports", "Transportation"), ("Pharma", "Biotechnology"),
     ("Alimentaire", "Food & Beverage"), ("Groupe", ""), ("Développement", "Consulting"),
     ("Télécom", "Telecommunications"), ("Électronique", "Electronics")),
)
_LANG_FAMILY = np.array([0, 0, 1, 2])  # en_us, en_gb -> en; de -> de; fr -> fr

# Legal forms: canonical text (with its separator) and the ways the same form gets re-typed.
_SUFFIXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("", ("",)),
    "Inc.": (" Inc.", (" Inc", ", Inc.", ", Inc", " Incorporated", " INC")),
    "LLC": (" LLC", (" L.L.C.", ", LLC", " Llc")),
    "Corp.": (" Corp.", (" Corp", " Corporation", ", Corp.")),
    "Ltd": (" Ltd", (" Ltd.", " Limited", " LTD", ", Ltd")),
    "PLC": (" PLC", (" plc", " Plc")),
    "LLP": (" LLP", (" L.L.P.", " llp")),
    "GmbH": (" GmbH", (" Gmbh", " G.m.b.H.", " GMBH", " mbH")),
    "AG": (" AG", (" A.G.", " Aktiengesellschaft", " Ag")),
    "GmbH & Co. KG": (" GmbH & Co. KG", (" GmbH & Co KG", " GmbH u. Co. KG", " GmbH&Co.KG")),
    "SE": (" SE", (" S.E.",)),
    "S.A.": (" S.A.", (" SA", " S.A", " Société Anonyme")),
    "SAS": (" SAS", (" S.A.S.", " sas")),
    "SARL": (" SARL", (" S.A.R.L.", " Sàrl", " Sarl")),
}
_SUFFIX_KEYS = tuple(_SUFFIXES)

_FREEMAIL: tuple[tuple[tuple[str, float], ...], ...] = (
    (("gmail.com", 55), ("yahoo.com", 18), ("outlook.com", 12), ("hotmail.com", 7),
     ("aol.com", 4), ("icloud.com", 4)),
    (("gmail.com", 45), ("hotmail.co.uk", 15), ("yahoo.co.uk", 10), ("outlook.com", 15),
     ("btinternet.com", 8), ("icloud.com", 7)),
    (("gmail.com", 35), ("gmx.de", 25), ("web.de", 20), ("t-online.de", 10), ("outlook.com", 10)),
    (("gmail.com", 40), ("orange.fr", 20), ("free.fr", 12), ("hotmail.fr", 10), ("yahoo.fr", 8),
     ("laposte.net", 10)),
)

# Local parts of e-mail addresses: (head, separator, tail, digits?) where f/l are the first and
# last name and i/j their initials ("" = no tail). 0 is first.last, 1 flast, 2 f.last, ...
_LOCAL_PARTS: tuple[tuple[str, str, str, bool], ...] = (
    ("f", ".", "l", False), ("i", "", "l", False), ("i", ".", "l", False), ("f", "", "l", False),
    ("f", "_", "l", False), ("f", "", "", False), ("l", ".", "f", False), ("f", ".", "j", False),
    ("f", ".", "l", True), ("i", "", "l", True), ("f", "", "l", True), ("f", "", "", True),
    ("l", "", "f", False), ("f", "-", "l", False),
)
_SEPARATORS = ("", ".", "_", "-")
_WORK_PATTERN_W = {0: 55, 1: 14, 2: 9, 3: 6, 4: 3, 5: 4, 6: 3, 7: 6}
_FREE_PATTERN_W = {0: 30, 3: 12, 4: 6, 8: 18, 9: 10, 10: 12, 11: 6, 12: 3, 13: 3}

_STREETS_EN = _words("""
Main, Oak, Maple, Cedar, Pine, Elm, Washington, Lake, Hill, Park, Market, Mission, Sunset,
Spring, Church, Mill, Station, Victoria, King, Queen, Bridge, Green, Water, Chestnut, Walnut,
Franklin, Madison, Jefferson, Lincoln, Harbor, River, Union, Commerce, Howard, Folsom, Beacon,
Boylston, Congress, Grove, Highland, Jackson, Lexington, Peachtree, Sheridan, Cambridge
""")
_STREETS_GB = _words("""
High, Station, Church, Victoria, Green, Manor, Park, Queen, King, Mill, Kingsway, London, York,
Oxford, Regent, Bishopsgate, Fleet, Cheapside, Deansgate, Albion, Princes, George, Castle,
Broad, Wellington, Grosvenor, Baker, Canal, Chapel, Bath
""")
_STREETS_DE = _words("""
Haupt, Bahnhof, Schiller, Goethe, Linden, Friedrich, Kaiser, Garten, Schul, Wald, Mühlen,
Kirch, Berg, Post, Markt, Hafen, Rosen, Ahorn, Industrie, Königs, Luisen, Wilhelm, Mozart,
Beethoven, Kant, Lessing, Blumen, Feld, Wiesen, Tal, Brunnen, Birken, Eichen, Sonnen
""")
_STREETS_FR = _words("""
de la Paix, Victor Hugo, de Rivoli, du Faubourg Saint-Honoré, Jean Jaurès, de la République,
Gambetta, Pasteur, des Lilas, du Général de Gaulle, Voltaire, Foch, de la Gare, Nationale,
Saint-Michel, des Écoles, du Moulin, de Verdun, Carnot, Émile Zola, de l'Église, des Acacias,
Thiers, de la Liberté, Sainte-Catherine
""")
_STREET_TYPES = (
    ((" St", 30), (" Street", 15), (" Ave", 15), (" Avenue", 8), (" Blvd", 7), (" Rd", 8),
     (" Dr", 7), (" Way", 5), (" Pl", 5)),
    ((" Street", 35), (" Road", 30), (" Lane", 12), (" Square", 6), (" Place", 8), (" Row", 4),
     (" Gardens", 5)),
    (("straße", 45), ("str.", 10), ("weg", 15), ("allee", 8), ("platz", 8), ("ring", 7),
     ("damm", 7)),
    (("rue ", 55), ("avenue ", 18), ("boulevard ", 10), ("place ", 6), ("quai ", 5),
     ("allée ", 6)),
)

# =============================================================================================
# Countries, cities and phone ranges
# =============================================================================================

# A phone range: (area code, allowed first digits of the subscriber part, subscriber lengths).
# Every range here was checked against phonenumbers' metadata (is_valid_number).
PhoneRange = tuple[str, str, tuple[int, ...]]


@dataclass(frozen=True)
class _City:
    name: str
    state: str
    state_long: str
    lang: int
    postal_prefixes: tuple[str, ...]
    postal_digits: int
    postal_tail: str  # "", "gb", "ca", "ie" or "0" (a literal zero: Vienna's 1xx0)
    phones: tuple[PhoneRange, ...]
    weight: float


@dataclass(frozen=True)
class _Country:
    code: str
    calling: str
    names: tuple[tuple[str, float], ...]
    suffixes: tuple[tuple[str, float], ...]
    tlds: tuple[tuple[str, float], ...]
    mobile: tuple[PhoneRange, ...]  # empty: mobiles look like landlines (NANP)
    phone_styles: tuple[tuple[str, float], ...]
    cities: tuple[_City, ...]


def _nanp_city(name: str, st: str, long: str, zip3: str, areas: tuple[int, ...], w: float,
               lang: int = _EN_US, postal: tuple[str, ...] = (), tail: str = "") -> _City:
    return _City(
        name, st, long, lang, postal or (zip3,), 0 if postal else 2, tail,
        tuple((str(a), "23456789", (7,)) for a in areas), w,
    )


_US_STYLES = (
    ("({A}) {E}-{L}", 22), ("{A}-{E}-{L}", 18), ("{A}.{E}.{L}", 8), ("{A}{E}{L}", 10),
    ("+1 ({A}) {E}-{L}", 8), ("+1 {A} {E} {L}", 6), ("+1-{A}-{E}-{L}", 5), ("1-{A}-{E}-{L}", 4),
    ("+1{A}{E}{L}", 10), ("{A} {E} {L}", 5), ("({A}) {E}-{L} x{X}", 2), ("{A}-{E}-{L} ext. {X}", 2),
)

_COUNTRIES: dict[str, _Country] = {
    "US": _Country(
        "US", "1",
        (("US", 60), ("USA", 15), ("United States", 18), ("United States of America", 4),
         ("U.S.", 3)),
        (("Inc.", 45), ("LLC", 25), ("Corp.", 15), ("", 15)),
        ((".com", 92), (".io", 5), (".co", 3)),
        (), _US_STYLES,
        (
            _nanp_city("New York", "NY", "New York", "100", (212, 646, 917), 10),
            _nanp_city("Brooklyn", "NY", "New York", "112", (718, 347), 3),
            _nanp_city("San Francisco", "CA", "California", "941", (415,), 6),
            _nanp_city("Palo Alto", "CA", "California", "943", (650,), 2),
            _nanp_city("San Jose", "CA", "California", "951", (408,), 3),
            _nanp_city("Los Angeles", "CA", "California", "900", (213, 310), 6),
            _nanp_city("San Diego", "CA", "California", "921", (619, 858), 3),
            _nanp_city("Irvine", "CA", "California", "926", (949,), 2),
            _nanp_city("Boston", "MA", "Massachusetts", "021", (617,), 5),
            _nanp_city("Cambridge", "MA", "Massachusetts", "021", (617,), 2),
            _nanp_city("Chicago", "IL", "Illinois", "606", (312, 773), 6),
            _nanp_city("Seattle", "WA", "Washington", "981", (206,), 4),
            _nanp_city("Austin", "TX", "Texas", "787", (512,), 4),
            _nanp_city("Dallas", "TX", "Texas", "752", (214, 469, 972), 4),
            _nanp_city("Houston", "TX", "Texas", "770", (713, 832), 4),
            _nanp_city("Denver", "CO", "Colorado", "802", (303, 720), 3),
            _nanp_city("Atlanta", "GA", "Georgia", "303", (404,), 4),
            _nanp_city("Miami", "FL", "Florida", "331", (305,), 3),
            _nanp_city("Washington", "DC", "District of Columbia", "200", (202,), 3),
            _nanp_city("Philadelphia", "PA", "Pennsylvania", "191", (215,), 3),
            _nanp_city("Phoenix", "AZ", "Arizona", "850", (602,), 2),
            _nanp_city("Nashville", "TN", "Tennessee", "372", (615,), 2),
            _nanp_city("Charlotte", "NC", "North Carolina", "282", (704,), 2),
            _nanp_city("Raleigh", "NC", "North Carolina", "276", (919,), 2),
            _nanp_city("Minneapolis", "MN", "Minnesota", "554", (612,), 2),
            _nanp_city("Portland", "OR", "Oregon", "972", (503,), 2),
            _nanp_city("Detroit", "MI", "Michigan", "482", (313,), 2),
            _nanp_city("Las Vegas", "NV", "Nevada", "891", (702,), 1),
            _nanp_city("Jersey City", "NJ", "New Jersey", "073", (201,), 1),
            _nanp_city("Salt Lake City", "UT", "Utah", "841", (801,), 1),
        ),
    ),
    "CA": _Country(
        "CA", "1",
        (("CA", 65), ("Canada", 35)),
        (("Inc.", 60), ("Ltd", 20), ("Corp.", 10), ("", 10)),
        ((".ca", 55), (".com", 45)),
        (), _US_STYLES,
        (
            _nanp_city("Toronto", "ON", "Ontario", "", (416, 647), 6,
                       postal=("M5V", "M5H", "M4W"), tail="ca"),
            _nanp_city("Vancouver", "BC", "British Columbia", "", (604, 778), 3,
                       postal=("V6B", "V6C", "V5K"), tail="ca"),
            _nanp_city("Montréal", "QC", "Québec", "", (514, 438), 4, lang=_FR,
                       postal=("H2Y", "H3B", "H3A"), tail="ca"),
            _nanp_city("Calgary", "AB", "Alberta", "", (403, 587), 2,
                       postal=("T2P", "T2R"), tail="ca"),
            _nanp_city("Ottawa", "ON", "Ontario", "", (613, 343), 2,
                       postal=("K1P", "K2P"), tail="ca"),
        ),
    ),
    "GB": _Country(
        "GB", "44",
        (("GB", 45), ("UK", 20), ("United Kingdom", 28), ("England", 4), ("Great Britain", 3)),
        (("Ltd", 60), ("PLC", 8), ("LLP", 10), ("", 22)),
        ((".co.uk", 60), (".com", 35), (".uk", 5)),
        tuple((a, "123456789", (6,)) for a in
              ("7400", "7500", "7712", "7802", "7900", "7720", "7380", "7450", "7555", "7766",
               "7803", "7984")),
        (("0{A} {G}", 35), ("+44 {A} {G}", 18), ("+44 (0){A} {G}", 8), ("0044 {A} {G}", 5),
         ("(0{A}) {G}", 6), ("0{A}{S}", 10), ("+44{A}{S}", 10), ("0{A} {S}", 8)),
        (
            _City("London", "", "Greater London", _EN_GB,
                  ("EC1A", "EC2M", "SW1A", "W1D", "WC2N", "N1", "E14", "SE1"), 0, "gb",
                  (("20", "378", (8,)),), 12),
            _City("Manchester", "Greater Manchester", "Greater Manchester", _EN_GB,
                  ("M1", "M2", "M3", "M4", "M15"), 0, "gb", (("161", "23456789", (7,)),), 3),
            _City("Birmingham", "West Midlands", "West Midlands", _EN_GB,
                  ("B1", "B2", "B3", "B15"), 0, "gb", (("121", "234567", (7,)),), 3),
            _City("Leeds", "West Yorkshire", "West Yorkshire", _EN_GB,
                  ("LS1", "LS2", "LS11"), 0, "gb", (("113", "2345", (7,)),), 2),
            _City("Glasgow", "", "Scotland", _EN_GB, ("G1", "G2", "G3"), 0, "gb",
                  (("141", "23456789", (7,)),), 2),
            _City("Edinburgh", "", "Scotland", _EN_GB, ("EH1", "EH2", "EH3"), 0, "gb",
                  (("131", "2345678", (7,)),), 2),
            _City("Bristol", "", "Bristol", _EN_GB, ("BS1", "BS2", "BS8"), 0, "gb",
                  (("117", "2349", (7,)),), 2),
            _City("Liverpool", "Merseyside", "Merseyside", _EN_GB, ("L1", "L2", "L3"), 0, "gb",
                  (("151", "23456789", (7,)),), 2),
        ),
    ),
    "IE": _Country(
        "IE", "353",
        (("IE", 60), ("Ireland", 40)),
        (("Ltd", 70), ("PLC", 10), ("", 20)),
        ((".ie", 60), (".com", 40)),
        tuple((a, "23456789", (7,)) for a in ("83", "85", "86", "87", "89")),
        (("0{A} {G}", 35), ("+353 {A} {G}", 25), ("00353 {A} {G}", 5), ("(0{A}) {G}", 10),
         ("+353{A}{S}", 12), ("0{A}{S}", 13)),
        (
            _City("Dublin", "Co. Dublin", "County Dublin", _EN_GB, ("D02", "D04", "D08", "D15"),
                  0, "ie", (("1", "23456789", (7,)),), 6),
            _City("Cork", "Co. Cork", "County Cork", _EN_GB, ("T12", "T23"), 0, "ie",
                  (("21", "4", (7,)),), 2),
            _City("Galway", "Co. Galway", "County Galway", _EN_GB, ("H91",), 0, "ie",
                  (("91", "5", (6,)),), 1),
            _City("Limerick", "Co. Limerick", "County Limerick", _EN_GB, ("V94",), 0, "ie",
                  (("61", "234", (6,)),), 1),
        ),
    ),
    "DE": _Country(
        "DE", "49",
        (("DE", 55), ("Germany", 30), ("Deutschland", 15)),
        (("GmbH", 60), ("AG", 15), ("GmbH & Co. KG", 10), ("SE", 3), ("", 12)),
        ((".de", 75), (".com", 25)),
        tuple((a, "123456789", (7, 8)) for a in
              ("160", "162", "163", "170", "171", "172", "175", "176", "177", "178", "179"))
        + tuple((a, "123456789", (8,)) for a in ("151", "152", "157", "159")),
        (("0{A} {S}", 25), ("0{A}/{S}", 12), ("0{A}-{S}", 6), ("(0{A}) {S}", 5),
         ("+49 {A} {S}", 18), ("+49 (0){A} {S}", 7), ("0049 {A} {S}", 5), ("+49{A}{S}", 10),
         ("0{A}{S}", 8), ("+49 {A} {G}", 4)),
        (
            _City("Berlin", "BE", "Berlin", _DE, ("10", "12", "13"), 3, "",
                  (("30", "23456789", (7, 8)),), 8),
            _City("Hamburg", "HH", "Hamburg", _DE, ("20", "22"), 3, "",
                  (("40", "23456789", (7, 8)),), 5),
            _City("München", "BY", "Bayern", _DE, ("80", "81"), 3, "",
                  (("89", "23456789", (7, 8)),), 6),
            _City("Frankfurt am Main", "HE", "Hessen", _DE, ("60",), 3, "",
                  (("69", "23456789", (7, 8)),), 4),
            _City("Köln", "NW", "Nordrhein-Westfalen", _DE, ("50", "51"), 3, "",
                  (("221", "23456789", (6, 7, 8)),), 4),
            _City("Stuttgart", "BW", "Baden-Württemberg", _DE, ("70",), 3, "",
                  (("711", "23456789", (6, 7, 8)),), 3),
            _City("Düsseldorf", "NW", "Nordrhein-Westfalen", _DE, ("40",), 3, "",
                  (("211", "23456789", (6, 7, 8)),), 3),
            _City("Leipzig", "SN", "Sachsen", _DE, ("04",), 3, "",
                  (("341", "23456789", (6, 7, 8)),), 2),
            _City("Dresden", "SN", "Sachsen", _DE, ("01",), 3, "",
                  (("351", "23456789", (6, 7)),), 2),
            _City("Hannover", "NI", "Niedersachsen", _DE, ("30",), 3, "",
                  (("511", "23456789", (6, 7)),), 2),
        ),
    ),
    "AT": _Country(
        "AT", "43",
        (("AT", 50), ("Austria", 25), ("Österreich", 25)),
        (("GmbH", 65), ("AG", 20), ("", 15)),
        ((".at", 75), (".com", 25)),
        tuple((a, "123456789", (7,)) for a in ("664", "660", "676"))
        + (("699", "123456789", (8,)),),
        (("0{A} {S}", 30), ("+43 {A} {S}", 25), ("0043 {A} {S}", 6), ("0{A}/{S}", 10),
         ("+43{A}{S}", 10), ("(0{A}) {S}", 5), ("+43 (0){A} {S}", 5), ("0{A}{S}", 9)),
        (
            _City("Wien", "W", "Wien", _DE, ("10", "11", "12"), 1, "0",
                  (("1", "23456789", (6, 7)),), 6),
            _City("Graz", "ST", "Steiermark", _DE, ("80",), 2, "", (("316", "23456789", (5, 6)),),
                  2),
            _City("Salzburg", "S", "Salzburg", _DE, ("50",), 2, "",
                  (("662", "23456789", (5, 6)),), 1),
            _City("Linz", "OÖ", "Oberösterreich", _DE, ("40",), 2, "",
                  (("732", "23456789", (5, 6)),), 1),
            _City("Innsbruck", "T", "Tirol", _DE, ("60",), 2, "",
                  (("512", "23456789", (5, 6)),), 1),
        ),
    ),
    "CH": _Country(
        "CH", "41",
        (("CH", 50), ("Switzerland", 25), ("Schweiz", 20), ("Suisse", 5)),
        (("AG", 55), ("GmbH", 25), ("S.A.", 8), ("", 12)),
        ((".ch", 80), (".com", 20)),
        tuple((a, "23456789", (7,)) for a in ("75", "76", "77", "78", "79")),
        (("0{A} {G}", 35), ("+41 {A} {G}", 25), ("0041 {A} {G}", 6), ("+41{A}{S}", 12),
         ("0{A}{S}", 10), ("0{A} {S}", 6), ("+41 (0){A} {G}", 6)),
        (
            _City("Zürich", "ZH", "Zürich", _DE, ("80",), 2, "", (("44", "23456789", (7,)),), 5),
            _City("Genève", "GE", "Genève", _FR, ("12",), 2, "", (("22", "23456789", (7,)),), 3),
            _City("Bern", "BE", "Bern", _DE, ("30",), 2, "", (("31", "23456789", (7,)),), 2),
            _City("Basel", "BS", "Basel-Stadt", _DE, ("40",), 2, "", (("61", "23456789", (7,)),),
                  2),
            _City("Lausanne", "VD", "Vaud", _FR, ("10",), 2, "", (("21", "23456789", (7,)),), 2),
            _City("Luzern", "LU", "Luzern", _DE, ("60",), 2, "", (("41", "23456789", (7,)),), 1),
        ),
    ),
    "FR": _Country(
        "FR", "33",
        (("FR", 60), ("France", 40)),
        (("SAS", 40), ("S.A.", 30), ("SARL", 20), ("", 10)),
        ((".fr", 60), (".com", 40)),
        (("6", "124578", (8,)), ("7", "3456789", (8,))),
        (("0{A} {P}", 40), ("0{A}.{D}", 10), ("0{A}{S}", 12), ("+33 {A} {P}", 15),
         ("+33 (0){A} {P}", 6), ("0033 {A} {P}", 5), ("+33{A}{S}", 8), ("0{A}-{H}", 4)),
        (
            _City("Paris", "IDF", "Île-de-France", _FR, ("7500", "7501"), 1, "",
                  (("1", "4", (8,)), ("1", "5", (8,))), 10),
            _City("Lyon", "ARA", "Auvergne-Rhône-Alpes", _FR, ("6900",), 1, "",
                  (("4", "7", (8,)),), 4),
            _City("Marseille", "PACA", "Provence-Alpes-Côte d'Azur", _FR, ("1300", "1301"), 1, "",
                  (("4", "9", (8,)),), 3),
            _City("Toulouse", "OCC", "Occitanie", _FR, ("310",), 2, "", (("5", "6", (8,)),), 3),
            _City("Bordeaux", "NAQ", "Nouvelle-Aquitaine", _FR, ("330",), 2, "",
                  (("5", "56", (8,)),), 2),
            _City("Lille", "HDF", "Hauts-de-France", _FR, ("590",), 2, "", (("3", "2", (8,)),), 2),
            _City("Nantes", "PDL", "Pays de la Loire", _FR, ("440",), 2, "",
                  (("2", "45", (8,)),), 2),
            _City("Strasbourg", "GES", "Grand Est", _FR, ("670",), 2, "", (("3", "8", (8,)),), 2),
            _City("Nice", "PACA", "Provence-Alpes-Côte d'Azur", _FR, ("060",), 2, "",
                  (("4", "9", (8,)),), 1),
            _City("Rennes", "BRE", "Bretagne", _FR, ("350",), 2, "", (("2", "9", (8,)),), 1),
        ),
    ),
}

#: Country codes generate_leads accepts.
SUPPORTED_COUNTRIES: tuple[str, ...] = tuple(_COUNTRIES)

#: How each country may be written in the "Country" column (ISO code first).
COUNTRY_VARIANTS: dict[str, tuple[str, ...]] = {
    code: tuple(name for name, _ in spec.names) for code, spec in _COUNTRIES.items()
}
_COUNTRY_LOOKUP = {v.casefold(): code for code, vs in COUNTRY_VARIANTS.items() for v in vs}


def country_code(value: str) -> str | None:
    """The ISO code for a value of the generated "Country" column ("Deutschland" -> "DE")."""
    return _COUNTRY_LOOKUP.get(value.strip().casefold())


# =============================================================================================
# Noise profiles
# =============================================================================================


@dataclass(frozen=True)
class _Noise:
    """Probabilities of each kind of mess, per entity, per row and per duplicate row."""

    # entities
    phone_none: float
    phone_switchboard: float
    phone_mobile: float
    email_none: float
    freemail: float
    lookalikes: float  # share of entities that are a near-namesake of another (distinct) entity
    # every row
    missing_title: float
    missing_website: float
    missing_street: float
    missing_city: float
    missing_industry: float
    missing_employees: float
    name_upper: float
    name_lower: float
    email_case: float
    email_space: float
    company_space: float
    state_long: float
    # duplicate rows
    dup_sparse: float  # a web-form-like record: name, e-mail, company, little else
    nickname: float
    typo_first: float
    typo_last: float
    typo_company: float
    missing_first: float
    missing_company: float
    swap_names: float
    email_variant: tuple[float, ...]  # keep, case, space, plus-tag, gmail dots, other, missing
    phone_variant: tuple[float, ...]  # same, reformatted, other number, missing
    company_variant: tuple[float, ...]  # same, suffix variant, no suffix, upper case
    title_other: float
    title_missing: float
    address_missing: float
    street_abbrev: float
    source_change: float
    country_restyle: float


_NORMAL = _Noise(
    phone_none=0.10, phone_switchboard=0.15, phone_mobile=0.20, email_none=0.03, freemail=0.18,
    lookalikes=0.0,
    missing_title=0.08, missing_website=0.30, missing_street=0.15, missing_city=0.05,
    missing_industry=0.20, missing_employees=0.30, name_upper=0.015, name_lower=0.015,
    email_case=0.03, email_space=0.01, company_space=0.01, state_long=0.15,
    dup_sparse=0.25, nickname=0.15, typo_first=0.08, typo_last=0.08, typo_company=0.04,
    missing_first=0.02, missing_company=0.02, swap_names=0.02,
    email_variant=(0.55, 0.10, 0.05, 0.05, 0.05, 0.10, 0.10),
    phone_variant=(0.25, 0.40, 0.10, 0.25),
    company_variant=(0.55, 0.20, 0.17, 0.08),
    title_other=0.10, title_missing=0.12, address_missing=0.15, street_abbrev=0.15,
    source_change=0.5, country_restyle=0.3,
)
_HARD = _Noise(
    phone_none=0.18, phone_switchboard=0.25, phone_mobile=0.20, email_none=0.08, freemail=0.25,
    lookalikes=0.06,
    missing_title=0.15, missing_website=0.45, missing_street=0.25, missing_city=0.10,
    missing_industry=0.35, missing_employees=0.45, name_upper=0.03, name_lower=0.03,
    email_case=0.06, email_space=0.03, company_space=0.03, state_long=0.3,
    dup_sparse=0.35, nickname=0.25, typo_first=0.20, typo_last=0.20, typo_company=0.10,
    missing_first=0.05, missing_company=0.05, swap_names=0.05,
    email_variant=(0.35, 0.12, 0.08, 0.08, 0.07, 0.15, 0.15),
    phone_variant=(0.15, 0.40, 0.15, 0.30),
    company_variant=(0.35, 0.28, 0.25, 0.12),
    title_other=0.20, title_missing=0.20, address_missing=0.30, street_abbrev=0.25,
    source_change=0.6, country_restyle=0.5,
)

# =============================================================================================
# Vectorised helpers
# =============================================================================================

_FOLD = {
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "ë": "e", "à": "a",
    "â": "a", "î": "i", "ï": "i", "ô": "o", "û": "u", "ù": "u", "ç": "c", "œ": "oe", "ñ": "n",
    "á": "a", "í": "i", "ó": "o", "ú": "u", "ş": "s", "ı": "i", "ł": "l", "ś": "s", "ń": "n",
}


def _slug(name: str) -> str:
    """ASCII e-mail/domain form of a name: "Müller" -> "mueller", "O'Brien" -> "obrien"."""
    s = "".join(_FOLD.get(ch, ch) for ch in name.lower())
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "", s)


def _slug_expr(expr: pl.Expr) -> pl.Expr:
    folded = expr.str.to_lowercase().str.replace_many(list(_FOLD), list(_FOLD.values()))
    return folded.str.replace_all(r"[^a-z0-9]", "")


class _Pool:
    """Several string lists flattened into one Series, so that one gather picks for every row.

    ``pick(rng, groups)`` draws one entry per row from that row's group, uniformly or with
    Zipf-like weights (lists are ordered roughly by frequency). ``head_sizes`` is, per group, how
    many leading entries are the curated common ones (all of them unless built ``with_tail``).
    """

    def __init__(self, groups: Sequence[Sequence[str]], zipf: float = 0.0,
                 weights: Sequence[Sequence[float]] | None = None) -> None:
        self.groups = [list(g) for g in groups]
        self.values = pl.Series([v for g in self.groups for v in g], dtype=pl.String)
        self.sizes = np.array([len(g) for g in self.groups], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.cdfs: list[np.ndarray] | None = None
        if weights is not None:
            self.cdfs = [_cdf(w) for w in weights]
        elif zipf:
            self.cdfs = [_cdf(_zipf_weights(size, zipf)) for size in self.sizes]
        self.head_sizes = self.sizes.copy()

    @classmethod
    def with_tail(cls, heads: Sequence[Sequence[str]], tails: Sequence[Sequence[str]], zipf: float,
                  tail_share: float) -> _Pool:
        """Curated lists (most common first, Zipf-like weights) each followed by its tail: the
        rarer names not in the list, equally likely, drawn ``tail_share`` of the time together."""
        groups, weights = [], []
        for head, tail in zip(heads, tails, strict=True):
            known = set(head)
            extra = [name for name in dict.fromkeys(tail) if name not in known] if tail_share else []
            w = _zipf_weights(len(head), zipf)
            weights.append(np.concatenate([(1 - tail_share) * w / w.sum(),
                                           np.full(len(extra), tail_share / len(extra))])
                           if extra else w)
            groups.append([*head, *extra])
        pool = cls(groups, weights=weights)
        pool.head_sizes = np.array([len(head) for head in heads], dtype=np.int64)
        return pool

    @classmethod
    def weighted(cls, groups: Sequence[Sequence[tuple[str, float]]]) -> _Pool:
        """A pool from (value, weight) lists."""
        return cls([[v for v, _ in g] for g in groups], weights=[[w for _, w in g] for g in groups])

    def draw(self, rng: np.random.Generator, groups: np.ndarray) -> pl.Series:
        """The picked strings themselves."""
        return self.values.gather(self.pick(rng, groups))

    def pick(self, rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
        u = rng.random(len(groups))
        if self.cdfs is None:
            return self.offsets[groups] + (u * self.sizes[groups]).astype(np.int64)
        out = np.empty(len(groups), dtype=np.int64)
        for g, cdf in enumerate(self.cdfs):
            mask = groups == g
            idx = np.minimum(np.searchsorted(cdf, u[mask], side="right"), len(cdf) - 1)
            out[mask] = self.offsets[g] + idx
        return out


def _chars(rng: np.random.Generator, alphabet: str, n: int) -> pl.Series:
    """``n`` random single characters from ``alphabet``."""
    return pl.Series(list(alphabet)).gather(rng.integers(0, len(alphabet), n))


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def _weighted(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _zipf_weights(size: int, zipf: float) -> np.ndarray:
    """Weights of a list ordered by frequency: the i-th entry weighs 1 / (i + 3) ** zipf."""
    return 1.0 / (np.arange(size) + 3.0) ** zipf


def _cdf(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.cumsum(w) / w.sum()


def _template(template: str, tokens: Mapping[str, pl.Expr]) -> pl.Expr:
    """"({A}) {E}-{L}" -> concat_str of literals and token expressions (null if any is null)."""
    parts: list[pl.Expr] = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2:
            parts.append(tokens[piece])
        elif piece:
            parts.append(pl.lit(piece))
    return pl.concat_str(parts)


def _render_by_key(frame: pl.DataFrame, key: str, exprs: Mapping[int, pl.Expr]) -> pl.Series:
    """Evaluate ``exprs[k]`` only on the rows whose ``key`` is k, in row order.

    Cheaper than a when/then chain, which computes every branch for every row.
    """
    frame = frame.with_row_index("_ri")
    parts = [
        part.select("_ri", exprs[k].alias("_out"))
        for (k,), part in frame.partition_by(key, as_dict=True, maintain_order=True).items()
    ]
    return pl.concat(parts).sort("_ri")["_out"]


def _typo(col: pl.Expr, op: pl.Expr, pos_u: pl.Expr, ch: pl.Expr) -> pl.Expr:
    """One keyboard slip: substitute, delete or transpose a character (never the first)."""
    n = col.str.len_chars()
    pos = (pos_u * (n - 2).clip(lower_bound=1)).floor().cast(pl.Int64) + 1
    head = col.str.slice(0, pos)
    substituted = pl.concat_str([head, ch, col.str.slice(pos + 1)])
    deleted = pl.concat_str([head, col.str.slice(pos + 1)])
    swapped = pl.concat_str(
        [head, col.str.slice(pos + 1, 1), col.str.slice(pos, 1), col.str.slice(pos + 2)]
    )
    return (
        pl.when(n < 4).then(col)
        .when(op == 0).then(substituted)
        .when(op == 1).then(deleted)
        .otherwise(swapped)
    )


def _typo_args(rng: np.random.Generator, n: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Random (operation, position, character) literals for ``_typo`` on ``n`` rows."""
    op = pl.lit(pl.Series(rng.integers(0, 3, n).astype(np.int8)))
    pos = pl.lit(pl.Series(rng.random(n)))
    ch = pl.lit(_chars(rng, "aeioulnrstmdcgh", n))
    return op, pos, ch


# =============================================================================================
# The tables generate_leads draws from (built once per call; cheap)
# =============================================================================================


@dataclass
class _Tables:
    countries: list[_Country]
    cities: list[tuple[int, _City]]  # (country index, city)
    first: _Pool
    first_slug: pl.Series
    first_initial: pl.Series
    first_alt: np.ndarray  # nickname <-> formal name (self when none)
    same_initial: tuple[np.ndarray, np.ndarray, np.ndarray]  # offsets, sizes, flat candidates
    last: _Pool
    last_slug: pl.Series
    last_initial: pl.Series
    city_names: pl.Series
    city_states: pl.Series  # state codes of the cities, then their long names
    city_state_empty: np.ndarray  # no short form (GB counties): always the long name
    lead_sources: pl.Series
    titles: _Pool
    streets: _Pool
    street_types: list[tuple[np.ndarray, pl.Series]]  # per street language: cdf, values
    # phone ranges, flattened
    range_area: pl.Series
    range_first: np.ndarray  # (n_ranges, 10) allowed first digits, padded
    range_nfirst: np.ndarray
    range_lens: np.ndarray  # (n_ranges, 3)
    range_nlens: np.ndarray
    range_nanp: np.ndarray
    city_range_off: np.ndarray
    city_range_n: np.ndarray
    country_mobile_off: np.ndarray
    country_mobile_n: np.ndarray


def _build_tables(codes: Sequence[str], rare_names: float) -> _Tables:
    countries = [_COUNTRIES[c] for c in codes]
    cities = [(ci, city) for ci, spec in enumerate(countries) for city in spec.cities]

    tails = _name_tails()
    first = _Pool.with_tail([_FIRST_EN, _FIRST_EN, _FIRST_DE, _FIRST_FR],
                            [tails["first_en"], tails["first_en"], tails["first_de"], tails["first_fr"]],
                            zipf=0.9, tail_share=rare_names)
    flat_first = first.values.to_list()
    first_alt = np.arange(len(flat_first), dtype=np.int64)
    cand_off, cand_n, cand_flat = [], [], []
    for g, names in enumerate(first.groups):
        off = int(first.offsets[g])
        head, tail = names[: first.head_sizes[g]], names[first.head_sizes[g]:]
        common = set(head)
        where = {name: off + i for i, name in enumerate(names)}
        formal_of = {nick: formal for formal, nicks in _NICKNAMES.items() for nick in nicks}
        for i, name in enumerate(names):
            alt = None
            if name in _NICKNAMES:  # the usual nickname among the common names, else among all
                alt = next((n for n in _NICKNAMES[name] if n in common), None) \
                    or next((n for n in _NICKNAMES[name] if n in where), None)
            elif name in formal_of and formal_of[name] in where:
                alt = formal_of[name]
            if alt is not None:
                first_alt[off + i] = where[alt]
            # lookalike colleagues: another name with the same initial, not a nickname of it; a
            # common one when there is one (a rarer one otherwise, not the same name)
            related = {name, alt} | set(_NICKNAMES.get(name, ()))
            cands = [where[n] for n in head if n[0] == name[0] and n not in related] \
                or [where[n] for n in tail if n[0] == name[0] and n not in related]
            cand_off.append(len(cand_flat))
            cand_n.append(len(cands))
            cand_flat.extend(cands)
    first_slug = pl.Series([_slug(n) for n in flat_first])

    last = _Pool.with_tail([_LAST_US, _LAST_GB, _LAST_DE, _LAST_FR],
                           [tails["last_us"], tails["last_gb"], tails["last_de"], tails["last_fr"]],
                           zipf=0.8, tail_share=rare_names)
    last_slug = pl.Series([_slug(n) for n in last.values.to_list()])

    ranges: list[tuple[PhoneRange, bool]] = []
    city_range_off, city_range_n = [], []
    for ci, city in cities:
        city_range_off.append(len(ranges))
        city_range_n.append(len(city.phones))
        ranges.extend((r, countries[ci].code in ("US", "CA")) for r in city.phones)
    country_mobile_off, country_mobile_n = [], []
    for spec in countries:
        country_mobile_off.append(len(ranges))
        country_mobile_n.append(len(spec.mobile))
        ranges.extend((r, False) for r in spec.mobile)
    range_first = np.zeros((len(ranges), 10), dtype=np.int64)
    range_lens = np.zeros((len(ranges), 3), dtype=np.int64)
    for i, ((_, digits, lens), _) in enumerate(ranges):
        range_first[i, : len(digits)] = [int(d) for d in digits]
        range_lens[i, : len(lens)] = lens

    return _Tables(
        countries=countries,
        cities=cities,
        first=first,
        first_slug=first_slug,
        first_initial=first_slug.str.slice(0, 1),
        first_alt=first_alt,
        same_initial=(np.array(cand_off), np.array(cand_n), np.array(cand_flat, dtype=np.int64)),
        last=last,
        last_slug=last_slug,
        last_initial=last_slug.str.slice(0, 1),
        city_names=pl.Series([cy.name for _, cy in cities]),
        city_states=pl.Series([cy.state for _, cy in cities] + [cy.state_long for _, cy in cities]),
        city_state_empty=np.array([not cy.state for _, cy in cities]),
        lead_sources=pl.Series([s for s, _ in _LEAD_SOURCES]),
        titles=_Pool([_TITLES_EN, _TITLES_DE, _TITLES_FR], zipf=0.5),
        streets=_Pool([_STREETS_EN, _STREETS_GB, _STREETS_DE, _STREETS_FR], zipf=0.5),
        street_types=[
            (_cdf([w for _, w in types]), pl.Series([t for t, _ in types]))
            for types in _STREET_TYPES
        ],
        range_area=pl.Series([r[0] for r, _ in ranges]),
        range_first=range_first,
        range_nfirst=np.array([len(r[1]) for r, _ in ranges]),
        range_lens=range_lens,
        range_nlens=np.array([len(r[2]) for r, _ in ranges]),
        range_nanp=np.array([nanp for _, nanp in ranges]),
        city_range_off=np.array(city_range_off),
        city_range_n=np.array(city_range_n),
        country_mobile_off=np.array(country_mobile_off),
        country_mobile_n=np.array(country_mobile_n),
    )


def _subscribers(rng: np.random.Generator, t: _Tables, rng_idx: np.ndarray) -> np.ndarray:
    """A valid subscriber number (as an int, no leading zero) in each row's phone range."""
    n = len(rng_idx)
    lens = t.range_lens[rng_idx, (rng.random(n) * t.range_nlens[rng_idx]).astype(np.int64)]
    first = t.range_first[rng_idx, (rng.random(n) * t.range_nfirst[rng_idx]).astype(np.int64)]
    scale = 10 ** (lens - 1)
    sub = first * scale + (rng.random(n) * scale).astype(np.int64)
    # NANP: exchanges N11 are service codes and 555 is fiction; move them to the next exchange.
    exch = sub // 10_000
    bad = t.range_nanp[rng_idx] & ((exch % 100 == 11) | (exch == 555))
    sub[bad] += 10_000
    return sub


def _range_in(rng: np.random.Generator, off: np.ndarray, size: np.ndarray) -> np.ndarray:
    return off + (rng.random(len(off)) * size).astype(np.int64)


# =============================================================================================
# Companies and people
# =============================================================================================


_DOMAIN_CLASH = (  # what a company does when its name's domain is taken: {s} name, {c} city
    "{s}hq", "get{s}", "{s}group", "{s}-{c}", "the{s}", "{s}global", "{s}inc", "try{s}", "{s}{c}",
    "{s}-online", "{s}corp", "my{s}", "{s}solutions", "{s}-{c}-office",
)


def _unique_domains(rng: np.random.Generator, stem: pl.Series, city: pl.Series,
                    tld: pl.Series) -> pl.Series:
    """stem + tld, re-spelled the way real companies do when a domain is taken (getacme.com)."""
    frame = pl.DataFrame({"s": stem, "c": city, "t": tld}).with_columns(c=_slug_expr(pl.col("c")))
    domain = frame.select(pl.concat_str(["s", "t"])).to_series()
    for attempt in range(8):
        rank = _rank_in_group(domain.hash().to_numpy())
        later = np.flatnonzero(rank > 0)
        if not len(later):
            break
        part = frame[later].with_columns(_k=pl.Series((rank[later] - 1) % len(_DOMAIN_CLASH)))
        if attempt == 0:
            tokens = {"s": pl.col("s"), "c": pl.col("c")}
            respelled = _render_by_key(part, "_k", {
                k: _template(tpl, tokens) for k, tpl in enumerate(_DOMAIN_CLASH)})
        else:  # still taken: a number, as a last resort
            respelled = part["s"] + pl.Series(rng.integers(2, 1000, len(later))).cast(pl.String)
        domain = domain.scatter(later, respelled + part["t"])
    return domain


def _companies(rng: np.random.Generator, t: _Tables, n: int,
               country_w: np.ndarray) -> pl.DataFrame:
    """``n`` companies with unique domains: name parts, legal form, city, switchboard, size."""
    country = rng.choice(len(t.countries), size=n, p=country_w)
    city = np.empty(n, dtype=np.int64)
    city_ids = np.arange(len(t.cities))
    city_country = np.array([ci for ci, _ in t.cities])
    for ci in range(len(t.countries)):
        mask = country == ci
        ids = city_ids[city_country == ci]
        w = np.array([t.cities[i][1].weight for i in ids], dtype=float)
        city[mask] = rng.choice(ids, size=int(mask.sum()), p=w / w.sum())
    lang = np.array([c.lang for _, c in t.cities])[city]
    family = _LANG_FAMILY[lang]

    # compound ("Bluepeak"), two words ("Blue Peak"), surname ("Müller"), acronym ("KLM"),
    # two surnames ("Harris & Cole")
    kind = _weighted(rng, n, [0.50, 0.15, 0.20, 0.06, 0.09])
    prefix = pl.Series(_COMPANY_PREFIX).gather(rng.integers(0, len(_COMPANY_PREFIX), n))
    core = pl.Series(_COMPANY_CORE).gather(rng.integers(0, len(_COMPANY_CORE), n))
    surname = t.last.draw(rng, lang)
    surname2 = t.last.draw(rng, lang)
    letters = "ABCDEFGHIJKLMNOPRSTUVW"
    acronym = _chars(rng, letters, n) + _chars(rng, letters, n) + _chars(rng, letters, n)
    desc_pool = _Pool([[d for d, _ in fam] for fam in _DESCRIPTORS])
    desc_ind = pl.Series([i for fam in _DESCRIPTORS for _, i in fam])
    desc_idx = desc_pool.pick(rng, family)
    no_desc = rng.random(n) < np.select([kind == 2, kind == 4], [0.15, 0.8], 0.35)
    industry_any = pl.Series(_INDUSTRIES).gather(rng.integers(0, len(_INDUSTRIES), n))

    suffix = np.empty(n, dtype=np.int64)
    for ci, spec in enumerate(t.countries):
        mask = country == ci
        keys = [_SUFFIX_KEYS.index(s) for s, _ in spec.suffixes]
        suffix[mask] = np.array(keys)[_weighted(rng, int(mask.sum()),
                                                [w for _, w in spec.suffixes])]
    tld = _Pool.weighted([spec.tlds for spec in t.countries]).draw(rng, country)

    sb_range = _range_in(rng, t.city_range_off[city], t.city_range_n[city])
    sb_sub = _subscribers(rng, t, sb_range)
    round_sub = rng.random(n) < 0.5  # switchboards often end in 0 or 00
    sb_sub = np.where(round_sub, sb_sub // 100 * 100, sb_sub)

    c = pl.col
    frame = pl.DataFrame({
        "_kind": kind, "_prefix": prefix, "_core": core, "_surname": surname,
        "_surname2": surname2, "_acronym": acronym, "_desc": desc_pool.values.gather(desc_idx),
        "_desc_ind": desc_ind.gather(desc_idx), "_no_desc": no_desc, "_ind_any": industry_any,
        "_hyphen": rng.random(n) < 0.2, "_short_domain": rng.random(n) < 0.5,
    })
    core_name = (
        pl.when(c("_kind") == 0).then(c("_prefix") + c("_core").str.to_lowercase())
        .when(c("_kind") == 1).then(c("_prefix") + " " + c("_core"))
        .when(c("_kind") == 2).then(c("_surname"))
        .when(c("_kind") == 3).then(c("_acronym"))
        .otherwise(c("_surname") + " & " + c("_surname2"))
    )
    dash = pl.when(c("_hyphen")).then(pl.lit("-")).otherwise(pl.lit(""))
    frame = frame.with_columns(_core_name=core_name).with_columns(
        company_base=pl.when(c("_no_desc")).then(c("_core_name"))
        .otherwise(c("_core_name") + " " + c("_desc")),
        industry=pl.when(c("_no_desc") | (c("_desc_ind") == ""))
        .then(c("_ind_any")).otherwise(c("_desc_ind")),
        stem=pl.concat_str([
            pl.when(c("_kind") == 4)
            .then(pl.concat_str([_slug_expr(c("_surname")), dash, _slug_expr(c("_surname2"))]))
            .otherwise(_slug_expr(c("_core_name"))),
            pl.when(c("_no_desc") | c("_short_domain")).then(pl.lit(""))
            .otherwise(pl.concat_str([dash, _slug_expr(c("_desc"))])),
        ]),
    )
    employees = np.clip(np.exp(rng.normal(4.2, 1.9, n)), 1, 350_000).astype(np.int64)
    work_pattern = np.array(list(_WORK_PATTERN_W))[
        _weighted(rng, n, list(_WORK_PATTERN_W.values()))]
    return pl.DataFrame({
        "company_base": frame["company_base"],
        "display": frame["company_base"] + _SUFFIX_CANON.gather(suffix),
        "industry": frame["industry"],
        "domain": _unique_domains(rng, frame["stem"], t.city_names.gather(city), tld),
        "country": country.astype(np.int16),
        "city": city,
        "lang": lang.astype(np.int8),
        "suffix": suffix.astype(np.int8),
        "sb_range": sb_range,
        "sb_sub": sb_sub,
        "email_pattern": work_pattern,
        "employees": pl.Series(employees).cast(pl.String),
    })


def _addresses(rng: np.random.Generator, t: _Tables, city: np.ndarray, lang: np.ndarray
               ) -> tuple[pl.Series, pl.Series]:
    """Street lines and postal codes for companies in ``city`` (street style by language)."""
    n = len(city)
    names = t.streets.values.gather(t.streets.pick(rng, lang))
    types = _Pool.weighted(_STREET_TYPES).draw(rng, lang)
    number = rng.integers(1, 200, n)
    us_number = rng.integers(1, 9999, n)
    suite = rng.integers(1, 30, n) * 100 + rng.integers(0, 20, n)
    frame = pl.DataFrame({
        "lang": lang, "name": names, "type": types,
        "num": pl.Series(number).cast(pl.String), "us_num": pl.Series(us_number).cast(pl.String),
        "suite": pl.Series(suite).cast(pl.String), "has_suite": rng.random(n) < 0.25,
        "letter": rng.random(n) < 0.1,
    })
    c = pl.col
    street = {
        _EN_US: pl.concat_str([c("us_num"), pl.lit(" "), c("name"), c("type")])
        + pl.when(c("has_suite")).then(", Suite " + c("suite")).otherwise(pl.lit("")),
        _EN_GB: pl.concat_str([c("num"), pl.lit(" "), c("name"), c("type")]),
        _DE: pl.concat_str([c("name"), c("type"), pl.lit(" "), c("num")])
        + pl.when(c("letter")).then(pl.lit("a")).otherwise(pl.lit("")),
        _FR: pl.concat_str([c("num"), pl.lit(" "), c("type"), c("name")]),
    }
    street_series = _render_by_key(frame, "lang", street)

    # postal codes: prefix + random digits + a country-specific tail
    pre_off, pre_n, pre_vals, ndig, tail = [], [], [], [], []
    for _, cy in t.cities:
        pre_off.append(len(pre_vals))
        pre_n.append(len(cy.postal_prefixes))
        pre_vals.extend(cy.postal_prefixes)
        ndig.append(cy.postal_digits)
        tail.append(("", "gb", "ca", "ie", "0").index(cy.postal_tail))
    pre = pl.Series(pre_vals).gather(
        _range_in(rng, np.array(pre_off)[city], np.array(pre_n)[city])
    )
    k = np.array(ndig)[city]
    digits = pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3)
    gb_letters = "ABDEFGHJLNPQRSTUWXYZ"
    ca_letters = "ABCEGHJKLMNPRSTVWXYZ"
    ie_chars = "ACDEFHKNPRTVWXY0123456789"
    d = _chars(rng, "0123456789", n)
    gb = " " + d + _chars(rng, gb_letters, n) + _chars(rng, gb_letters, n)
    ca = " " + d + _chars(rng, ca_letters, n) + _chars(rng, "0123456789", n)
    ie = (" " + _chars(rng, ie_chars[:15] + "23456789", n) + _chars(rng, ie_chars, n)
          + _chars(rng, ie_chars, n) + _chars(rng, ie_chars, n))
    c = pl.col
    postal = pl.DataFrame({
        "pre": pre, "dig": digits, "k": k, "tail": np.array(tail)[city],
        "gb": gb, "ca": ca, "ie": ie,
    }).select(
        pl.concat_str([
            c("pre"), c("dig").str.slice(3 - c("k")),
            pl.when(c("tail") == 1).then(c("gb")).when(c("tail") == 2).then(c("ca"))
            .when(c("tail") == 3).then(c("ie")).when(c("tail") == 4).then(pl.lit("0"))
            .otherwise(pl.lit("")),
        ])
    ).to_series()
    return street_series, postal


def _email_locals(t: _Tables, first: np.ndarray, last: np.ndarray, pattern: np.ndarray,
                  digits: pl.Series) -> pl.Series:
    """Local parts of addresses from name indices and pattern indices (one concat per row)."""
    parts = "flij"  # codes of the name parts; a tail of "" is code 4 (none)
    head = np.array([parts.index(h) for h, _, _, _ in _LOCAL_PARTS], dtype=np.int8)[pattern]
    tail = np.array([parts.index(tl) if tl else 4 for _, _, tl, _ in _LOCAL_PARTS],
                    dtype=np.int8)[pattern]
    sep = np.array([_SEPARATORS.index(s) for _, s, _, _ in _LOCAL_PARTS])[pattern]
    numbered = np.array([d for _, _, _, d in _LOCAL_PARTS])[pattern]
    c = pl.col
    frame = pl.DataFrame({
        "f": t.first_slug.gather(first), "l": t.last_slug.gather(last),
        "i": t.first_initial.gather(first), "j": t.last_initial.gather(last),
        "head": head, "tail": tail, "sep": pl.Series(_SEPARATORS).gather(sep),
        "n": digits.zip_with(pl.Series(numbered), _nulls(len(pattern))),
    })

    def part(code: str) -> pl.Expr:  # null (left out of the address) for code 4: no tail
        expr = pl.when(c(code) == 0).then(c("f"))
        for i in (1, 2, 3):
            expr = expr.when(c(code) == i).then(c(parts[i]))
        return expr

    head_expr, tail_expr = part("head"), part("tail")
    return frame.select(
        pl.concat_str([head_expr, c("sep"), tail_expr, c("n")], ignore_nulls=True)
    ).to_series()


def _rank_in_group(keys: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same key (0 for the first)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(keys)]]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - np.repeat(starts, sizes)
    return rank


def _unique_emails(rng: np.random.Generator, local: pl.Series, domain: pl.Series) -> pl.Series:
    """local@domain, numbering repeats the way mail providers force people to (john.smith2@).

    An address always means one person. Repeats are found with numpy on 64-bit hashes of
    the addresses (polars group-bys are slower here) and numbered in row order; a numbered
    address that exists already (john.smith12@ beside a born-in-'12 john.smith12@) gets
    three random digits more on the next pass.
    """
    # gmail ignores dots: john.smith@ and johnsmith@ are one mailbox, so one person
    gmail = np.flatnonzero(domain.is_in(["gmail.com", "googlemail.com"]).to_numpy())
    key = local.clone().scatter(gmail, local.gather(gmail).str.replace_all(".", "", literal=True))
    domain_hash = domain.hash(seed=1).to_numpy()
    for attempt in range(6):
        h = key.hash(seed=0).to_numpy() ^ domain_hash  # equal addresses, equal h
        ordered = np.sort(h)
        repeats = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if not len(repeats):
            break
        pos = np.minimum(np.searchsorted(repeats, h), len(repeats) - 1)
        involved = np.flatnonzero(repeats[pos] == h)
        rank = _rank_in_group(h[involved])
        later = involved[rank > 0]
        number = rank[rank > 0] + 1 if attempt == 0 else rng.integers(100, 1000, len(later))
        added = pl.Series(number).cast(pl.String)
        local = local.scatter(later, local.gather(later) + added)
        key = key.scatter(later, key.gather(later) + added)
    return pl.DataFrame({"local": local, "domain": domain}).select(
        pl.concat_str(["local", "domain"], separator="@")
    ).to_series()


@dataclass
class _People:
    """Distinct people (entities): indices into the vocabularies, phones, e-mail addresses."""

    comp: np.ndarray
    country: np.ndarray
    city: np.ndarray
    first: np.ndarray
    last: np.ndarray
    title: np.ndarray
    source: np.ndarray
    ph_range: np.ndarray  # -1: no phone
    ph_sub: np.ndarray
    alt_range: np.ndarray  # the other number a duplicate may carry
    alt_sub: np.ndarray
    ph_u: np.ndarray  # draws that pick the phone format and the country spelling
    country_u: np.ndarray
    web_style: np.ndarray
    email: pl.Series  # null: no e-mail
    alt_email: pl.Series  # private address for work-mail people and vice versa (null if unused)


def _people(rng: np.random.Generator, t: _Tables, companies: pl.DataFrame, n: int,
            noise: _Noise, needs_alt: np.ndarray) -> _People:
    """``n`` distinct people; ``needs_alt`` lists those who also need a second address."""
    nc = companies.height
    w = 1.0 / (np.arange(nc) + 20.0) ** 0.85  # a few companies appear very often
    comp = rng.choice(nc, size=n, p=w / w.sum())
    comp_lang = companies["lang"].to_numpy()[comp]
    lang = np.where(rng.random(n) < 0.88, comp_lang, rng.integers(0, 4, n)).astype(np.int64)
    first = t.first.pick(rng, lang)
    last = t.last.pick(rng, lang)
    phone_kind = _weighted(rng, n, [1 - noise.phone_none - noise.phone_switchboard
                                    - noise.phone_mobile, noise.phone_switchboard,
                                    noise.phone_mobile, noise.phone_none])
    free = rng.random(n) < noise.freemail

    # hard noise: look-alikes, i.e. distinct people who resemble another person
    k = int(round(n * noise.lookalikes))
    if k and n > 1:
        look = rng.choice(n, size=k, replace=False)
        src = rng.integers(0, n, k)
        src = np.where(src == look, (src + 1) % n, src)
        colleague = rng.random(k) < 0.5
        last[look] = last[src]
        lang[look] = lang[src]
        # colleagues: same company and surname, a first name with the same initial, and both
        # on the switchboard number; namesakes elsewhere: the same full name, often private mail
        off, size, flat = t.same_initial
        has = size[first[src]] > 0
        alt = flat[np.minimum(off[first[src]] + (rng.random(k) * size[first[src]]).astype(np.int64),
                              max(len(flat) - 1, 0))]
        first[look] = np.where(colleague & has, alt, first[src])
        comp[look] = np.where(colleague, comp[src], comp[look])
        phone_kind[look[colleague]] = 1
        phone_kind[src[colleague]] = 1
        free[look[~colleague]] = rng.random(int((~colleague).sum())) < 0.6

    country = companies["country"].to_numpy()[comp].astype(np.int64)
    city = companies["city"].to_numpy()[comp]
    sb_range = companies["sb_range"].to_numpy()[comp]
    sb_sub = companies["sb_sub"].to_numpy()[comp]

    # phones: 0 direct line, 1 switchboard, 2 mobile, 3 none; the alternative number is what a
    # duplicate record may carry instead (a mobile, or the switchboard for mobile people)
    direct_range = _range_in(rng, t.city_range_off[city], t.city_range_n[city])
    mob_n = t.country_mobile_n[country]
    mob_range = np.where(mob_n > 0, _range_in(rng, t.country_mobile_off[country],
                                              np.maximum(mob_n, 1)), direct_range)
    direct_sub = _subscribers(rng, t, direct_range)
    mob_sub = _subscribers(rng, t, mob_range)
    kinds = [phone_kind == 0, phone_kind == 1, phone_kind == 2]
    ph_range = np.select(kinds, [direct_range, sb_range, mob_range], -1)
    ph_sub = np.select(kinds, [direct_sub, sb_sub, mob_sub], -1)
    alt_range = np.where(phone_kind == 2, sb_range, mob_range)
    alt_sub = np.where(phone_kind == 2, sb_sub, mob_sub)

    # e-mail: everyone's primary address plus the second address of those who need one,
    # made unique together so that two distinct people never share an address
    free_dom = _Pool.weighted(_FREEMAIL).draw(rng, lang)
    work_dom = companies["domain"].gather(comp)
    free_pat = np.array(list(_FREE_PATTERN_W))[_weighted(rng, n, list(_FREE_PATTERN_W.values()))]
    work_pat = companies["email_pattern"].to_numpy()[comp]
    year = rng.integers(60, 103, n)  # birth years 1960-2002, a common e-mail suffix
    digits = np.where(rng.random(n) < 0.6, year % 100, rng.integers(1, 100, n))
    digits = np.where(rng.random(n) < 0.2, 1900 + year, digits)
    digits_s = pl.Series(digits).cast(pl.String).str.zfill(2)
    who = np.concatenate([np.arange(n), needs_alt]).astype(np.int64)
    is_free = np.concatenate([free, ~free[needs_alt]])
    local = _email_locals(t, first[who], last[who],
                          np.where(is_free, free_pat[who], work_pat[who]), digits_s.gather(who))
    domain = work_dom.gather(who).zip_with(pl.Series(~is_free), free_dom.gather(who))
    addresses = _unique_emails(rng, local, domain)
    email = addresses.head(n).scatter(np.flatnonzero(rng.random(n) < noise.email_none), None)
    alt_email = _nulls(n).scatter(needs_alt, addresses.tail(len(needs_alt))) \
        if len(needs_alt) else _nulls(n)

    title_group = np.where((lang >= _DE) & (rng.random(n) < 0.5), np.where(lang == _DE, 1, 2), 0)
    return _People(
        comp=comp, country=country, city=city, first=first, last=last,
        title=t.titles.pick(rng, title_group),
        source=_Pool.weighted([_LEAD_SOURCES]).pick(rng, np.zeros(n, dtype=np.int64)),
        ph_range=ph_range, ph_sub=ph_sub, alt_range=alt_range, alt_sub=alt_sub,
        ph_u=rng.random(n), country_u=rng.random(n),
        web_style=_weighted(rng, n, [w for _, _, w in _WEB_STYLES]),
        email=email, alt_email=alt_email,
    )


# =============================================================================================
# Rows: assembling, re-typing duplicates, everyday mess
# =============================================================================================

_SUFFIX_VARIANTS = _Pool([v for _, v in _SUFFIXES.values()])
_SUFFIX_CANON = pl.Series([canon for canon, _ in _SUFFIXES.values()])
_STREET_ABBREV = (
    ("Street", "St."), ("Avenue", "Ave."), ("Road", "Rd."), ("straße", "str."), ("Straße", "Str."),
    ("Boulevard", "Blvd"), ("rue", "r."), ("avenue", "av."), ("boulevard", "bd"),
)
_WEB_STYLES = (("https://www.", "", 30), ("www.", "", 25), ("", "", 20), ("http://", "/", 10),
               ("https://", "", 15))
# e-mail variants of a duplicate, in the order of _Noise.email_variant
_EV_KEEP, _EV_CASE, _EV_SPACE, _EV_PLUS, _EV_DOTS, _EV_OTHER, _EV_NONE = range(7)


def _assemble(rng: np.random.Generator, t: _Tables, companies: pl.DataFrame, people: _People,
              ent: np.ndarray, dup_rows: np.ndarray, noise: _Noise) -> pl.DataFrame:
    """One row per entry of ``ent`` (a person index), every string gathered once.

    Duplicates (rows ``dup_rows``) get the noise that is a choice of another value here, on
    indices, before any string exists: nickname, other phone or format, other title, lead
    source, country spelling, and fields left blank.
    """
    n = len(ent)
    nc = companies.height
    comp = people.comp[ent]
    city = people.city[ent]
    first = people.first[ent]
    title = people.title[ent]
    source = people.source[ent]
    ph_range, ph_sub = people.ph_range[ent], people.ph_sub[ent]
    ph_u, country_u = people.ph_u[ent], people.country_u[ent]
    blank = {name: np.zeros(n, dtype=bool) for name in
             ("Title", "Website", "Street", "City", "State", "Postal Code", "Industry",
              "Employees")}

    d = dup_rows
    k = len(d)
    if k:
        def some(p: float) -> np.ndarray:
            return d[rng.random(k) < p]

        nick = some(noise.nickname)
        first[nick] = t.first_alt[first[nick]]
        variant = _weighted(rng, k, noise.phone_variant)  # same, reformatted, other, none
        restyled = d[variant >= 1]
        ph_u[restyled] = rng.random(len(restyled))
        other = d[variant == 2]
        ph_range[other] = people.alt_range[ent[other]]
        ph_sub[other] = people.alt_sub[ent[other]]
        ph_range[d[variant == 3]] = -1
        other = some(noise.title_other)
        title[other] = t.titles.pick(rng, np.zeros(len(other), dtype=np.int64))
        changed = some(noise.source_change)
        source[changed] = _Pool.weighted([_LEAD_SOURCES]).pick(
            rng, np.zeros(len(changed), dtype=np.int64))
        restyled = some(noise.country_restyle)
        country_u[restyled] = rng.random(len(restyled))
        sparse = some(noise.dup_sparse)  # a web-form-like record: name, e-mail, company
        for name in ("Title", "Website", "Street", "State", "Postal Code", "Industry",
                     "Employees"):
            blank[name][sparse] = True
        blank["Title"][some(noise.title_missing)] = True
        for name in ("Street", "Postal Code", "Employees"):
            blank[name][some(noise.address_missing)] = True
        blank["City"][some(noise.address_missing / 2)] = True

    # everyday blanks, on every row
    for name, p in (("Title", noise.missing_title), ("Website", noise.missing_website),
                    ("Street", noise.missing_street), ("Industry", noise.missing_industry),
                    ("Employees", noise.missing_employees)):
        blank[name] |= rng.random(n) < p
    no_city = rng.random(n) < noise.missing_city
    for name in ("City", "State", "Postal Code"):
        blank[name] |= no_city

    n_cities = len(t.cities)
    state_long = (rng.random(n) < noise.state_long) | t.city_state_empty[city]
    web = pl.concat([
        prefix + companies["domain"] + suffix for prefix, suffix, _ in _WEB_STYLES
    ])
    columns = {
        "First Name": t.first.values.gather(first),
        "Last Name": t.last.values.gather(people.last[ent]),
        "Email": people.email.gather(ent),
        "Company": companies["display"].gather(comp),
        "Title": t.titles.values.gather(title),
        "Website": web.gather(people.web_style[ent] * nc + comp),
        "Street": companies["street"].gather(comp),
        "City": t.city_names.gather(city),
        "State": t.city_states.gather(city + n_cities * state_long),
        "Postal Code": companies["postal"].gather(comp),
        "Industry": companies["industry"].gather(comp),
        "Lead Source": t.lead_sources.gather(source),
        "Employees": companies["employees"].gather(comp),
    }
    for name, mask in blank.items():
        columns[name] = columns[name].scatter(np.flatnonzero(mask), None)
    return pl.DataFrame(columns).with_columns(
        _ent=pl.Series(ent), _country=pl.Series(people.country[ent]), _ph_range=pl.Series(ph_range),
        _ph_sub=pl.Series(ph_sub), _ph_u=pl.Series(ph_u), _country_u=pl.Series(country_u),
    )


def _patch(frame: pl.DataFrame, rows: np.ndarray, exprs: Mapping[str, pl.Expr],
           extra: Mapping[str, pl.Series] | None = None) -> pl.DataFrame:
    """Recompute some columns on ``rows`` only (cheap when rows are few) and write them back."""
    if not len(rows):
        return frame
    needed = {root for e in exprs.values() for root in e.meta.root_names()}
    columns = sorted(needed & set(frame.columns))
    part = frame.select(columns)[rows] if columns else pl.DataFrame({"_row": rows})
    if extra:
        part = part.with_columns(**{k: v for k, v in extra.items() if k in needed})
    new = part.select(**exprs)
    return frame.with_columns(
        frame[name].clone().scatter(rows, new[name]).alias(name) for name in exprs
    )


def _retype_duplicates(rng: np.random.Generator, companies: pl.DataFrame, people: _People,
                       frame: pl.DataFrame, ent: np.ndarray, dup_rows: np.ndarray,
                       email_variant: np.ndarray, noise: _Noise) -> pl.DataFrame:
    """The string noise of duplicates: typos, case, swapped names, e-mail and company variants.

    Each kind of noise is computed on just the rows that get it (string work is what costs).
    """
    k = len(dup_rows)
    if not k:
        return frame
    c = pl.col

    def some(p: float, rows: np.ndarray = dup_rows) -> np.ndarray:
        return rows[rng.random(len(rows)) < p]

    def typo(name: str, rows: np.ndarray) -> pl.DataFrame:
        op, pos, ch = _typo_args(rng, len(rows))
        return _patch(frame, rows, {name: _typo(c(name), op, pos, ch)})

    # names: typos, case, missing first name, swapped first/last
    frame = typo("First Name", some(noise.typo_first))
    frame = typo("Last Name", some(noise.typo_last))
    case = rng.random(k)
    names = ("First Name", "Last Name")
    frame = _patch(frame, dup_rows[case < 0.05], {n: c(n).str.to_uppercase() for n in names})
    frame = _patch(frame, dup_rows[case > 0.95], {n: c(n).str.to_lowercase() for n in names})
    frame = frame.with_columns(frame["First Name"].clone().scatter(
        some(noise.missing_first), None))
    frame = _patch(frame, some(noise.swap_names),
                   {"First Name": c("Last Name"), "Last Name": c("First Name")})

    # e-mail: keep, case, whitespace, plus-tag, gmail dots, the other address, missing
    rows_of = {v: dup_rows[email_variant == v] for v in range(7)}
    upper = rng.random(len(rows_of[_EV_CASE])) < 0.5
    frame = _patch(frame, rows_of[_EV_CASE][upper], {"Email": c("Email").str.to_uppercase()})
    frame = _patch(frame, rows_of[_EV_CASE][~upper], {"Email": c("Email").str.to_titlecase()})
    frame = _patch(frame, rows_of[_EV_SPACE],
                   {"Email": pl.concat_str([pl.lit(" "), c("Email"), pl.lit(" ")])})
    parts = c("Email").str.split_exact("@", 1)
    local, dom = parts.struct.field("field_0"), parts.struct.field("field_1")
    plus = rows_of[_EV_PLUS]
    tags = ["news", "leads", "web", "2026", "mkt", "events", "promo"]
    frame = _patch(frame, plus, {
        "Email": pl.concat_str([local, pl.lit("+"), c("_tag"), pl.lit("@"), dom])
    }, {"_tag": pl.Series(tags).gather(rng.integers(0, len(tags), len(plus)))})
    # gmail ignores dots in the local part and answers to googlemail.com as well
    dots = rows_of[_EV_DOTS]
    undotted = local.str.replace_all(".", "", literal=True)
    frame = _patch(frame, dots, {
        "Email": pl.when(dom.is_in(["gmail.com", "googlemail.com"])).then(pl.concat_str([
            pl.when(undotted == local)
            .then(pl.concat_str([local.str.slice(0, 1), pl.lit("."), local.str.slice(1)]))
            .otherwise(undotted),
            pl.lit("@"),
            pl.when(c("_googlemail")).then(pl.lit("googlemail.com")).otherwise(dom),
        ])).otherwise(c("Email"))
    }, {"_googlemail": pl.Series(rng.random(len(dots)) < 0.3)})
    other = rows_of[_EV_OTHER]
    frame = frame.with_columns(frame["Email"].clone().scatter(
        other, people.alt_email.gather(ent[other])).scatter(rows_of[_EV_NONE], None))

    # company: another spelling of the legal form, none, upper case; typos; missing
    comp = people.comp[ent[dup_rows]]
    suffix = companies["suffix"].to_numpy()[comp].astype(np.int64)
    variant = _weighted(rng, k, noise.company_variant)  # same, suffix variant, none, upper
    retyped = dup_rows[variant > 0]
    spelled = _SUFFIX_VARIANTS.values.gather(_SUFFIX_VARIANTS.pick(rng, suffix[variant > 0]))
    canon = _SUFFIX_CANON.gather(suffix[variant > 0])
    var = pl.Series(variant[variant > 0])
    upper_sfx = pl.Series(rng.random(len(retyped)) < 0.5)
    frame = _patch(frame, retyped, {
        "Company": pl.when(c("_v") == 1).then(c("_cbase") + c("_spelled"))
        .when(c("_v") == 2).then(c("_cbase"))
        .otherwise(c("_cbase").str.to_uppercase()
                   + pl.when(c("_upper_sfx")).then(c("_spelled")).otherwise(c("_canon"))
                   .str.to_uppercase())
    }, {"_cbase": companies["company_base"].gather(comp[variant > 0]), "_spelled": spelled,
        "_canon": canon, "_v": var, "_upper_sfx": upper_sfx})
    frame = typo("Company", some(noise.typo_company))
    frame = frame.with_columns(frame["Company"].clone().scatter(
        some(noise.missing_company), None))

    street = c("Street")
    for long, short in _STREET_ABBREV:
        street = street.str.replace(long, short, literal=True)
    return _patch(frame, some(noise.street_abbrev), {"Street": street})


def _row_mess(rng: np.random.Generator, frame: pl.DataFrame, noise: _Noise) -> pl.DataFrame:
    """Mess any row can have, original or duplicate: case and stray whitespace."""
    n = frame.height
    c = pl.col

    def rows(p: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n) < p)

    for fn in (str.upper, str.lower):
        p = noise.name_upper if fn is str.upper else noise.name_lower
        frame = _patch(frame, rows(p), {
            name: c(name).str.to_uppercase() if fn is str.upper else c(name).str.to_lowercase()
            for name in ("First Name", "Last Name")
        })
    frame = _patch(frame, rows(noise.email_case), {
        "Email": pl.concat_str([c("Email").str.slice(0, 1).str.to_uppercase(),
                                c("Email").str.slice(1)]),
    })
    frame = _patch(frame, rows(noise.email_space), {"Email": c("Email") + " "})
    return _patch(frame, rows(noise.company_space),
                  {"Company": pl.concat_str([pl.lit(" "), c("Company"), pl.lit(" ")])})


def _render_phones(t: _Tables, frame: pl.DataFrame) -> pl.Series:
    """Phone text from (range, subscriber, style draw), in each country's formats."""
    country = frame["_country"].to_numpy()
    u = frame["_ph_u"].to_numpy()
    style = np.zeros(len(country), dtype=np.int64)
    key_of: dict[int, tuple[int, str]] = {}
    for ci, spec in enumerate(t.countries):
        mask = country == ci
        cdf = _cdf([w for _, w in spec.phone_styles])
        style[mask] = np.minimum(np.searchsorted(cdf, u[mask], side="right"), len(cdf) - 1)
        for si, (tpl, _) in enumerate(spec.phone_styles):
            key_of[ci * 100 + si] = (ci, tpl)
    c = pl.col
    area, sub = c("_area"), c("_sub")
    n_sub = sub.str.len_chars()
    pairs = [sub.str.slice(i, 2) for i in range(0, 8, 2)]
    grouped_gb = (pl.when(n_sub == 8).then(sub.str.slice(0, 4) + " " + sub.str.slice(4))
                  .when(n_sub == 7).then(sub.str.slice(0, 3) + " " + sub.str.slice(3))
                  .otherwise(sub))
    grouped_ie = (pl.when(n_sub == 7).then(sub.str.slice(0, 3) + " " + sub.str.slice(3))
                  .when(n_sub == 6).then(sub.str.slice(0, 3) + " " + sub.str.slice(3))
                  .otherwise(sub))
    grouped_ch = pl.concat_str([sub.str.slice(0, 3), sub.str.slice(3, 2), sub.str.slice(5)],
                               separator=" ")
    grouped_de = pl.concat_str([sub.str.slice(0, n_sub - 4), sub.str.slice(-4)], separator=" ")
    group_by_country = {"GB": grouped_gb, "IE": grouped_ie, "CH": grouped_ch, "DE": grouped_de}
    exprs: dict[int, pl.Expr] = {}
    for key, (ci, tpl) in key_of.items():
        tokens = {
            "A": area, "S": sub, "E": sub.str.slice(0, 3), "L": sub.str.slice(3), "X": c("_ext"),
            "G": group_by_country.get(t.countries[ci].code, sub),
            "P": pl.concat_str(pairs, separator=" "), "D": pl.concat_str(pairs, separator="."),
            "H": pl.concat_str(pairs, separator="-"),
        }
        exprs[key] = _template(tpl, tokens)
    ph_range = frame["_ph_range"].to_numpy()
    has = ph_range >= 0
    work = pl.DataFrame({
        "_key": country.astype(np.int64) * 100 + style,
        "_area": t.range_area.gather(np.where(has, ph_range, 0)).zip_with(
            pl.Series(has), _nulls(len(has))),
        "_sub": frame["_ph_sub"].cast(pl.String),
        "_ext": frame["_ext"],
    })
    return _render_by_key(work, "_key", exprs)


# =============================================================================================
# Public API
# =============================================================================================


def generate_leads(
    n: int,
    *,
    dup_rate: float = 0.1,
    noise: Noise = "normal",
    seed: int = 0,
    countries: Sequence[str] | Mapping[str, float] = ("US", "GB", "DE", "FR"),
    rare_names: float = RARE_NAMES,
) -> pl.DataFrame:
    """Generate ``n`` synthetic leads with known duplicates.

    Args:
        n: number of rows.
        dup_rate: share of rows that are extra records of a person already in the frame
            (``n - entity count == round(n * dup_rate)``). A person can have several extras.
        noise: "normal", or "hard" for more typos and blanks plus distinct look-alike people
            (colleagues with similar names sharing a switchboard, namesakes with near-identical
            e-mail addresses).
        seed: the same seed (and arguments) gives the same frame.
        countries: ISO codes of the people's countries (see ``SUPPORTED_COUNTRIES``), equally
            weighted, or a mapping code -> weight.
        rare_names: share of first and last names drawn from the long tail of rarer names, in
            [0, 1) (default ``RARE_NAMES``); 0 draws only the few hundred most common names of
            each language, which makes namesakes several times as common (the generator before
            2026-12-05).

    Returns:
        A frame of ``n`` rows: ``record_id``, the ``EXPORT_COLUMNS`` (strings, null = blank) and
        ``entity_id``, in random order. ``Country`` is never blank, so phones can be checked.

    Example:
        >>> generate_leads(5, seed=1).columns[:3]
        ['record_id', 'First Name', 'Last Name']
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= dup_rate < 1:
        raise ValueError(f"dup_rate must be in [0, 1), got {dup_rate}")
    if noise not in ("normal", "hard"):
        raise ValueError(f"noise must be 'normal' or 'hard', got {noise!r}")
    if not 0 <= rare_names < 1:
        raise ValueError(f"rare_names must be in [0, 1), got {rare_names}")
    weights = dict(countries) if isinstance(countries, Mapping) else dict.fromkeys(countries, 1.0)
    unknown = sorted(set(weights) - set(_COUNTRIES))
    if not weights or unknown:
        raise ValueError(f"unsupported countries {unknown}; choose from {SUPPORTED_COUNTRIES}")
    profile = _HARD if noise == "hard" else _NORMAL
    codes = list(weights)
    country_w = np.array([weights[c] for c in codes], dtype=float)
    country_w /= country_w.sum()

    width = max(7, len(str(max(n, 1))))
    if n == 0:
        return pl.DataFrame(
            {col: pl.Series([], dtype=pl.String) for col in (RECORD_ID, *EXPORT_COLUMNS, ENTITY_ID)}
        )

    rng = np.random.default_rng(seed)
    t = _build_tables(codes, rare_names)
    n_dup = min(int(round(n * dup_rate)), n - 1)
    n_base = n - n_dup

    # about 7 people per company in big files; small files (samples) look like a mix of
    # many companies, not a handful
    per_company = min(7.0, 1.5 + n_base / 2_000)
    companies = _companies(rng, t, max(3, math.ceil(n_base / per_company)), country_w)
    street, postal = _addresses(rng, t, companies["city"].to_numpy(),
                                companies["lang"].to_numpy().astype(np.int64))
    companies = companies.with_columns(street=street, postal=postal)

    # the row plan: which person each row describes, in output order. Duplicates are drawn
    # first so that the people step knows who needs a second e-mail address.
    src = rng.integers(0, n_base, n_dup)
    email_variant = _weighted(rng, n_dup, profile.email_variant)
    people = _people(rng, t, companies, n_base, profile,
                     np.unique(src[email_variant == _EV_OTHER]))
    order = rng.permutation(n)
    ent = np.concatenate([np.arange(n_base), src])[order]
    dup_rows = np.flatnonzero(order >= n_base)
    frame = _assemble(rng, t, companies, people, ent, dup_rows, profile)
    frame = _retype_duplicates(rng, companies, people, frame, ent, dup_rows,
                               email_variant[order[dup_rows] - n_base], profile)
    frame = _row_mess(rng, frame, profile)

    country = frame["_country"].to_numpy()
    cu = frame["_country_u"].to_numpy()
    names_idx = np.zeros(n, dtype=np.int64)
    name_pool, offset = [], 0
    for ci, spec in enumerate(t.countries):
        mask = country == ci
        cdf = _cdf([w for _, w in spec.names])
        names_idx[mask] = offset + np.minimum(np.searchsorted(cdf, cu[mask], side="right"),
                                              len(cdf) - 1)
        name_pool.extend(name for name, _ in spec.names)
        offset += len(spec.names)
    frame = frame.with_columns(
        Phone=_render_phones(t, frame.with_columns(
            _ext=pl.Series(rng.integers(10, 5000, n)).cast(pl.String))),
        Country=pl.Series(name_pool).gather(names_idx),
    )
    ids = (pl.int_range(1, n + 1, eager=True) + 10**width).cast(pl.String).str.slice(1)
    entity = (frame["_ent"] + 1 + 10**width).cast(pl.String).str.slice(1)
    return frame.select(
        ("R" + ids).alias(RECORD_ID),
        *EXPORT_COLUMNS,
        ("E" + entity).alias(ENTITY_ID),
    )


def write_leads(
    frame: pl.DataFrame,
    path: str | Path,
    *,
    fmt: Literal["csv", "tsv", "parquet"] = "csv",
    drop_truth: bool = True,
) -> tuple[Path, Path]:
    """Write leads to ``path`` and their ground truth beside it.

    Args:
        frame: a frame from ``generate_leads``.
        path: the lead file to write.
        fmt: "csv", "tsv" (tab-delimited) or "parquet".
        drop_truth: leave ``entity_id`` out of the lead file (``record_id`` stays, to join on).

    Returns:
        ``(lead file, truth file)``; the truth file is ``<stem>.truth.csv`` with columns
        ``record_id`` and ``entity_id``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = frame.drop(ENTITY_ID) if drop_truth and ENTITY_ID in frame.columns else frame
    if fmt == "csv":
        data.write_csv(path)
    elif fmt == "tsv":
        data.write_csv(path, separator="\t")
    elif fmt == "parquet":
        data.write_parquet(path)
    else:
        raise ValueError(f"fmt must be 'csv', 'tsv' or 'parquet', got {fmt!r}")
    truth = path.with_name(f"{path.stem}.truth.csv")
    frame.select(RECORD_ID, ENTITY_ID).write_csv(truth)
    return path, truth


def add_rare_names_option(parser: argparse.ArgumentParser) -> None:
    """The ``--rare-names`` option of every script that generates leads."""
    parser.add_argument("--rare-names", type=float, default=RARE_NAMES, metavar="SHARE",
                        help=f"share of first and last names drawn from the long tail of rarer names, "
                             f"in [0, 1) (default {RARE_NAMES}; 0: the common names only, the data "
                             f"of the benchmarks before 2026-12-05)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dup-rate", type=float, default=0.1)
    parser.add_argument("--noise", choices=("normal", "hard"), default="normal")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--countries", default="US,GB,DE,FR",
                        help=f"comma-separated, from {','.join(SUPPORTED_COUNTRIES)}")
    parser.add_argument("--format", choices=("csv", "tsv", "parquet"), default="csv")
    parser.add_argument("--keep-truth", action="store_true",
                        help="also keep entity_id in the lead file")
    add_rare_names_option(parser)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    frame = generate_leads(args.rows, dup_rate=args.dup_rate, noise=args.noise, seed=args.seed,
                           countries=[c.strip().upper() for c in args.countries.split(",")],
                           rare_names=args.rare_names)
    generated = time.perf_counter()
    out, truth = write_leads(frame, args.out, fmt=args.format, drop_truth=not args.keep_truth)
    written = time.perf_counter()
    gen_s, write_s = generated - start, written - generated
    entities = frame[ENTITY_ID].n_unique()
    print(f"generated {frame.height:,} rows ({entities:,} people, "
          f"{frame.height - entities:,} duplicates) in {gen_s:.2f} s: "
          f"{frame.height / max(gen_s, 1e-9):,.0f} rows/s")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {truth} in {write_s:.2f} s; "
          f"total {frame.height / max(gen_s + write_s, 1e-9):,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
