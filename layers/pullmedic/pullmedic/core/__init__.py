"""The vocabulary every stage speaks: findings, causes, image references, limits, redaction, the codec,
settings. Pure: imports no other stage."""
