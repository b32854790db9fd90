"""The mail channel's servers: LMTP/SMTP delivery in (``spoc mail serve``), IMAP polling."""
