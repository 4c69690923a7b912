"""Pure rules and state: no sockets, threads, files or clock reads."""
