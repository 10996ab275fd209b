"""Emotion -> class maps of the class setups in use (docs/datasets.md).

A class setup is one of

* ``'raw'``    -- every emotion of the corpus' annotation vocabulary is a class;
* ``'paper4'`` -- the AKMNet paper's classes: positive / negative / surprise /
  others (SMIC: positive / negative / surprise);
* ``'std5'``   -- the standard 5 classes of CASME II (happiness, surprise,
  disgust, repression, others) or SAMM (anger, contempt, happiness,
  surprise, others);
* ``'megc3'``  -- the MEGC2019 composite's negative / positive / surprise;
* a ``dict`` mapping emotion -> class name (``None`` drops the emotion);
  classes are ordered by first appearance among the dict's values.

Emotions are compared after :func:`canonical_emotion` (case, spaces and a few
spelling variants such as ``Other``/``others``, ``happy``/``happiness``).
An emotion that maps to no class is *excluded* (reported by the dataset);
an emotion outside the corpus' vocabulary is a bad sample (error or skip).
"""
from typing import Dict, Optional, Tuple, Union

_SYNONYMS = {
    'other': 'others',
    'happy': 'happiness',
    'sad': 'sadness',
    'angry': 'anger',
    'surprised': 'surprise',
    'disgusted': 'disgust',
    'fearful': 'fear',
    'repressed': 'repression',
    'pos': 'positive',
    'neg': 'negative',
    'sur': 'surprise',
}

# Annotation vocabularies (canonical names), in a fixed order: the 'raw'
# class order. Fixed per corpus so every LOSO fold gets the same labels.
VOCABULARIES: Dict[str, Tuple[str, ...]] = {
    'casme2': ('happiness', 'disgust', 'repression', 'surprise', 'sadness',
               'fear', 'others'),
    'synthetic': ('happiness', 'disgust', 'repression', 'surprise',
                  'sadness', 'fear', 'others'),
    'samm': ('anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness',
             'surprise', 'others'),
    'smic': ('positive', 'negative', 'surprise'),
    'casme1': ('happiness', 'disgust', 'repression', 'surprise', 'sadness',
               'fear', 'tense', 'contempt'),
    'casme3': ('happiness', 'disgust', 'fear', 'surprise', 'anger',
               'sadness', 'others'),
    # macro-expression image corpora, in the order of their label codes
    # (AffectNet 0-10, RAF-DB basic 1-7, FER2013 0-6)
    'affectnet': ('neutral', 'happiness', 'sadness', 'surprise', 'fear',
                  'disgust', 'anger', 'contempt', 'none', 'uncertain',
                  'no-face'),
    'rafdb': ('surprise', 'fear', 'disgust', 'happiness', 'sadness',
              'anger', 'neutral'),
    'fer2013': ('anger', 'disgust', 'fear', 'happiness', 'sadness',
                'surprise', 'neutral'),
}

PAPER4_CLASSES = ('positive', 'negative', 'surprise', 'others')
_PAPER4 = {
    'happiness': 'positive', 'positive': 'positive',
    'disgust': 'negative', 'sadness': 'negative', 'contempt': 'negative',
    'anger': 'negative', 'fear': 'negative', 'negative': 'negative',
    'surprise': 'surprise',
    'tense': 'others', 'repression': 'others', 'others': 'others',
    'neutral': 'others',  # macro-expression corpora (AffectNet, ...)
}

STD5 = {
    'casme2': ('happiness', 'surprise', 'disgust', 'repression', 'others'),
    'synthetic': ('happiness', 'surprise', 'disgust', 'repression',
                  'others'),
    'samm': ('anger', 'contempt', 'happiness', 'surprise', 'others'),
}

MEGC3_CLASSES = ('negative', 'positive', 'surprise')
_MEGC3 = {
    'casme2': {'happiness': 'positive', 'disgust': 'negative',
               'repression': 'negative', 'surprise': 'surprise'},
    'samm': {'happiness': 'positive', 'anger': 'negative',
             'contempt': 'negative', 'disgust': 'negative',
             'fear': 'negative', 'sadness': 'negative',
             'surprise': 'surprise'},
    'smic': {'positive': 'positive', 'negative': 'negative',
             'surprise': 'surprise'},
}
_MEGC3['synthetic'] = _MEGC3['casme2']

ClassSetup = Union[str, Dict[str, Optional[str]]]


def canonical_emotion(emotion) -> str:
    """Lower-case, trimmed emotion name with spelling variants unified."""
    name = ' '.join(str(emotion).strip().lower().split())
    return _SYNONYMS.get(name, name)


def resolve_class_setup(
        class_setup: ClassSetup, corpus: str,
        vocabulary: Optional[Tuple[str, ...]] = None
) -> Tuple[Tuple[str, ...], Dict[str, Optional[str]]]:
    """Classes and the emotion -> class map of a class setup for a corpus.

    Args:
        class_setup: ``'raw'``, ``'paper4'``, ``'std5'``, ``'megc3'`` or a
            dict emotion -> class name (or None to drop).
        corpus: corpus name (``'casme2'``, ``'samm'``, ...).
        vocabulary: the corpus' canonical emotion vocabulary; defaults to
            :data:`VOCABULARIES` [corpus].

    Returns:
        (classes, mapping): mapping has every vocabulary emotion as key and
        the class name (or None: excluded) as value.
    """
    if vocabulary is None:
        if corpus not in VOCABULARIES:
            raise ValueError(f'no emotion vocabulary known for corpus '
                             f'{corpus!r}')
        vocabulary = VOCABULARIES[corpus]
    vocabulary = tuple(vocabulary)
    if isinstance(class_setup, dict):
        mapping = {canonical_emotion(k): (None if v is None else str(v))
                   for k, v in class_setup.items()}
        classes = []
        for v in mapping.values():
            if v is not None and v not in classes:
                classes.append(v)
        full = {e: mapping.get(e) for e in vocabulary}
        # emotions named in the dict but absent from the vocabulary are
        # accepted too (user-extended vocabularies)
        for e, v in mapping.items():
            full.setdefault(e, v)
        return tuple(classes), full
    if not isinstance(class_setup, str):
        raise TypeError(f'class_setup must be a str or dict, got '
                        f'{type(class_setup).__name__}')
    if class_setup == 'raw':
        return vocabulary, {e: e for e in vocabulary}
    if class_setup == 'paper4':
        classes = PAPER4_CLASSES
        if corpus == 'smic':
            classes = ('positive', 'negative', 'surprise')
        return classes, {e: _PAPER4.get(e) for e in vocabulary}
    if class_setup == 'std5':
        if corpus not in STD5:
            raise ValueError(f"class_setup 'std5' is defined for "
                             f'{sorted(STD5)} only, not {corpus!r}')
        classes = STD5[corpus]
        return classes, {e: (e if e in classes else None) for e in vocabulary}
    if class_setup == 'megc3':
        if corpus not in _MEGC3:
            raise ValueError(f"class_setup 'megc3' is defined for "
                             f'{sorted(_MEGC3)} only, not {corpus!r}')
        table = _MEGC3[corpus]
        return MEGC3_CLASSES, {e: table.get(e) for e in vocabulary}
    raise ValueError(f'unknown class_setup {class_setup!r}; expected '
                     "'raw', 'paper4', 'std5', 'megc3' or a dict")
