"""Larger sections a page is assembled from (the reflex templates' `views/`)."""
