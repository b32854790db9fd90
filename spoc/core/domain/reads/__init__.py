"""Read models: what the console, the portal and the API list and show, defined once."""
