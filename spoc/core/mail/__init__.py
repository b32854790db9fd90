"""Mail in: the channels that take mail from outside and hand it to a
:class:`~spoc.core.kernel.mail.MailReceiver` (``imap``: fetching mailboxes)."""
