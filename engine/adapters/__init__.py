"""The edges: smtp, imap, pop3, store, clock, secrets. Library errors become engine errors here."""
