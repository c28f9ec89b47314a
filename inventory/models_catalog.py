"""Device models as files name them: the maker's name in a model string and the category a
model name suggests. Inventory owns device models, so the importers (and anything else that
reads a free-text model) ask here.

* :data:`KNOWN_MAKERS` / :func:`split_model`: ``"Lenovo 100e Chromebook Gen 3"`` →
  ``("Lenovo", "100e Chromebook Gen 3")``.
* :func:`model_category`: a ChromeOS model name → its category (Chromebook, or other for a
  Chromebox or Chromebase).
* :func:`model_key` / :func:`model_match`: which existing model a file's model is —
  ``"Macbook Pro 13\""``, ``"MacBook  Pro 13\" "`` and a row giving the model number ``a2338``
  are all the Apple ``MacBook Pro 13"`` (A2338) already here; only a model none of these find
  is new (and only district roles add models: :func:`inventory.rules.may_create_models`).
"""

from __future__ import annotations

from collections.abc import Sequence

from inventory.models import DeviceModel

__all__ = ["KNOWN_MAKERS", "model_category", "model_key", "model_match", "split_model"]

#: Manufacturer names as usually written, by their lower-case first word (Google model strings).
KNOWN_MAKERS = {
    "acer": "Acer",
    "asus": "ASUS",
    "dell": "Dell",
    "google": "Google",
    "hp": "HP",
    "lenovo": "Lenovo",
    "samsung": "Samsung",
    "ctl": "CTL",
    "apple": "Apple",
    "microsoft": "Microsoft",
}


def split_model(text: str, makers: dict[str, str] | None = None) -> tuple[str, str]:
    """A model string → (manufacturer, model name): ``"Lenovo 100e Chromebook Gen 3"`` →
    ``("Lenovo", "100e Chromebook Gen 3")``. The first word names the maker (spelled as in
    ``makers``, lower-case name → name, or :data:`KNOWN_MAKERS`); a one-word string is its
    own maker and name. ``text`` must not be blank."""
    words = text.split(None, 1)
    first = words[0]
    maker = (makers or {}).get(first.lower()) or KNOWN_MAKERS.get(first.lower()) or first
    name = words[1].strip() if len(words) > 1 else text
    return maker, name


def model_category(model: str) -> str:
    """The category of a ChromeOS device model (Google Admin's ``model``): Chromebooks, except
    Chromeboxes and Chromebases (other). A ``DeviceModel.Category`` value."""
    lowered = model.lower()
    if "chromebox" in lowered or "chromebase" in lowered:
        return DeviceModel.Category.OTHER
    return DeviceModel.Category.CHROMEBOOK


def model_key(text: str | None) -> str:
    """A model's name, model number or manufacturer as models are compared: case folded and
    every space removed (``"MacBook  Pro 13\" "`` → ``"macbookpro13\""``); ``""`` for None."""
    return "".join((text or "").casefold().split())


def model_match(models: Sequence[tuple[int, str, str]], *, name: str, model_number: str | None = None) -> int | None:
    """Which of one manufacturer's ``models`` — ``(id, name, model number)``, oldest first — a
    file's model ``name`` (with ``model_number``, or None when the file has none) is, or None
    for a new model:

    1. the model with that model number (ignoring case and spaces), when the file gives one;
    2. else the model with that name (ignoring case and spaces; ``name`` may carry the
       maker's name in front, handled by the caller) — preferring one with the same number,
       then one with no number, then the oldest. A name already here is the same model even
       under another number: the district's catalogue is kept free of near-duplicates.
    """
    number = model_key(model_number)
    if number:
        for pk, _name, other_number in models:
            if model_key(other_number) == number:
                return pk
    wanted = model_key(name)
    named = [
        (pk, model_key(other_number)) for pk, other_name, other_number in models if model_key(other_name) == wanted
    ]
    if not named:
        return None
    for pk, other_number in named:
        if other_number == number:
            return pk
    return named[0][0]
