"""Where the scripts that edit a shipped model's card (ship_model.py, set_change_blur.py,
calibrate_strength.py) find it, and how they write it back."""
import json
import os

MODELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models")


def card_path(name):
    """models/NAME.card.json"""
    return os.path.join(MODELS, name + ".card.json")


def write_card(path, card):
    # The keys keep the order they were read in, so an edit's diff shows only what it changed.
    with open(path, "w") as f:
        f.write(json.dumps(card, indent=2))
