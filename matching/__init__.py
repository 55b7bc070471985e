"""Linking SMARTS facilities to eSMR facilities: scoring, decisions, the current link set."""
