"""Staff accounts: passwords, sessions, two-factor codes, API tokens and single sign-on."""
