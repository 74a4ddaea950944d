use tributary_events::v2::ContentStrategy::{GitReference as Git, Inline, ObjectStorage as Object};

use super::*;

const ALL: Availability = Availability {
    store_configured: true,
    git_reference: true,
};

#[test]
fn auto_mode_follows_size_then_availability() {
    let limit = 100 * 1024;
    assert_eq!(
        preferences(StrategyMode::Auto, 10, limit, ALL),
        vec![Inline, Object, Git]
    );
    assert_eq!(
        preferences(StrategyMode::Auto, limit, limit, ALL),
        vec![Inline, Object, Git]
    );
    assert_eq!(
        preferences(StrategyMode::Auto, limit + 1, limit, ALL),
        vec![Object, Inline, Git]
    );
    let no_store = Availability {
        store_configured: false,
        git_reference: true,
    };
    assert_eq!(
        preferences(StrategyMode::Auto, limit + 1, limit, no_store),
        vec![Git]
    );
    let nothing = Availability {
        store_configured: false,
        git_reference: false,
    };
    assert!(preferences(StrategyMode::Auto, limit + 1, limit, nothing).is_empty());
    assert_eq!(
        preferences(StrategyMode::Auto, 1, limit, nothing),
        vec![Inline]
    );
}

#[test]
fn forced_modes() {
    assert_eq!(
        preferences(StrategyMode::Inline, 10 << 20, 1, ALL),
        vec![Inline, Object, Git]
    );
    assert_eq!(
        preferences(StrategyMode::ObjectStorage, 1, 1 << 20, ALL),
        vec![Object, Inline]
    );
    // git references first; the bytes at hand only when git is not available
    assert_eq!(
        preferences(StrategyMode::GitReference, 1, 1 << 20, ALL),
        vec![Git, Object, Inline]
    );
    let no_git = Availability {
        store_configured: true,
        git_reference: false,
    };
    assert_eq!(
        preferences(StrategyMode::GitReference, 1, 1 << 20, no_git),
        vec![Object, Inline]
    );
    let nothing_but_inline = Availability {
        store_configured: false,
        git_reference: false,
    };
    assert_eq!(
        preferences(StrategyMode::GitReference, 1, 1 << 20, nothing_but_inline),
        vec![Inline]
    );
}
