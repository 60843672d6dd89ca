"""AdRemix: remix existing ad creatives into new ones."""
