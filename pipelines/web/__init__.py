"""The web page over the scoring runs (`advocacy serve`): lists, downloads, customer pages."""
