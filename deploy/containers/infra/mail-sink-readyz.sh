#!/bin/sh
# `/mailpit readyz`: ready when the SMTP port answers.
exec python3 -c 'import socket; socket.create_connection(("127.0.0.1", 1025), timeout=3).close()'
