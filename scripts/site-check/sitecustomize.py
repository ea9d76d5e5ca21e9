"""Loaded (through PYTHONPATH) by the Python processes of ../shared/tools/site-check/check_site.sh.

The checker serves the site with ``python3 -m http.server``, whose listen backlog is
socketserver's default of 5. linkinator then opens up to 100 connections at once: the kernel
drops the SYNs that do not fit, the client re-sends them after 1, 3 and 7 seconds, and
linkinator's 10 s timeout reports the links as broken with status 0 although every file
exists (1,128 of 1,280 links on the sample site; 0 with this setting). This raises the backlog
to 128 and changes nothing else: the same server, the same files, the same checks.
"""

import socketserver

socketserver.TCPServer.request_queue_size = 128
