"""Words the readers recognise, in English and French, as folded keys (see text.fold)."""

from __future__ import annotations

from transcript.domain.text import fold


def _keys(words: str) -> frozenset[str]:
    return frozenset(fold(word) for word in words.split())


# A bare label naming the moderator the transcript introduced.
MODERATOR_WORDS = _keys("moderator moderatrice modérateur modératrice host animateur animatrice")
# A bare label naming the (unnamed) person asking: all questioners are one speaker.
QUESTION_WORDS = _keys("question questions q journalist journaliste reporter")

# Words that make up titles and roles; never a given name or a surname.
TITLE_WORDS = _keys(
    """
    nato otan secretary secretary-general general deputy assistant president vice-president
    vice prime minister chancellor chairman chairwoman chair chairperson senator congressman
    congresswoman representative ambassador foreign defence defense affairs commander
    supreme allied admiral lieutenant colonel major captain brigadier marshal chief staff
    spokesperson spokesman spokeswoman dr dr. mr mr. mrs mrs. ms ms. sir dame lord lady madam
    mister excellency majesty king queen prince princess h.e. hon hon. honourable honorable
    european commission commissioner parliament council high us u.s. uk u.k. eu un head state
    government director director-general executive under military committee member mp mep
    governor mayor secrétaire secrétaire-général générale président présidente ministre
    premier première adjoint adjointe délégué déléguée ambassadeur ambassadrice commandant
    suprême allié alliés chef porte-parole sénateur sénatrice étrangères défense armées m.
    mme monsieur madame excellence haut haute représentant représentante vice-présidente
    chancelier chancelière parlement européen européenne conseil directeur directrice
    directeur-général comité militaire député députée gouverneur maire
    """
)

# Lowercase words allowed inside a title ("Minister of Defence", "Secrétaire général de l'OTAN").
TITLE_CONNECTORS = _keys("of the for on de du des la le les d' l' à aux en pour")

# Lowercase words inside a personal name ("Ursula von der Leyen").
NAME_PARTICLES = _keys("von van der den de da di du del della le la bin ibn al el ter ten dos das")

# Capitalised words that start lines of speech like "Step One: the money." and are never part
# of a person's name: a "Word Word:" label holding one is not taken as a speaker on its own.
NOT_NAME_WORDS = _keys(
    """
    one two three four five six seven eight nine ten first second third fourth fifth last
    next final step part phase point chapter section day week month year item option rule
    lesson key bottom line breaking news note update number example answer reply response
    summary conclusion introduction agenda topic subject title source date time place
    location venue event live watch read more good morning afternoon evening thank thanks
    un une deux trois quatre cinq premier première deuxième troisième dernier dernière étape
    partie chapitre jour semaine mois année remarque réponse résumé sujet lieu bonjour bonsoir
    merci
    """
)

# Characters after which a short line is a sentence, never a heading.
SENTENCE_END = frozenset(".?!…;,\"'”’»")
