//! tributary-consumer
