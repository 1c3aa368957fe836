"""The append-only, hash-chained audit log: who saw or changed what."""
