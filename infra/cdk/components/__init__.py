"""One construct per concern of the seed's infrastructure design."""
