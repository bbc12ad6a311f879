//! Fields a record gains after 3.0.
//!
//! Every record that crosses the boundary ends with an `ext` field, an
//! [`Extension`] holding an optional `#[sabi_trait]` object. A trait
//! object's vtable is an abi_stable prefix type, so a minor version adds a
//! field to a record by adding a method, with a default body, to that
//! record's extension trait:
//! - a plugin built against an older minor never calls the new method, and
//!   an extension it was handed (with the newer vtable) loads and works;
//! - an extension made by an older plugin lacks the method, and the host
//!   that calls it gets the default body (abi_stable falls back to it);
//! - a record without an extension (`Extension::none()`, the default)
//!   reads as all defaults.
//!
//! The extension traits are declared with [`extension_trait!`]; each has
//! one method in 3.0, [`minor`](FetchRequestExt::minor), the minor version
//! the maker was built against.
//!
//! Extensions never take part in a record's equality: two records are
//! equal when their 3.0 fields are.

use abi_stable::{StableAbi, std_types::ROption};

/// An optional extension object of a record (see the module docs).
#[repr(transparent)]
#[derive(StableAbi)]
pub struct Extension<T>(pub ROption<T>);

impl<T> Extension<T> {
    /// No extension: every later field reads as its default.
    pub const fn none() -> Self {
        Extension(ROption::RNone)
    }

    /// An extension object.
    pub const fn some(object: T) -> Self {
        Extension(ROption::RSome(object))
    }

    /// The object, when there is one.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref().into_option()
    }

    /// Whether there is an object.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

impl<T> Default for Extension<T> {
    fn default() -> Self {
        Self::none()
    }
}

impl<T: Clone> Clone for Extension<T> {
    fn clone(&self) -> Self {
        Extension(self.0.clone())
    }
}

impl<T> PartialEq for Extension<T> {
    /// Extensions never decide equality (see the module docs).
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Extension<T> {}

impl<T> core::fmt::Debug for Extension<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Extension(..)"
        } else {
            "Extension(none)"
        })
    }
}

/// Declares a record's extension trait and its [`Extension`] alias. The
/// objects are shared (`RArc`), so records stay cheap to clone.
#[macro_export]
#[doc(hidden)]
macro_rules! extension_trait {
    ($(#[$meta:meta])* $trait_:ident, $object:ident, $alias:ident $(; $($methods:tt)*)?) => {
        $(#[$meta])*
        ///
        /// Minor versions add methods here, each with a default body that
        /// stands for "not given".
        #[abi_stable::sabi_trait]
        pub trait $trait_: Clone + Send + Sync {
            /// The plugin-api minor version the object was made with.
            #[sabi(last_prefix_field)]
            fn minor(&self) -> u32;

            $($($methods)*)?
        }

        #[doc = concat!("A record's optional [`", stringify!($trait_), "`] object.")]
        pub type $alias = $crate::Extension<$object<'static, abi_stable::std_types::RArc<()>>>;
    };
}
