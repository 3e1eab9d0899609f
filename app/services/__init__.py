"""Operations: validate, then run in one transaction. Views and APIs stay thin."""
