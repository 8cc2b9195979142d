"""One module per screen; dialogs are modal screens."""
