"""Latin words to render. The Chinese PP-OCR rec model's character list holds ASCII letters and digits, and
DejaVu draws them, so no CJK font is needed."""
from __future__ import annotations

import numpy as np

VOCABULARY = tuple("""
able about above across after again against almost along already also always among another answer any area
around away back base became because become before began begin behind being below best better between big
black body book both bring brought build built business call came can carry case cause center change city
class clear close cold come common company complete could country course cover cross current dark data day
deep design develop different direction distance done door down draw during early earth east easy edge end
energy enough even every example face fact family far fast field figure final find fire first fish five
follow food force form found four free friend front full game garden general give good great green ground
group grow half hand happen hard head hear heart heavy help here high hold home horse hour house idea image
inside island just keep kind king land large last late learn leave left letter level light line list little
live long look machine made main make many mark matter mean measure might mind model money month more morning
most mother mountain move much music name near need never next night north nothing notice number object ocean
office often open order other outside over page paper part pattern people perhaps picture piece place plain
plan plant point power press problem product question quick quite rain reach read ready record region remember
report rest result river road rock room round rule science second section see self sentence serve service
several shape short should show side simple since size small snow social sound south space special speed
spring stand start state step still stone story street strong study such summer surface system table take
talk test than that their there these thing think those though thought three through time today together
top toward town travel tree true turn under unit until upon usual valley value very voice wait walk warm
watch water wave weather week weight well west where which while white whole wind window winter within
without wonder word work world would write year young zone
""".split())


def styled(word: str, rng: np.random.Generator) -> str:
    """Lower, Title or UPPER case, as words appear in documents."""
    return (word, word.capitalize(), word.upper())[rng.choice(3, p=(0.5, 0.35, 0.15))]


def number(rng: np.random.Generator) -> str:
    return str(int(rng.integers(0, 10 ** int(rng.integers(1, 6)))))


def token(rng: np.random.Generator) -> str:
    """A word (styled) or, one time in eight, a number."""
    return number(rng) if rng.random() < 0.125 else styled(str(rng.choice(VOCABULARY)), rng)


def phrase(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(token(rng) for _ in range(n_words))
