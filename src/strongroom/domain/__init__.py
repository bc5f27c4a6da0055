"""Pure rules of Strongroom: no IO, no clock, no framework imports."""
