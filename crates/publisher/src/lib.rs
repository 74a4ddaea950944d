//! tributary-publisher
