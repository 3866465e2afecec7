//! Producer and consumer configs: kafkasim's validation against Kafka's config classes.
