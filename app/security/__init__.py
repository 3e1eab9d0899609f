"""Everything that decides who may do what: roles, scope (rows), ownership (jobs, files),
login, passwords."""
