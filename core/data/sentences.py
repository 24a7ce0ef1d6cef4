"""English sentences for synthetic training speech, made from Parley's own word lists and templates.

Everyday words in simple grammatical frames, so that festival, flite and espeak-ng read them with a sentence's
rhythm; every English phone occurs in many neighbours. Deterministic for a seed. The closure benchmark's sentences
(``benchmarks/bench_closures.py``) are never produced: ``make_sentences`` drops any that happens to equal one.
"""

from __future__ import annotations

import numpy as np

_NAMES = ("Anna Ben Carla David Emma Frank Grace Henry Isabel Jack Kate Leo Maria Nick Olivia Paul Quinn Rosa Sam "
          "Tina Umar Vera Walter Yusuf Zoe Bob Pam Tom Molly Bill Peggy Martin Bruno Amber Mabel Robin Philip "
          "Barbara Hamish Moira").split()
_NOUNS = ("apple arm baby bag ball bank basket bath beach bear bed bell bench bike bird boat book boot bottle bowl "
          "box boy bread bridge brother brush bucket butter button cake camera candle car card carpet cat chair "
          "cheese chicken child church city clock cloud coat coffee corner cow cup curtain desk dog door dragon "
          "dream drum duck egg elbow engine eye face farm father feather fence field finger fire fish flag floor "
          "flower fork fox friend frog garden gate girl glass glove goat grape grass guitar hair hammer hand hat "
          "heart hill horse house island jacket jar key kitchen kite knife ladder lake lamp leaf letter lion lip "
          "machine map market meadow milk mirror monkey moon morning mother mountain mouse mouth museum music nail "
          "needle nest night nose ocean office onion orange owl page paint palace pan paper park party pear pen "
          "pencil pepper piano picture pie pig pillow pipe plane plate pocket pond potato pumpkin puppy queen "
          "rabbit radio rain ribbon river road robot rock roof room rope rose sail salt sand school sea seed shadow "
          "sheep shell ship shirt shoe shop shoulder sister sky snake snow soap sock soup spoon star station stone "
          "storm street sugar summer sun sweater table tail teacher tent thumb ticket tiger toe tomato tooth towel "
          "tower town toy train tree truck umbrella valley van village violin voice wagon wall watch water whale "
          "wheel window winter wolf woman word world yard zebra").split()
_ADJ = ("angry big black blue bold brave bright broken brown busy calm careful cheap clean clever cold cool curly "
        "damp dark deep dirty dry dusty early easy empty famous fancy fast fat fine flat fresh friendly full funny "
        "gentle giant glad gold good great green grey happy hard heavy huge hungry icy kind large late lazy light "
        "little long loud lucky mad modern muddy narrow neat new nice noisy odd old open orange pale perfect pink "
        "plain polite poor proud purple quick quiet rare red rich rough round royal rusty sad salty sharp shiny "
        "short shy silly silver simple sleepy slow small smooth soft sour spicy square strange strong sunny sweet "
        "tall tiny tired warm wet white wide wild wise wooden yellow young").split()
_VERBS = ("bought brought built carried caught chased cleaned climbed closed cooked counted covered crossed "
          "dropped enjoyed fixed followed found grabbed held helped hid kicked kept knew liked lost loved made "
          "mended moved needed opened packed painted passed picked played pulled pushed raised reached sold saw "
          "sent shared showed signed smelled stopped tasted taught threw touched turned used visited wanted "
          "washed watched wore wrapped wrote").split()
_INTRANS = ("arrived laughed smiled waited jumped danced slept sang cried shouted whispered walked ran swam "
            "worked played listened argued paused sighed yawned nodded stumbled hurried wandered").split()
_ADV = ("again always badly briefly calmly carefully early easily finally gently gladly happily honestly kindly "
        "later loudly madly nearly never often politely quickly quietly rarely really slowly softly soon today "
        "together tomorrow warmly yesterday").split()
_PREP = "above across after against along among around at before behind below beside by from in into near on over past through to under with without".split()  # noqa: E501
_PLACES = ("Boston Paris Berlin Madrid London Tokyo Bombay Memphis Oklahoma Brazil Mexico Chicago Denver Dublin "
           "Lisbon Moscow Vienna Budapest Bangkok Cairo Oslo Prague Rome Sydney Toronto").split()
_TEMPLATES = (
    "{N} {V} the {a} {n} {p} the {n2}.",
    "The {a} {n} {I} {d}.",
    "Did {N} really {vb} the {n} in {P}?",
    "My {n} and your {n2} {I} {p} the {a} {n3}.",
    "Please put the {a} {n} {p} the {n2} before {N} comes back.",
    "We {V} a {a} {n} and a {a2} {n2} at the {n3}.",
    "{N} said the {n} was too {a} for the {n2}.",
    "Why is the {n} so {a} this {t}?",
    "After the {n}, {N} {I} {d} and went home.",
    "There was a {a} {n} {p} every {n2} in {P}.",
    "I think {N} {V} {num} {n}s {p} the {n2}.",
    "How many {a} {n}s can a {n2} carry?",
    "{N} and {N2} {V} the {n} {d}.",
    "The {n} from {P} {I} {p} the {a} {n2}.",
    "Never leave a {a} {n} {p} the {n2}.",
    "Is it true that the {n} {I} {d}?",
    "Oh no, the {a} {n} {V} my {n2}!",
    "Bring me {num} {a} {n}s and one {n2}, please.",
    "What a {a} {n} you have, {N}.",
    "When the {n} {I}, everyone {I2} {d}.",
)
_TIMES = "morning afternoon evening week month year summer winter spring".split()
_NUMS = "two three four five six seven eight nine ten twelve twenty forty".split()


_BASE = ("buy bring build carry catch chase clean climb close cook count cover cross drop enjoy fix follow find grab "
         "hold help hide kick keep like lose love make mend move need open pack paint pass pick play pull push raise "
         "reach sell see send share show sign smell stop taste teach throw touch turn use visit want wash watch wear "
         "wrap write").split()


def make_sentences(n: int, seed: int = 0, exclude: frozenset[str] = frozenset()) -> list[str]:
    """``n`` distinct sentences (deterministic for ``seed``), none equal to a sentence in ``exclude``."""
    rng = np.random.default_rng(seed)
    pick = lambda seq: str(seq[int(rng.integers(len(seq)))])  # noqa: E731
    out: list[str] = []
    seen = {s.lower() for s in exclude}
    while len(out) < n:
        t = pick(_TEMPLATES)
        s = t.format(N=pick(_NAMES), N2=pick(_NAMES), V=pick(_VERBS), vb=pick(_BASE), I=pick(_INTRANS),
                     I2=pick(_INTRANS), a=pick(_ADJ), a2=pick(_ADJ), n=pick(_NOUNS), n2=pick(_NOUNS),
                     n3=pick(_NOUNS), p=pick(_PREP), d=pick(_ADV), P=pick(_PLACES), t=pick(_TIMES),
                     num=pick(_NUMS))
        if s.lower() not in seen:
            seen.add(s.lower())
            out.append(s)
    return out
