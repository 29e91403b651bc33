"""Storage: SQLAlchemy models, the repository, field encryption, retention and registration."""
