"""Background work: jobs stored in the database, run by ``vern worker``."""
