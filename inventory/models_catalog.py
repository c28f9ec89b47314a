"""Device models as files name them: the maker's name in a model string and the category a
model name suggests. Inventory owns device models, so the importers (and anything else that
reads a free-text model) ask here.

* :data:`KNOWN_MAKERS` / :func:`split_model`: ``"Lenovo 100e Chromebook Gen 3"`` →
  ``("Lenovo", "100e Chromebook Gen 3")``.
* :func:`model_category`: a ChromeOS model name → its category (Chromebook, or other for a
  Chromebox or Chromebase).
"""

from __future__ import annotations

from inventory.models import DeviceModel

__all__ = ["KNOWN_MAKERS", "model_category", "split_model"]

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
