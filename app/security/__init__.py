"""Everything that decides who may do what: roles, scope, login, passwords."""
