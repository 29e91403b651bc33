"""Understanding a parent's message: training data, classifier, crisis lexicon, entities."""
