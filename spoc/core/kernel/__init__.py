"""The vocabulary every layer shares: plugin-contract types, errors, the clock, calendars.

Nothing here imports another part of SPOC."""
