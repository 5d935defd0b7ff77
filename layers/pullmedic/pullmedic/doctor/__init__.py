"""`pullmedic doctor`: is this deployment able to see its clusters and be heard? A checklist.

facts.py holds what was read, verdicts.py turns it into lines (pure), gather.py reads it
(clients injected), run.py wires them for the handler and the CLI.
"""
