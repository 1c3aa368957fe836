"""Operating vern: configuration checks, the web server, ``vern run``, health."""
