//! tributary-intel
