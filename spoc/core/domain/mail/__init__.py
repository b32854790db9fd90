"""The mail channel's domain: reading inbound mail, threading it, landing it on its request."""
