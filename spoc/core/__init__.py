"""The SPOC core: lifecycle, routing, storage, plugin manager, web and CLI."""
